/**
 * @module gateway/proxy/refusals — the gateway's refusals before any upstream byte: what each
 * is (status, `Weir-Reason`, text), the checks of a request's form that produce some (too many
 * header fields, two Host headers, a head Node's parser refused), the answer's `Weir-*` headers,
 * its decision line, and the answer itself, on a raw socket or through Node's response.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { denialAdvice, MAX_TEMPLATE_IDENTITY, printable, shellWord } from '../../model/index.js';
import type { DenialAdvice, DeniedTarget } from '../../model/index.js';
import type { Decision, DecisionReason } from '../../engine/index.js';
import type { LogEntry } from '../decision-line.js';
import type { GatewayContext, RequestHead } from './context.js';

/** A refusal before any upstream byte: status, `Weir-Reason`, text. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly text: string;
  readonly decision?: Decision;
  /** For a policy denial: the destination as decided, for the template the body prints. */
  readonly target?: DeniedTarget;
  /** Extra answer headers; a list is sent as one field line per value (`Proxy-Authenticate`). */
  readonly headers?: Record<string, string | readonly string[]>;
}

/** Whether a result is a refusal (rather than addresses, a socket, a release or an admission). */
export function isRefusal(v: unknown): v is Refusal {
  return typeof v === 'object' && v !== null && 'status' in v && 'reason' in v;
}

/** 431 when the head has more fields than allowed. */
export function headerCount(req: RequestHead, maxHeadersCount: number): Refusal | undefined {
  if (req.rawHeaders.length / 2 <= maxHeadersCount) return undefined;
  return {
    status: 431,
    reason: 'too-many-headers',
    text: `More than ${maxHeadersCount} header fields.`,
  };
}

/**
 * 400 for a head Node's parser accepts but hops can read differently: more than one Host (Node
 * keeps the first, a server behind another proxy may use the last). Node's parser itself refuses
 * the other smuggling spellings (see `parserRefusal`).
 */
export function ambiguousHead(req: RequestHead): Refusal | undefined {
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] ?? '';
    if (k.length === 4 && k.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) {
    return { status: 400, reason: 'invalid-request', text: 'More than one Host header: send exactly one.' };
  }
  return undefined;
}

/**
 * The refusal of a request head Node's parser refused (`clientError` with an `HPE_*` code or a
 * request timeout): 431 for an oversized head, 408 for a slow one, 400 with the parser's code for
 * the rest (both Content-Length and Transfer-Encoding, two Content-Lengths, a Transfer-Encoding
 * other than chunked, bare CR or LF, space before a colon, control bytes in the target: the
 * request-smuggling spellings), so the client can see what was wrong.
 */
export function parserRefusal(err: NodeJS.ErrnoException, maxHeaderSize: number): Refusal {
  const code = err.code ?? 'error';
  return code === 'HPE_HEADER_OVERFLOW'
    ? {
        status: 431,
        reason: 'header-too-large',
        text: `The request head is larger than ${maxHeaderSize} bytes.`,
      }
    : code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? { status: 408, reason: 'request-timeout', text: 'The request head did not arrive in time.' }
      : {
          status: 400,
          reason: 'malformed-request',
          text: `Malformed HTTP request (${code}: ${err.message}); requests must be plain HTTP/1.1 with CRLF line ends.`,
        };
}

/** 504 when the last upstream connect timed out, else 502 with its error code. */
export function connectRefusal(last: string): Refusal {
  return last === 'timeout'
    ? { status: 504, reason: 'connect-timeout', text: 'Upstream connect timed out.' }
    : { status: 502, reason: 'connect-failed', text: `Upstream connect failed (${last}).` };
}

function refusalDecision(status: number): 'deny' | 'unauthenticated' | 'limit' | 'error' {
  return status === 403 ? 'deny' : status === 407 ? 'unauthenticated' : status === 429 ? 'limit' : 'error';
}

