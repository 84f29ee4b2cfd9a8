/**
 * @module api/weir/workloads-view — the console's Workloads screen as Weir API reads:
 * `ShowWorkload` (one identity: its labels, the policies that select it, the groups attached to
 * it, its active exceptions and open break-glass sessions, and what it may reach, each entry
 * saying where it comes from) and `ListKnownWorkloads` (every identity Weir knows of). Computed
 * from what the server enforces (the policy set behind `check`'s explainer, the groups of the
 * namespace, the on-ramp's grants), so the screen shows what the gateway does, not a copy.
 */
import type { SecurityGroup, SecurityGroupRule } from '../../model/index.js';
import { breakglassGrant, exceptionGrant, policiesFor, viewState } from '../../onramp/index.js';
import type { Grant, PolicySet } from '../../policy/index.js';
import type { BreakglassSession, ExceptionRecord, StoreTx } from '../../store/index.js';
import { declaredAttachmentsOf } from '../context.js';
import type { OperationContext } from './operations.js';
import { checkIdentity, required } from './input.js';
import {
  expiryFlags,
  groupRulePorts,
  limitQuery,
  locationText,
  madeByPolicy,
  policyRuleJson,
  targetText,
  textQuery,
} from './inventory-format.js';

type Json = Record<string, unknown>;

/** Identities `ListKnownWorkloads` answers by default, and at most. */
const DEFAULT_WORKLOADS = 500;
const MAX_WORKLOADS = 5000;

/** One group attached to the identity, and how (the API, or the policy set's registry). */
interface Attached {
  readonly groupId: string;
  readonly source: 'api' | 'policy';
  readonly declaredIn?: string;
  readonly createdAt?: string;
}

/** The attachments of `identity` in the caller's namespace: the API's, then the declared ones. */
function attachmentsOf(ctx: OperationContext, identity: string, stored: readonly Attached[]): Attached[] {
  const declared = declaredAttachmentsOf(ctx.options.declaredAttachments, ctx.scope)
    .filter((a) => a.identity === identity)
    .map((a): Attached => ({
      groupId: a.groupId,
      source: 'policy',
      ...(a.loc !== undefined ? { declaredIn: `${a.loc.file}:${a.loc.line}:${a.loc.col}` } : {}),
    }));
  return [...stored, ...declared];
}

/** What the store holds for one identity, read in one transaction. */
interface StoredView {
  readonly attachments: Attached[];
  readonly groups: SecurityGroup[];
  readonly rules: SecurityGroupRule[];
  readonly exceptions: ExceptionRecord[];
  readonly sessions: BreakglassSession[];
}

async function readStored(
  ctx: OperationContext,
  tx: StoreTx,
  identity: string,
  now: Date,
): Promise<StoredView> {
  const stored = (await tx.listWorkloadAttachments(ctx.scope, { identity })).map((a): Attached => ({
    groupId: a.groupId,
    source: 'api',
    createdAt: a.createdAt.toISOString(),
  }));
  const attachments = attachmentsOf(ctx, identity, stored);
  const groupIds = [...new Set(attachments.map((a) => a.groupId))];
  const none = groupIds.length === 0;
  return {
    attachments,
    groups: none ? [] : await tx.listGroups(ctx.scope, { groupIds }),
    rules: none ? [] : await tx.listRules(ctx.scope, { groupIds, direction: 'egress' }),
    exceptions: await tx.listExceptions({ identity, states: ['pending', 'approved'] }),
    sessions: (await tx.listBreakglassSessions({ openAt: now })).filter((s) => s.identity === identity),
  };
}

/** What a grant allows, as entries of the effective list (break-glass without destinations: all). */
function grantEntries(grant: Grant, now: number): Json[] {
  const from = {
    source: grant.kind,
    grantId: grant.id,
    requester: grant.requester,
    ...(grant.approver !== undefined ? { approver: grant.approver } : {}),
    reason: grant.reason,
    ...(grant.from > now ? { startsAt: new Date(grant.from).toISOString() } : {}),
    ...expiryFlags(grant.expires, now),
  };
  if (grant.everything) {
    return [{ ...from, destinations: ['everything but the guardrails'], protocol: '-1', ports: ['all'] }];
  }
  return grant.rules.map((r) => {
    const j = policyRuleJson(r, now);
    return {
      ...from,
      destinations: j.destinations,
      protocol: j.protocol,
      ports: j.ports,
      ...(r.dataClass !== undefined ? { dataClass: r.dataClass } : {}),
    };
  });
}

/** The effective allowed destinations: policy rules, attached groups' egress rules, grants. */
function allowedOf(
  policies: ReturnType<typeof policiesFor>,
  stored: StoredView,
  grants: readonly Grant[],
  now: number,
): Json[] {
  const out: Json[] = [];
  for (const p of policies) {
    for (const r of p.rules) out.push({ source: 'policy', mode: p.mode, ...policyRuleJson(r, now) });
  }
  const byId = new Map(stored.groups.map((g) => [g.groupId, g]));
  for (const r of stored.rules) {
    const g = byId.get(r.groupId);
    const owner = r.tags.find((t) => t.key === 'weir:owner')?.value;
    const made = madeByPolicy(r);
    out.push({
      source: 'group',
      groupId: r.groupId,
      ...(g !== undefined ? { groupName: g.groupName } : {}),
      ruleId: r.ruleId,
      destinations: [targetText(r)],
      protocol: r.ipProtocol,
      ports: [groupRulePorts(r)],
      ...(owner !== undefined ? { owner } : {}),
      ...(r.description !== undefined && r.description !== '' ? { justification: r.description } : {}),
      ...(made !== undefined ? { madeBy: made } : {}),
    });
  }
  for (const g of grants) out.push(...grantEntries(g, now));
  return out;
}

