/**
 * @module gateway/decision-line — the gateway's two per-connection log records (`decision`, and
 * `tunnel closed` / `request closed`) written as JSON lines straight to the pino logger's own
 * destination. Both have a fixed shape, so each line is built field by field instead of by pino's
 * generic serialiser (a loop over every key with a type switch, twice per tunnel): same level,
 * time, bindings, fields, types and message, one line per record, same destination (so the
 * decision-log file keeps its buffering and rotation). A logger this cannot render identically
 * (a mixin, hooks, a message prefix, a nested key, a multistream, a serialiser or formatter that
 * changes these fields) is detected when the writer is created and gets every record through
 * `logger.info` instead.
 */
import { isDeepStrictEqual } from 'node:util';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { IdentitySource } from '../identity/index.js';
import type { GrantRef } from '../policy-types/index.js';

export type Protocol = 'connect' | 'http';

/** The decision log line, filled as the request goes. */
export interface LogEntry {
  decisionId: string;
  /** Decision time (the injected clock); pino's own `time` is when the line was written. */
  at: string;
  identity?: string;
  identitySource?: IdentitySource;
  src: string;
  protocol: Protocol;
  host?: string;
  ip?: string;
  port?: number;
  sni?: string;
  decision?: 'allow' | 'deny' | 'would-deny' | 'unauthenticated' | 'limit' | 'error';
  mode?: string;
  reason?: string;
  /** `file:line` of the rule shown. */
  policy?: string;
  policyName?: string;
  ruleId?: string;
  securityGroupRuleId?: string;
  /** The snapshot that decided (policy generation or bundle version, store revision). */
  snapshot?: string;
  guardrail?: string;
  evalNs?: number;
  connectMs?: number;
  status?: number;
  /** Plain HTTP: the request went over an idle upstream connection kept from an earlier one. */
  reused?: boolean;
  /** Plain HTTP: the protocol the client asked to switch to (`Upgrade`). */
  upgrade?: string;
  /** The exception or break-glass session that allowed it (ID, kind, requester, approver, reason, expiry). */
  grant?: GrantRef;
}

/** The line written when a tunnel or a plain-HTTP exchange ends. */
export interface ClosedRecord {
  readonly decisionId: string;
  readonly identity: string | undefined;
  /** Why it ended (`closed`, `client-reset`, `complete`, `upstream-error ECONNRESET`…). */
  readonly close: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
}

export type ClosedMessage = 'tunnel closed' | 'request closed';

/** Writes the decision log's per-connection records at level info. */
export interface DecisionLines {
  decision(entry: LogEntry): void;
  closed(msg: ClosedMessage, record: ClosedRecord): void;
  /** Whether records skip pino's serialiser (false: the logger needs `logger.info`). */
  readonly direct: boolean;
}

const q = JSON.stringify;
/** A number as pino writes one: non-finite as `null`. */
const num = (n: number): string => (Number.isFinite(n) ? `${n}` : 'null');

/** The fields of a decision record, each after a comma, in a fixed order. */
export function decisionFields(e: LogEntry): string {
  let s = `,"decisionId":${q(e.decisionId)},"at":${q(e.at)}`;
  if (e.identity !== undefined) s += `,"identity":${q(e.identity)}`;
  if (e.identitySource !== undefined) s += `,"identitySource":${q(e.identitySource)}`;
  s += `,"src":${q(e.src)},"protocol":${q(e.protocol)}`;
  if (e.host !== undefined) s += `,"host":${q(e.host)}`;
  if (e.ip !== undefined) s += `,"ip":${q(e.ip)}`;
  if (e.port !== undefined) s += `,"port":${num(e.port)}`;
  if (e.sni !== undefined) s += `,"sni":${q(e.sni)}`;
  if (e.decision !== undefined) s += `,"decision":${q(e.decision)}`;
  if (e.mode !== undefined) s += `,"mode":${q(e.mode)}`;
  if (e.reason !== undefined) s += `,"reason":${q(e.reason)}`;
  if (e.policy !== undefined) s += `,"policy":${q(e.policy)}`;
  if (e.policyName !== undefined) s += `,"policyName":${q(e.policyName)}`;
  if (e.ruleId !== undefined) s += `,"ruleId":${q(e.ruleId)}`;
  if (e.securityGroupRuleId !== undefined) s += `,"securityGroupRuleId":${q(e.securityGroupRuleId)}`;
  if (e.snapshot !== undefined) s += `,"snapshot":${q(e.snapshot)}`;
  if (e.guardrail !== undefined) s += `,"guardrail":${q(e.guardrail)}`;
  if (e.evalNs !== undefined) s += `,"evalNs":${num(e.evalNs)}`;
  if (e.connectMs !== undefined) s += `,"connectMs":${num(e.connectMs)}`;
  if (e.status !== undefined) s += `,"status":${num(e.status)}`;
  if (e.reused !== undefined) s += `,"reused":${e.reused ? 'true' : 'false'}`;
  if (e.upgrade !== undefined) s += `,"upgrade":${q(e.upgrade)}`;
  // A frozen object of strings only, built by the engine: JSON.stringify renders it as pino does.
  if (e.grant !== undefined) s += `,"grant":${q(e.grant)}`;
  return s;
}