function statusText(status: number): string {
  return (
    {
      400: 'Bad Request',
      408: 'Request Timeout',
      403: 'Forbidden',
      407: 'Proxy Authentication Required',
      429: 'Too Many Requests',
      431: 'Request Header Fields Too Large',
      502: 'Bad Gateway',
      504: 'Gateway Timeout',
    }[status] ?? 'Error'
  );
}

function refusalHeaders(
  entry: LogEntry,
  r: Refusal,
  advice: DenialAdvice | undefined,
): Record<string, string | readonly string[]> {
  const h: Record<string, string | readonly string[]> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Weir-Decision': refusalDecision(r.status),
    'Weir-Reason': r.reason,
    'Weir-Decision-Id': entry.decisionId,
    ...r.headers,
  };
  if (r.decision?.matched) h['Weir-Rule'] = r.decision.matched.ruleId;
  const command = advice?.kind === 'template' ? advice.template.command : undefined;
  if (command !== undefined && HEADER_SAFE.test(command)) h['Weir-Exception-Request'] = command;
  return h;
}

// Visible ASCII and spaces only: a header value must not carry CR, LF or bytes a client's parser
// reads differently (the identity is the peer's, through a token or an identity map).
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/**
 * What a policy denial advises (`denialAdvice`), computed once per refusal for its body and its
 * `Weir-Exception-Request` header: CONNECT clients (curl, git, pip) never show a refused tunnel's
 * body, but `curl -v` shows its headers. None for other refusals.
 */
export function refusalAdvice(entry: LogEntry, r: Refusal): DenialAdvice | undefined {
  const d = r.decision;
  if (r.status !== 403 || d === undefined || r.target === undefined) return undefined;
  return denialAdvice(d.reason, d.identity, r.target, entry.ip);
}

/**
 * The status line's reason phrase: the status's own text, then the reason and the decision ID
 * (`Forbidden by Weir: no-match (dec-…)`). Python clients (pip, requests) and many others print
 * only this line of a refusal, so it must carry what the operator asks for. Reasons come from
 * closed tables and IDs are generated: neither can put CR or LF into the line.
 */
export function reasonPhrase(entry: LogEntry, r: Refusal): string {
  return `${statusText(r.status)} by Weir: ${r.reason} (${entry.decisionId})`;
}

/** What each decision reason means, for the body of a denial. */
const REASON_TEXT: Record<DecisionReason, string> = {
  matched: 'a rule allows it',
  'no-match': 'no rule of the policies that select this identity allows this destination and port',
  expired: 'the only rules that match have expired; an expired rule never allows',
  exception: 'an exception allows it',
  breakglass: 'break-glass access allows it',
  guardrail: 'the address is in a guarded range that only a rule naming the range can open',
  'unknown-identity': 'no policy selects this identity, so nothing is allowed',
  error: 'the request could not be evaluated; an error always denies',
};

/**
 * The identity as the body shows it: authenticated, but from a token or an identity map, so it
 * is cut to a bound (the body stays small) and any control character is escaped (it cannot end
 * a line early or forge one).
 */
function shownIdentity(identity: string): string {
  const cut =
    identity.length > MAX_TEMPLATE_IDENTITY ? `${identity.slice(0, MAX_TEMPLATE_IDENTITY)}…` : identity;
  return printable(cut);
}

/**
 * The body of a policy denial, for the person reading a client's error: identity, destination,
 * address, reason, the nearest rule (labelled as such: it is the rule that came closest, never
 * one that denied; rules only allow) and the command that explains the decision against what the
 * server enforces; then what to do next (`denialAdvice`): for a denial an exception could fix,
 * the exact `weir exception request …` command and a rule to paste, for a guarded range that
 * only a reviewed rule naming it can open it. Other refusals keep their one-line text.
 */