function exceptionJson(e: ExceptionRecord, now: Date): Json {
  return {
    id: e.id,
    state: viewState(e, now),
    destinations: e.destinations,
    reason: e.reason,
    requester: e.requester,
    requestedAt: e.requestedAt.toISOString(),
    ...(e.decidedBy !== undefined ? { approver: e.decidedBy } : {}),
    ...(e.expires !== undefined ? { expires: e.expires.toISOString() } : {}),
    ...(e.window !== undefined
      ? { window: { start: e.window.start.toISOString(), end: e.window.end.toISOString() } }
      : {}),
  };
}

function sessionJson(s: BreakglassSession): Json {
  return {
    id: s.id,
    destinations: s.destinations,
    everything: s.destinations.length === 0,
    reason: s.reason,
    principal: s.principal,
    openedAt: s.openedAt.toISOString(),
    expires: s.expires.toISOString(),
  };
}

/** `GET workloads/show?identity=`: everything about one workload, as the gateway enforces it. */
export async function showWorkloadOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ShowWorkload';
  const identity = checkIdentity(
    required(query, 'identity', op, 'spiffe://prod.example/ns/payments/sa/checkout'),
    'identity',
    op,
  );
  const now = ctx.now();
  const info = ctx.options.explainContext?.() ?? {};
  const set: PolicySet | undefined = info.set;
  const stored = await ctx.store.transaction(ctx.scope, (tx) => readStored(ctx, tx, identity, now), {
    readOnly: true,
  });
  const registered = set?.workloads.find((w) => w.identity === identity);
  const policies = policiesFor(set, identity);
  const grants: Grant[] = [
    ...stored.exceptions.flatMap((e) => {
      const g = viewState(e, now) === 'active' ? exceptionGrant(e) : undefined;
      return g !== undefined ? [g] : [];
    }),
    ...stored.sessions.map(breakglassGrant),
  ];
  const groups = new Map(stored.groups.map((g) => [g.groupId, g]));
  const known =
    registered !== undefined ||
    policies.length > 0 ||
    stored.attachments.length > 0 ||
    stored.exceptions.length > 0 ||
    stored.sessions.length > 0;
  return {
    identity,
    known,
    namespace: { account: ctx.scope.accountId, region: ctx.scope.region },
    ...(info.source !== undefined ? { enforcing: info.source } : {}),
    labels: registered?.labels ?? {},
    ...(registered?.loc !== undefined ? { registeredIn: locationText(registered.loc) } : {}),
    policies: policies.map((p) => ({
      name: p.name,
      mode: p.mode,
      ...(p.owner !== undefined ? { owner: p.owner } : {}),
      rules: p.rules.length,
      declaredIn: locationText(p.loc),
    })),
    groups: stored.attachments.map((a) => {
      const g = groups.get(a.groupId);
      return {
        ...a,
        ...(g !== undefined
          ? { groupName: g.groupName, description: g.description }
          : { groupMissing: true }),
      };
    }),
    exceptions: stored.exceptions.map((e) => exceptionJson(e, now)),
    breakglass: stored.sessions.map(sessionJson),
    allowed: allowedOf(policies, stored, grants, now.getTime()),
  };
}

/** Every identity Weir knows of in the namespace, and where from. */
async function knownIdentities(
  ctx: OperationContext,
): Promise<Map<string, { labels: Json; from: Set<string> }>> {
  const now = ctx.now();
  const set = ctx.options.explainContext?.().set;
  const found = new Map<string, { labels: Json; from: Set<string> }>();
  const add = (identity: string, from: string, labels?: Json): void => {
    const e = found.get(identity) ?? { labels: {}, from: new Set<string>() };
    e.from.add(from);
    if (labels !== undefined) e.labels = labels;
    found.set(identity, e);
  };
  for (const w of set?.workloads ?? []) add(w.identity, 'registry', { ...w.labels });
  for (const p of set?.policies ?? []) {
    for (const s of p.workloads) if (s.identity?.kind === 'exact') add(s.identity.value, 'policy');
  }
  for (const a of declaredAttachmentsOf(ctx.options.declaredAttachments, ctx.scope)) add(a.identity, 'group');
  const stored = await ctx.store.transaction(
    ctx.scope,
    async (tx) => ({
      attachments: await tx.listWorkloadAttachments(ctx.scope),
      exceptions: await tx.listExceptions({ states: ['pending', 'approved'] }),
      sessions: await tx.listBreakglassSessions({ openAt: now }),
    }),
    { readOnly: true },
  );
  for (const a of stored.attachments) add(a.identity, 'group');
  for (const e of stored.exceptions) if (viewState(e, now) !== 'expired') add(e.identity, 'exception');
  for (const s of stored.sessions) add(s.identity, 'breakglass');
  return found;
}

/** `GET workloads/known[?q=&limit=]`: the identities Weir knows of, sorted, with their labels. */
export async function listKnownWorkloadsOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ListKnownWorkloads';
  const limit = limitQuery(query, op, DEFAULT_WORKLOADS, MAX_WORKLOADS);
  const q = textQuery(query, 'q', op)?.toLowerCase();
  const found = await knownIdentities(ctx);
  const rows = [...found.entries()]
    .filter(
      ([identity, e]) =>
        q === undefined || `${identity} ${JSON.stringify(e.labels)}`.toLowerCase().includes(q),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    workloads: rows.slice(0, limit).map(([identity, e]) => ({
      identity,
      labels: e.labels,
      // Where Weir knows it from: the registry, a policy naming it, an attached group, a grant.
      knownFrom: [...e.from].sort(),
    })),
    ...(rows.length > limit ? { truncated: true, total: rows.length } : {}),
  };
}