/** The fields of a closed record, each after a comma. */
export function closedFields(r: ClosedRecord): string {
  return (
    `,"decisionId":${q(r.decisionId)}${r.identity !== undefined ? `,"identity":${q(r.identity)}` : ''}` +
    `,"close":${q(r.close)},"bytesIn":${num(r.bytesIn)},"bytesOut":${num(r.bytesOut)},` +
    `"durationMs":${num(r.durationMs)}`
  );
}

/** What of pino's logger state the direct writer reads (pino's exported symbols). */
interface PinoInternals {
  readonly levels: { readonly values: Record<string, number> };
  isLevelEnabled(level: string): boolean;
  [key: symbol]: unknown;
}

/** Every field set, with strings that need escaping: the shape the logger must render alike. */
const PROBE_ENTRY: Required<LogEntry> = {
  decisionId: 'd-1',
  at: '2026-01-02T03:04:05.006Z',
  identity: 'spiffe://probe/"quoted"\\back\u0001',
  identitySource: 'token',
  src: '127.0.0.1:1',
  protocol: 'connect',
  host: 'example.com',
  ip: '192.0.2.1',
  port: 443,
  sni: 'example.com',
  decision: 'allow',
  mode: 'enforce',
  reason: 'matched',
  policy: 'p.yaml:3',
  policyName: 'p',
  ruleId: 'r',
  securityGroupRuleId: 'sgr-1',
  snapshot: 's',
  guardrail: '127.0.0.0/8 loopback',
  evalNs: 1234,
  connectMs: 0.5,
  status: 403,
  reused: false,
  upgrade: 'websocket',
  grant: {
    kind: 'exception',
    id: 'exc-"1"',
    requester: 'dev@example.com',
    approver: 'lead@example.com',
    reason: 'a "quoted"\\ reason\u0002',
    expires: '2026-01-02T03:04:05.006Z',
  },
};
const PROBE_CLOSED: ClosedRecord = {
  decisionId: 'd-1',
  identity: 'spiffe://probe/x',
  close: 'closed',
  bytesIn: 1,
  bytesOut: 2,
  durationMs: 3,
};

/**
 * The writer for `logger`: direct when the logger is a plain pino logger that renders both
 * records exactly as the direct writer does (checked here, once, against pino's own rendering),
 * else through `logger.info`.
 */
export function createDecisionLines(logger: Logger): DecisionLines {
  const viaPino: DecisionLines = {
    decision: (entry) => logger.info(entry, 'decision'),
    closed: (msg, record) => logger.info(record, msg),
    direct: false,
  };
  const l = logger as unknown as PinoInternals;
  const s = pino.symbols;
  const infoLevel = l.levels?.values?.info;
  const stream = l[s.streamSym] as { write?: unknown; [key: symbol]: unknown } | undefined;
  const hooks = l[s.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const levelPrefix =
    infoLevel === undefined ? undefined : (l[s.lsCacheSym] as Record<number, string>)?.[infoLevel];
  if (
    infoLevel === undefined ||
    typeof levelPrefix !== 'string' ||
    typeof l[s.asJsonSym] !== 'function' ||
    typeof l[s.timeSym] !== 'function' ||
    typeof l[s.endSym] !== 'string' ||
    typeof stream?.write !== 'function' ||
    // A multistream reads each record's level and object from these, which only pino sets.
    stream[s.needsMetadataGsym] === true ||
    l[s.mixinSym] !== undefined ||
    typeof hooks?.logMethod === 'function' ||
    typeof hooks?.streamWrite === 'function' ||
    typeof (logger as { msgPrefix?: unknown }).msgPrefix === 'string' ||
    typeof l[s.nestedKeySym] === 'string'
  ) {
    return viaPino;
  }
  const messageKey = l[s.messageKeySym] as string;
  const tail = (msg: string): string => `,${q(messageKey)}:${q(msg)}${l[s.endSym] as string}`;
  const decisionTail = tail('decision');
  const closedTails: Record<ClosedMessage, string> = {
    'tunnel closed': tail('tunnel closed'),
    'request closed': tail('request closed'),
  };
  const head = (time: string): string => `${levelPrefix}${time}${l[s.chindingsSym] as string}`;

  // Hold the direct rendering to pino's own for one record of each kind, every field set.
  const asJson = l[s.asJsonSym] as (obj: object, msg: string, level: number, time: string) => string;
  const probeTime = ',"time":0';
  const same = (ours: string, pinos: string): boolean => {
    try {
      return ours.split('\n').length === 2 && isDeepStrictEqual(JSON.parse(ours), JSON.parse(pinos));
    } catch {
      return false;
    }
  };
  if (
    !same(
      head(probeTime) + decisionFields(PROBE_ENTRY) + decisionTail,
      asJson.call(logger, { ...PROBE_ENTRY }, 'decision', infoLevel, probeTime),
    ) ||
    !same(
      head(probeTime) + closedFields(PROBE_CLOSED) + closedTails['tunnel closed'],
      asJson.call(logger, { ...PROBE_CLOSED }, 'tunnel closed', infoLevel, probeTime),
    )
  ) {
    return viaPino;
  }

  const now = l[s.timeSym] as () => string;
  const write = (line: string): void => {
    (l[s.streamSym] as { write(line: string): void }).write(line);
  };
  return {
    decision(entry) {
      if (!l.isLevelEnabled('info')) return;
      write(head(now.call(logger)) + decisionFields(entry) + decisionTail);
    },
    closed(msg, record) {
      if (!l.isLevelEnabled('info')) return;
      write(head(now.call(logger)) + closedFields(record) + closedTails[msg]);
    },
    direct: true,
  };
}
