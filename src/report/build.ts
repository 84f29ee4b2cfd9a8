/**
 * @module report/build — `buildReport`: the evidence report of one period, read from the store in
 * read-only transactions (a report never writes) and from the policy set in force, which the
 * caller hands in (the server's snapshot, or the bundle stored in a data dir). Every section is
 * capped at `MAX_SECTION_ROWS` rows so that a hostile or huge store bounds what a report costs;
 * a cut section is named in `truncated`.
 */
import type { KeyObject } from 'node:crypto';
import { verifyAuditTrail } from '../audit/index.js';
import type { SecurityGroupRule } from '../model/index.js';
import { viewState, untilOf } from '../onramp/index.js';
import { declaredAttachments } from '../policy/index.js';
import type { PolicySet } from '../policy-types/index.js';
import type { BreakglassSession, ExceptionRecord, Store, StoreTx, StoredBundle } from '../store/index.js';
import { accessSection, expiryCalendar } from './access.js';
import { denialsSection } from './denials.js';
import { readOutcomes } from './outcomes.js';
import type { EnforcementSamples } from '../outcomes/index.js';
import { REPORT_FORMAT } from './types.js';
import type {
  AuditSection,
  BreakglassEntry,
  BundleEntry,
  DenialsSection,
  ExceptionEntry,
  ExpiryEntry,
  ReportDocument,
  ReportSource,
} from './types.js';

/** Rows per section at most. */
export const MAX_SECTION_ROWS = 5000;
/** Audit records are counted in pages of this many. */
const AUDIT_PAGE = 2000;
/** How far ahead of generation the expiry calendar looks. */
export const CALENDAR_AHEAD_MS = 90 * 86_400_000;

/** What a report is built from. */
export interface ReportInput {
  readonly store: Store;
  /** The gateway account: its namespaces' attachments and groups are the ones enforced. */
  readonly account: string;
  /** The policy set in force, if any. */
  readonly set: PolicySet | undefined;
  /** What the set is, for people (`policy bundle version 7`, `policy directory DIR`). */
  readonly policySource: string;
  readonly source: ReportSource;
  readonly since: Date;
  readonly now: Date;
  /** The audit digests' public key; without it digests are checked for chain and match only. */
  readonly auditPublicKey?: KeyObject;
  /** The namespace region of the gateway's attached groups, for the outcome metrics (default us-east-1). */
  readonly region?: string;
  /** The server's policy-change-to-enforcement samples, for the outcome metrics. */
  readonly enforcement?: EnforcementSamples;
}

/** The store's rows the report needs, read in one read-only transaction. */
interface StoreRows {
  readonly attachments: { identity: string; groupId: string }[];
  readonly groupRules: Map<string, SecurityGroupRule[]>;
  readonly exceptions: ExceptionRecord[];
  readonly sessions: BreakglassSession[];
  readonly lastHash?: string;
  readonly recordsInPeriod: number;
  /** Bundles applied, newest first (the store's history, at most `MAX_BUNDLES`). */
  readonly bundles: readonly StoredBundle[];
  readonly denials?: DenialsSection;
}

/**
 * The decision counters of the period; none when the store has no such tables (a data dir last
 * opened by a server older than them: a read-only report never migrates it).
 */
async function readDenials(tx: StoreTx, since: Date, now: Date): Promise<DenialsSection | undefined> {
  try {
    return await denialsSection(tx, since, now);
  } catch (err) {
    if (err instanceof Error && /no such table/.test(err.message)) return undefined;
    throw err;
  }
}

/** Bundles read from the history at most (each read holds its bytes; a report states when it hit this). */
const MAX_BUNDLES = 100;