export function refusalBody(entry: LogEntry, r: Refusal, advice = refusalAdvice(entry, r)): string {
  const d = r.decision;
  if (d === undefined || r.status !== 403) return `${r.text}\n`;
  const destination = `${entry.host ?? '?'}:${entry.port ?? 0}`;
  const identity = shownIdentity(d.identity);
  const lines = [
    r.text,
    `identity:     ${identity}`,
    `destination:  ${destination}`,
    `address:      ${entry.ip ?? '?'}`,
    `reason:       ${d.reason}: ${REASON_TEXT[d.reason]}${d.guardrail !== undefined ? ` (${d.guardrail})` : ''}`,
  ];
  const m = d.matched;
  if (m !== undefined) {
    const at = m.line > 0 ? `${m.file}:${m.line}` : m.file;
    const missed =
      d.missedBy === 'port'
        ? 'its destination matches, its protocol or ports do not'
        : 'its destination does not match';
    lines.push(
      d.reason === 'expired'
        ? `expired rule: ${m.ruleId} of policy ${m.policy} (${at}), expired ${m.expires ?? '?'}`
        : `nearest rule: ${m.ruleId} of policy ${m.policy} (${at}); the nearest, not a match: ${missed}`,
    );
  }
  lines.push(
    `explain:      weir check --endpoint --from ${shellWord(identity)} --to ${shellWord(destination)}`,
    `decision:     ${entry.decisionId}`,
  );
  if (advice !== undefined) lines.push('', ...advice.lines);
  return `${lines.join('\n')}\n`;
}

function logRefusal(gw: GatewayContext, entry: LogEntry, r: Refusal): void {
  entry.status = r.status;
  entry.reason = r.reason;
  entry.decision = refusalDecision(r.status);
  gw.logDecision(entry);
}

/**
 * Logs a refusal, answers it on the raw socket (a CONNECT, an upgrade, a bad head) and closes
 * the connection once the answer is flushed: nothing after the refused head is read, so a
 * client cannot hold the connection (or trickle a body) behind a refusal.
 */
export function refuseRaw(gw: GatewayContext, socket: Duplex, entry: LogEntry, r: Refusal): void {
  logRefusal(gw, entry, r);
  const advice = refusalAdvice(entry, r);
  const body = refusalBody(entry, r, advice);
  const headers = {
    ...refusalHeaders(entry, r, advice),
    'Content-Length': `${Buffer.byteLength(body)}`,
    Connection: 'close',
  };
  let head = '';
  for (const [k, v] of Object.entries(headers)) {
    for (const one of typeof v === 'string' ? [v] : v) head += `${k}: ${one}\r\n`;
  }
  socket.end(`HTTP/1.1 ${r.status} ${reasonPhrase(entry, r)}\r\n${head}\r\n${body}`, () => socket.destroy());
}

/** Logs a refusal of a plain-HTTP request and answers it through Node's response. */
export function refuseHttp(gw: GatewayContext, res: ServerResponse, entry: LogEntry, r: Refusal): void {
  logRefusal(gw, entry, r);
  const advice = refusalAdvice(entry, r);
  const body = refusalBody(entry, r, advice);
  const headers: Record<string, string | number | readonly string[]> = {
    ...refusalHeaders(entry, r, advice),
    'Content-Length': Buffer.byteLength(body),
  };
  // A request refused for its form (two Host headers, too many fields, a bad target) is one
  // whose framing the gateway does not trust: what follows it on the connection is not read as
  // another request. A 407 closes too: the peer has proven nothing, so it may not keep the
  // connection (or trickle a body behind the refused head, which Node would otherwise read to
  // its end). Node closes the socket once the answer is flushed, without reading the body.
  // Other policy refusals (403, 429) keep the connection for the next request.
  if (r.status === 400 || r.status === 431 || r.status === 407) headers.Connection = 'close';
  res.writeHead(r.status, reasonPhrase(entry, r), headers as OutgoingHttpHeaders);
  res.end(body);
}