async function readRows(tx: StoreTx, input: ReportInput): Promise<StoreRows> {
  const attachments: { identity: string; groupId: string }[] = [];
  const groupRules = new Map<string, SecurityGroupRule[]>();
  const declared = input.set !== undefined ? declaredAttachments(input.set) : [];
  for (const scope of await tx.listScopes()) {
    if (scope.accountId !== input.account) continue;
    const own = await tx.listWorkloadAttachments(scope);
    attachments.push(...own.map((a) => ({ identity: a.identity, groupId: a.groupId })));
    const groupIds = [...new Set([...own.map((a) => a.groupId), ...declared.map((d) => d.groupId)])];
    if (groupIds.length === 0) continue;
    const existing = new Set((await tx.listGroups(scope, { groupIds })).map((g) => g.groupId));
    const ids = groupIds.filter((g) => existing.has(g));
    if (ids.length === 0) continue;
    for (const r of await tx.listRules(scope, { groupIds: ids, direction: 'egress' })) {
      groupRules.set(r.groupId, [...(groupRules.get(r.groupId) ?? []), r]);
    }
  }
  attachments.push(...declared.map((d) => ({ identity: d.identity, groupId: d.groupId })));
  const since = input.since.getTime();
  // Exceptions decided or in force during the period (not pending or denied ones: those granted nothing).
  const exceptions = (await tx.listExceptions({ states: ['approved', 'revoked'] })).filter(
    (e) => e.decidedAt !== undefined && (untilOf(e) ?? Number.POSITIVE_INFINITY) >= since,
  );
  const sessions = (await tx.listBreakglassSessions()).filter(
    (s) => (s.closedAt ?? s.expires).getTime() >= since || s.openedAt.getTime() >= since,
  );
  const last = await tx.lastAuditRecord();
  // Counted page by page: the period may hold millions of records, memory holds one page.
  let recordsInPeriod = 0;
  for (let after = 0; ;) {
    const page = await tx.listAuditRecords({ since: input.since, afterSeq: after, limit: AUDIT_PAGE });
    recordsInPeriod += page.length;
    const lastOfPage = page[page.length - 1];
    if (lastOfPage === undefined || page.length < AUDIT_PAGE) break;
    after = lastOfPage.seq;
  }
  const bundles = await tx.listPolicyBundles(MAX_BUNDLES);
  const denials = await readDenials(tx, input.since, input.now);
  return {
    attachments,
    groupRules,
    exceptions,
    sessions,
    ...(last !== undefined ? { lastHash: last.hash } : {}),
    recordsInPeriod,
    bundles,
    ...(denials !== undefined ? { denials } : {}),
  };
}

function exceptionEntry(e: ExceptionRecord, now: Date): ExceptionEntry {
  const approved = e.state === 'approved' || e.revokedAt !== undefined;
  const until = untilOf(e);
  return {
    id: e.id,
    identity: e.identity,
    destinations: e.destinations,
    requester: e.requester,
    approvers: approved && e.decidedBy !== undefined ? [e.decidedBy] : [],
    reason: e.reason,
    ...(e.comment !== undefined ? { comment: e.comment } : {}),
    ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
    requestedAt: e.requestedAt.toISOString(),
    ...(e.decidedAt !== undefined ? { approvedAt: e.decidedAt.toISOString() } : {}),
    ...(until !== undefined ? { expires: new Date(until).toISOString() } : {}),
    ...(until !== undefined && e.decidedAt !== undefined
      ? { durationMs: until - e.decidedAt.getTime() }
      : {}),
    ...(e.decidedAt !== undefined
      ? { timeToApproveMs: e.decidedAt.getTime() - e.requestedAt.getTime() }
      : {}),
    state: viewState(e, now),
    ...(e.revokedBy !== undefined ? { revokedBy: e.revokedBy } : {}),
    ...(e.revokeReason !== undefined ? { revokeReason: e.revokeReason } : {}),
  };
}

function sessionState(s: BreakglassSession, now: Date): string {
  if (s.drill) return 'drill';
  if (s.closedAt !== undefined) return 'closed';
  return s.expires.getTime() <= now.getTime() ? 'expired' : 'open';
}

function breakglassEntry(s: BreakglassSession, now: Date): BreakglassEntry {
  const end = s.closedAt ?? (s.expires.getTime() < now.getTime() ? s.expires : now);
  return {
    id: s.id,
    identity: s.identity,
    destinations: s.destinations,
    reason: s.reason,
    principal: s.principal,
    openedAt: s.openedAt.toISOString(),
    expires: s.expires.toISOString(),
    drill: s.drill,
    state: sessionState(s, now),
    ...(s.closedAt !== undefined ? { closedAt: s.closedAt.toISOString() } : {}),
    ...(s.closedBy !== undefined ? { closedBy: s.closedBy } : {}),
    ...(s.closeReason !== undefined ? { closeReason: s.closeReason } : {}),
    durationMs: Math.max(0, end.getTime() - s.openedAt.getTime()),
  };
}

/** Calendar rows of exceptions and sessions that ended in the period (the access section has the live ones). */
function grantExpiries(
  exceptions: readonly ExceptionEntry[],
  sessions: readonly BreakglassEntry[],
  from: Date,
  now: Date,
): ExpiryEntry[] {
  const rows: ExpiryEntry[] = [];
  const add = (
    at: string,
    kind: ExpiryEntry['kind'],
    what: string,
    identity: string,
    owner: string,
  ): void => {
    const t = Date.parse(at);
    if (t < from.getTime()) return;
    rows.push({ at, day: at.slice(0, 10), kind, what, identity, owner, past: t <= now.getTime() });
  };
  for (const e of exceptions)
    if (e.expires !== undefined) add(e.expires, 'exception', e.id, e.identity, e.requester);
  for (const s of sessions)
    if (!s.drill) add(s.closedAt ?? s.expires, 'breakglass', s.id, s.identity, s.principal);
  return rows;
}

function mergeCalendar(a: readonly ExpiryEntry[], b: readonly ExpiryEntry[]): ExpiryEntry[] {
  const seen = new Set<string>();
  const out: ExpiryEntry[] = [];
  for (const e of [...a, ...b]) {
    const k = `${e.kind}\n${e.what}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out.sort((x, y) => x.at.localeCompare(y.at) || x.what.localeCompare(y.what));
}

/**
 * The policy bundles in force during the period, oldest first, each with when the next one
 * replaced it (from the store's bundle history, newest first).
 */
function bundleSection(rows: StoreRows, since: Date): { bundles: BundleEntry[]; note?: string } {
  const s = since.getTime();
  const entries: BundleEntry[] = rows.bundles.map((b, i) => {
    const next = rows.bundles[i - 1];
    return {
      version: b.version,
      hash: b.hash,
      appliedAt: b.appliedAt.toISOString(),
      ...(next !== undefined ? { replacedAt: next.appliedAt.toISOString() } : {}),
    };
  });
  const inPeriod = entries
    .filter((e) => e.replacedAt === undefined || Date.parse(e.replacedAt) > s)
    .reverse();
  const first = inPeriod[0];
  if (first === undefined || Date.parse(first.appliedAt) <= s) return { bundles: inPeriod };
  return {
    bundles: inPeriod,
    note:
      rows.bundles.length >= MAX_BUNDLES
        ? `only the last ${MAX_BUNDLES} bundles applied were read`
        : 'no bundle was in force before the first one listed',
  };
}

function cap<T>(rows: readonly T[], name: string, cut: string[]): T[] {
  if (rows.length <= MAX_SECTION_ROWS) return [...rows];
  cut.push(name);
  return rows.slice(0, MAX_SECTION_ROWS);
}

/** Builds the report of [since, now) from the store and the policy in force. */
export async function buildReport(input: ReportInput): Promise<ReportDocument> {
  const { now, since } = input;
  const rows = await input.store.transaction(undefined, (tx) => readRows(tx, input), { readOnly: true });
  const verification = await verifyAuditTrail(input.store, input.auditPublicKey);
  const outcomes = await readOutcomes({
    store: input.store,
    scope: { accountId: input.account, region: input.region ?? 'us-east-1' },
    set: input.set,
    since,
    now,
    ...(input.enforcement !== undefined ? { enforcement: input.enforcement } : {}),
  });
  const truncated: string[] = [];
  const active = rows.exceptions.filter((e) => viewState(e, now) === 'active');
  const open = rows.sessions.filter((s) => !s.drill && s.closedAt === undefined && s.expires > now);
  const access = accessSection(
    {
      set: input.set,
      attachments: rows.attachments,
      groupRules: rows.groupRules,
      exceptions: active,
      sessions: open,
      now,
    },
    MAX_SECTION_ROWS,
  );
  if (access.cut) truncated.push('access');
  const exceptions = cap(
    rows.exceptions.map((e) => exceptionEntry(e, now)),
    'exceptions',
    truncated,
  );
  const breakglass = cap(
    rows.sessions.map((s) => breakglassEntry(s, now)),
    'breakglass',
    truncated,
  );
  const calendar = cap(
    mergeCalendar(
      expiryCalendar(access.rows, { from: since, now, horizon: new Date(now.getTime() + CALENDAR_AHEAD_MS) }),
      grantExpiries(exceptions, breakglass, since, now),
    ),
    'expiryCalendar',
    truncated,
  );
  const audit: AuditSection = {
    intact: verification.ok,
    records: verification.records,
    lastSeq: verification.lastSeq,
    ...(rows.lastHash !== undefined ? { lastHash: rows.lastHash } : {}),
    digests: verification.digests,
    ...(verification.lastDigest !== undefined ? { lastDigest: verification.lastDigest } : {}),
    unsigned: verification.unsigned,
    signaturesChecked: input.auditPublicKey !== undefined,
    recordsInPeriod: rows.recordsInPeriod,
    ...(verification.problem !== undefined
      ? { problem: { seq: verification.problem.seq, reason: verification.problem.reason } }
      : {}),
  };
  const set = input.set;
  return {
    format: REPORT_FORMAT,
    generatedAt: now.toISOString(),
    period: { since: since.toISOString(), until: now.toISOString() },
    source: input.source,
    account: input.account,
    policy: {
      source: input.policySource,
      policies: set?.policies.length ?? 0,
      rules: set?.policies.reduce((n, p) => n + p.rules.length, 0) ?? 0,
      ...bundleSection(rows, since),
    },
    access: access.rows,
    expiryCalendar: calendar,
    exceptions,
    breakglass,
    audit,
    ...(rows.denials !== undefined ? { denials: rows.denials } : {}),
    ...(outcomes !== undefined ? { outcomes } : {}),
    truncated,
  };
}
