/**
 * @module api/weir/operations — the Weir API's operations: workload attachments (per namespace),
 * gateway tokens and the policy bundle (server-wide), and `check`. Each takes the parsed
 * request and answers a JSON-ready object; bad input throws `WeirApiError` naming the field.
 */
import type { KeyObject } from 'node:crypto';
import { compilePolicySet } from '../../engine/index.js';
import type { DecisionRequest, Explanation, MatchedRule } from '../../engine/index.js';
import { issueToken, parseTtl, signedTokenClaims, verifyToken } from '../../identity/index.js';
import type { TokenClaims } from '../../identity/index.js';
import { assertSecurityGroupId } from '../../model/index.js';
import type { Scope } from '../../model/index.js';
import { requestFor } from '../../explain/index.js';
import type { ExplainContext } from '../../explain/index.js';
import { openBundle, parseTime, ruleOriginTags, TAG } from '../../policy/index.js';
import type { DeclaredAttachment, PolicySet, TrustedKeys } from '../../policy/index.js';
import type { RevokedToken, Store, WorkloadAttachment } from '../../store/index.js';
import type { EnforcementSamples } from '../../outcomes/index.js';
import { declaredAttachmentsOf } from '../context.js';
import type { AccessKey } from '../credentials.js';
import type { ApiMetrics } from '../metrics.js';
import type { DeclaredAttachments } from '../context.js';
import { checkExitCode, checkJson, checkText, runCheckQuestion } from './check.js';
import type { BreakglassApiOptions } from './breakglass.js';
import type { CheckResolver } from './check.js';
import { WeirApiError } from './errors.js';
import { checkIdentity, required } from './input.js';
import type { Fields } from './input.js';

/** The longest token lifetime the server issues; revoking by ID alone covers this long. */
export const MAX_TOKEN_TTL_MS = 366 * 86_400_000;

/** What the server enforces, for `check`. */
export interface CheckContext {
  /** The set behind the snapshot (for "did you mean" hints). */
  readonly set?: PolicySet;
  /** Destinations the snapshot could not resolve. */
  readonly unresolved?: readonly string[];
  /** What the server checked against, for people (e.g. `policy directory /etc/weir (version 3)`). */
  readonly source?: string;
}

/** What the Weir API needs beyond the store and keys; serve passes it in (the API reads no files). */
export interface WeirApiOptions {
  /**
   * The account whose security groups the gateway enforces (`--gateway-account`): only its keys
   * may call the Weir API, and tokens are issued for it. Absent: `DEFAULT_ACCOUNT_ID`, serve's
   * default gateway account.
   */
  readonly account?: string;
  /** The gateway token key (`loadTokenKey(dataDir)`); without it token operations are unavailable. */
  readonly tokenKey?: Buffer;
  /** Public keys trusted to sign policy bundles (`--bundle-public-key`); none: every bundle is refused. */
  readonly bundleKeys?: TrustedKeys;
  /** `--bundle-audience`: the audience a bundle must name; absent: only bundles naming none. */
  readonly bundleAudience?: string;
  /** `--policy DIR` when the server enforces a directory: a bundle would not take effect there. */
  readonly policyDir?: string;
  /** Explains a request against what the server enforces; `undefined` when nothing is loaded. */
  readonly explainer?: (req: DecisionRequest) => Explanation | undefined;
  readonly explainContext?: () => CheckContext;
  /** The resolver the gateway uses, for `check` with `resolve`. */
  readonly resolve?: CheckResolver;
  /**
   * The attachments the gateway's policy set declares (registry `securityGroups`) and the
   * namespace they apply in, for `ListWorkloads` and `DeleteSecurityGroup`; absent when the
   * server runs no gateway.
   */
  readonly declaredAttachments?: () => DeclaredAttachments;
  /** Break-glass: `--breakglass-max-ttl` and the metrics; absent: the default cap, no metrics. */
  readonly breakglass?: BreakglassApiOptions;
  /** The audit digests' public key (`audit-signing.pub`), for `GET audit/verify`. */
  readonly auditPublicKey?: KeyObject;
  /** Policy change to enforcement as the gateway observed it, for `GET overview`; absent: no gateway. */
  readonly enforcementSamples?: EnforcementSamples;
}

/** What every operation receives. */
export interface OperationContext {
  readonly store: Store;
  readonly scope: Scope;
  readonly now: () => Date;
  readonly options: WeirApiOptions;
  /** The key that signed the request (its principal and role); absent in internal calls. */
  readonly caller?: AccessKey;
  /** The API's metrics, when called through the API. */
  readonly metrics?: ApiMetrics;
}

type Json = Record<string, unknown>;

const attachmentJson = (a: WorkloadAttachment): Json => ({
  identity: a.identity,
  groupId: a.groupId,
  createdAt: a.createdAt.toISOString(),
  source: 'api',
});

const declaredJson = (a: DeclaredAttachment, groupExists: boolean): Json => ({
  identity: a.identity,
  groupId: a.groupId,
  source: 'policy',
  ...(a.loc !== undefined ? { declaredIn: `${a.loc.file}:${a.loc.line}:${a.loc.col}` } : {}),
  // A declaration may name a group this account and region do not have: it then grants nothing.
  ...(groupExists ? {} : { groupMissing: true }),
});

function identityField(fields: Fields, op: string): string {
  return checkIdentity(
    required(fields, 'identity', op, 'spiffe://prod.example/ns/app/sa/web'),
    'identity',
    op,
  );
}

function groupIdField(fields: Fields, op: string): string {
  return assertSecurityGroupId(required(fields, 'groupId', op, 'sg-0123456789abcdef0'));
}

// --- Workloads --------------------------------------------------------------------------------

export async function attachWorkload(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'AttachWorkload';
  const identity = identityField(fields, op);
  const groupId = groupIdField(fields, op);
  return ctx.store.transaction(ctx.scope, async (tx) => {
    if (!(await tx.getGroup(ctx.scope, groupId))) {
      throw new WeirApiError(
        'InvalidGroup.NotFound',
        `${op}: the security group '${groupId}' does not exist in account ${ctx.scope.accountId} region ${ctx.scope.region}`,
      );
    }
    const existing = await tx.listWorkloadAttachments(ctx.scope, { identity, groupId });
    if (existing[0] !== undefined) return { attachment: attachmentJson(existing[0]), created: false };
    const a: WorkloadAttachment = { identity, groupId, createdAt: ctx.now() };
    await tx.attachWorkload(ctx.scope, a);
    return { attachment: attachmentJson(a), created: true };
  });
}

export async function detachWorkload(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'DetachWorkload';
  const identity = identityField(fields, op);
  const groupId = groupIdField(fields, op);
  const detached = await ctx.store.transaction(ctx.scope, (tx) =>
    tx.detachWorkload(ctx.scope, identity, groupId),
  );
  if (!detached) {
    throw new WeirApiError(
      'InvalidWorkloadAttachment.NotFound',
      `${op}: ${groupId} is not attached to ${identity} in region ${ctx.scope.region} (weir workload list shows what is)`,
    );
  }
  return { identity, groupId, detached: true };
}

export async function listWorkloads(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ListWorkloads';
  const q: { identity?: string; groupId?: string } = {};
  if (query.identity !== undefined) q.identity = checkIdentity(query.identity, 'identity', op);
  if (query.groupId !== undefined) q.groupId = assertSecurityGroupId(query.groupId);
  // The gateway enforces both kinds alike; a pair both attached and declared is listed twice,
  // once per source, since detaching it through the API leaves the declaration in force.
  const fromPolicy = declaredAttachmentsOf(ctx.options.declaredAttachments, ctx.scope, q.groupId).filter(
    (a) => q.identity === undefined || a.identity === q.identity,
  );
  const declaredGroups = [...new Set(fromPolicy.map((a) => a.groupId))];
  const { list, groups } = await ctx.store.transaction(
    ctx.scope,
    async (tx) => ({
      list: await tx.listWorkloadAttachments(ctx.scope, q),
      groups: declaredGroups.length === 0 ? [] : await tx.listGroups(ctx.scope, { groupIds: declaredGroups }),
    }),
    { readOnly: true },
  );
  const existing = new Set(groups.map((g) => g.groupId));
  return {
    attachments: [
      ...list.map(attachmentJson),
      ...fromPolicy.map((a) => declaredJson(a, existing.has(a.groupId))),
    ],
  };
}

// --- Tokens -----------------------------------------------------------------------------------

function tokenKey(ctx: OperationContext, op: string): Buffer {
  if (ctx.options.tokenKey === undefined) {
    throw new WeirApiError('ServiceUnavailable', `${op}: this server has no gateway token key`);
  }
  return ctx.options.tokenKey;
}

const revokedJson = (t: RevokedToken): Json => ({
  id: t.id,
  ...(t.identity !== undefined ? { identity: t.identity } : {}),
  expires: t.expires.toISOString(),
  revokedAt: t.revokedAt.toISOString(),
});

export async function issueTokenOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'IssueToken';
  const identity = identityField(fields, op);
  const ttlText = fields.ttl === undefined ? '24h' : (fields.ttl as string);
  const ttlMs = parseTtl(ttlText);
  if (ttlMs === undefined || ttlMs > MAX_TOKEN_TTL_MS) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'ttl' must be a number and a unit s|m|h|d, at most 366d (e.g. "24h"), got ${JSON.stringify(ttlText)}`,
    );
  }
  const key = tokenKey(ctx, op);
  const now = ctx.now().getTime();
  // Bound to the caller's account (the gateway's, see api/weir/tenancy): a gateway of another
  // account refuses it.
  const account = ctx.scope.accountId;
  const token = issueToken(key, { identity, ttlMs, now, account });
  const check = verifyToken(key, token, now);
  if (!check.ok) throw new Error(`a token just issued does not verify (${check.reason})`);
  // Its claims only, never the token: for token list/inspect and so that revoking an ID this
  // server never issued is an error instead of a silent no-op.
  const c = check.claims;
  await ctx.store.transaction(undefined, (tx) =>
    tx.recordIssuedToken({
      id: c.id,
      identity: c.identity,
      issued: new Date(c.issued),
      expires: new Date(c.expires),
    }),
  );
  return {
    token,
    id: check.claims.id,
    identity,
    account,
    issued: new Date(check.claims.issued).toISOString(),
    expires: new Date(check.claims.expires).toISOString(),
  };
}

/** The claims of a token whose signature holds, even when it is outside its validity window. */
function claimsOf(key: Buffer, token: string, now: number, op: string): TokenClaims {
  const check = verifyToken(key, token, now);
  if (check.ok) return check.claims;
  if (check.reason === 'token-expired') {
    throw new WeirApiError(
      'InvalidToken',
      `${op}: the token has expired already; the gateway refuses it anyway`,
    );
  }
  // Signed by us but issued "in the future" (clock skew): still worth revoking.
  const signed = signedTokenClaims(key, token);
  if (check.reason === 'token-not-yet-valid' && signed.ok) return signed.claims;
  throw new WeirApiError(
    'InvalidToken',
    `${op}: field 'token' is not a token of this server (${check.reason}); pass the whole weir1.… text, or 'id'`,
  );
}

export async function revokeTokenOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'RevokeToken';
  const byId = fields.id as string | undefined;
  const byText = fields.token as string | undefined;
  if ((byId === undefined) === (byText === undefined)) {
    throw new WeirApiError('MissingParameter', `${op}: give exactly one of the fields 'id' and 'token'`);
  }
  const revokedAt = ctx.now();
  let record: RevokedToken;
  if (byText !== undefined) {
    const c = claimsOf(tokenKey(ctx, op), byText, revokedAt.getTime(), op);
    record = { id: c.id, identity: c.identity, expires: new Date(c.expires), revokedAt };
  } else {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(byId ?? '')) {
      throw new WeirApiError(
        'InvalidParameterValue',
        `${op}: field 'id' must be a token ID (letters, digits, '-' and '_', as IssueToken returns it), got ${JSON.stringify(byId)}`,
      );
    }
    // The expiry is unknown from the ID alone: keep the record as long as any token may live.
    record = { id: byId as string, expires: new Date(revokedAt.getTime() + MAX_TOKEN_TTL_MS), revokedAt };
  }
  const stored = await ctx.store.transaction(undefined, async (tx) => {
    if (byId !== undefined) {
      const issued = await tx.getIssuedToken(record.id);
      const already = (await tx.listRevokedTokens(revokedAt)).some((t) => t.id === record.id);
      // A typo used to be "revoked" while the token it meant stayed valid.
      if (issued === undefined && !already) throw unknownTokenId(op, record.id);
      if (issued !== undefined) {
        record = { id: issued.id, identity: issued.identity, expires: issued.expires, revokedAt };
      }
    }
    await tx.revokeToken(record);
    return (await tx.listRevokedTokens(revokedAt)).find((t) => t.id === record.id) ?? record;
  });
  return revokedJson(stored);
}

/** The error for a token ID this server has no record of. */
export function unknownTokenId(op: string, id: string): WeirApiError {
  return new WeirApiError(
    'InvalidToken.NotFound',
    `${op}: no token with ID '${id}' was issued by this server (weir token list shows them; a token issued before Weir kept that record is revoked by its text, --token)`,
  );
}

export async function listRevokedTokensOp(ctx: OperationContext): Promise<Json> {
  const list = await ctx.store.transaction(undefined, (tx) => tx.listRevokedTokens(ctx.now()), {
    readOnly: true,
  });
  return { revoked: list.map(revokedJson) };
}

// --- Policy bundle ----------------------------------------------------------------------------

export async function applyBundle(ctx: OperationContext, body: Buffer): Promise<Json> {
  const op = 'ApplyBundle';
  if (body.length === 0) {
    throw new WeirApiError(
      'MissingParameter',
      `${op}: the body must be a bundle file (weir policy bundle DIR -o FILE)`,
    );
  }
  // --policy DIR wins over bundles (the operator named it when starting the server): storing a
  // bundle there would answer "applied" for a policy that is not enforced.
  if (ctx.options.policyDir !== undefined) {
    throw new WeirApiError(
      'IncorrectState',
      `${op}: this server enforces --policy ${ctx.options.policyDir}; a bundle applied here would not take effect (restart weir serve without --policy to enforce bundles)`,
    );
  }
  const keys: TrustedKeys = ctx.options.bundleKeys ?? new Map();
  const audience = ctx.options.bundleAudience;
  const appliedAt = ctx.now();
  return ctx.store.transaction(undefined, async (tx) => {
    const current = await tx.getPolicyBundle();
    // Verified inside the write transaction: two applies at once cannot both pass the version check.
    const opened = openBundle(body, keys, {
      ...(current !== undefined ? { current: Number(current.version) } : {}),
      ...(audience !== undefined ? { audience } : {}),
      now: appliedAt.getTime(),
    });
    if (!opened.ok) {
      const hint =
        opened.code === 'unknown-key' && keys.size === 0
          ? ' (this server trusts no bundle key: start weir serve with --bundle-public-key FILE)'
          : '';
      throw new WeirApiError(
        'InvalidBundle',
        `${op}: ${opened.code}: ${opened.reason}${hint}; the bundle in force stays`,
      );
    }
    try {
      compilePolicySet(opened.set, { skipUnresolved: true, version: String(opened.bundle.version) });
    } catch (err) {
      throw new WeirApiError(
        'InvalidBundle',
        `${op}: the policy set does not compile (${err instanceof Error ? err.message : String(err)}); the bundle in force stays`,
      );
    }
    const b = opened.bundle;
    await tx.putPolicyBundle({ bytes: body, version: String(b.version), hash: b.contentHash, appliedAt });
    return {
      version: String(b.version),
      hash: b.contentHash,
      keyId: b.keyId,
      ...(b.audience !== undefined ? { audience: b.audience } : {}),
      created: b.created,
      appliedAt: appliedAt.toISOString(),
      policies: opened.set.policies.map((p) => p.name),
      warnings: opened.diagnostics.filter((d) => d.severity !== 'error').length,
      ...(current !== undefined ? { previousVersion: current.version } : {}),
    };
  });
}

/**
 * The bundle in force: the stored one, verified as the server verifies it now (keys and
 * audience may have changed since it was applied), or why none is (`--policy DIR`, or the
 * stored one does not verify here).
 */
export async function getBundle(ctx: OperationContext): Promise<Json> {
  const b = await ctx.store.transaction(undefined, (tx) => tx.getPolicyBundle(), { readOnly: true });
  const policyDir = ctx.options.policyDir;
  if (b === undefined) {
    if (policyDir !== undefined) return { inForce: false, policyDir };
    throw new WeirApiError(
      'NotFound',
      'GetBundle: no bundle has been applied (weir policy bundle apply FILE)',
    );
  }
  const audience = ctx.options.bundleAudience;
  const opened = openBundle(b.bytes, ctx.options.bundleKeys ?? new Map(), {
    ...(audience !== undefined ? { audience } : {}),
    now: ctx.now().getTime(),
  });
  let meta: Json = {};
  try {
    const parsed = JSON.parse(b.bytes.toString('utf8')) as Record<string, unknown>;
    meta = { keyId: parsed.keyId, audience: parsed.audience, created: parsed.created };
  } catch {
    // Stored bytes were verified when applied; nothing more to say if they no longer parse.
  }
  return {
    inForce: policyDir === undefined && opened.ok,
    ...(policyDir !== undefined ? { policyDir } : {}),
    ...(!opened.ok ? { problem: `${opened.code}: ${opened.reason}` } : {}),
    version: b.version,
    hash: b.hash,
    appliedAt: b.appliedAt.toISOString(),
    ...meta,
  };
}

// --- Check ------------------------------------------------------------------------------------

/**
 * The security-group rules of `scope` that `weir policy apply` made from each policy rule, found
 * by the tags apply writes on every rule (`ruleOriginTags`), so that `check` against this
 * server shows what a matched policy rule became.
 */
async function appliedRulesIn(
  store: Store,
  scope: Scope,
): Promise<NonNullable<ExplainContext['appliedRules']>> {
  const origin = new Map<string, { policy?: string; ruleId?: string }>();
  const tags = await store.transaction(scope, (tx) => tx.listTags(scope), { readOnly: true });
  for (const t of tags) {
    if (t.resourceType !== 'security-group-rule') continue;
    const o = origin.get(t.resourceId) ?? {};
    if (t.key === TAG.policy) o.policy = t.value;
    else if (t.key === TAG.ruleId) o.ruleId = t.value;
    else continue;
    origin.set(t.resourceId, o);
  }
  const byRule = new Map<string, string[]>();
  const key = (policy: string, ruleId: string): string => `${policy}\n${ruleId}`;
  for (const [id, o] of origin) {
    if (o.policy === undefined || o.ruleId === undefined) continue;
    const k = key(o.policy, o.ruleId);
    byRule.set(k, [...(byRule.get(k) ?? []), id]);
  }
  for (const ids of byRule.values()) ids.sort();
  return (m: MatchedRule) => {
    const tags = ruleOriginTags(m.policy, m.ruleId);
    return byRule.get(key(tags[TAG.policy] ?? '', tags[TAG.ruleId] ?? '')) ?? [];
  };
}

export async function checkOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'Check';
  const from = required(fields, 'from', op, 'spiffe://prod.example/ns/app/sa/web');
  if (from.includes('*') || /\s/.test(from)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'from' is one workload identity, not a pattern (got ${JSON.stringify(from)})`,
    );
  }
  const to = required(fields, 'to', op, 'api.stripe.com:443');
  let now = ctx.now().getTime();
  if (fields.at !== undefined) {
    const t = parseTime(fields.at as string, 'start');
    if (!t.ok) {
      throw new WeirApiError(
        'InvalidParameterValue',
        `${op}: field 'at': ${t.problem.message} (got ${JSON.stringify(fields.at)})`,
      );
    }
    now = t.value;
  }
  const built = requestFor(from, to, now);
  if (!built.ok) {
    const hint = built.problem.hint === undefined ? '' : `; ${built.problem.hint}`;
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'to' ${JSON.stringify(to)}: ${built.problem.message}${hint}`,
    );
  }
  const explainer = ctx.options.explainer;
  if (explainer === undefined || explainer(built.value) === undefined) {
    throw new WeirApiError('ServiceUnavailable', `${op}: this server has no policy loaded to explain with`);
  }
  if (fields.resolve === true && ctx.options.resolve === undefined) {
    throw new WeirApiError('InvalidParameterValue', `${op}: field 'resolve': this server has no resolver`);
  }
  const info = ctx.options.explainContext?.() ?? {};
  const asked = await runCheckQuestion(
    // Should the policy go away between the questions of one check, the answer is a denial,
    // as for any evaluation error (serve's explainers always have a snapshot).
    (r) =>
      explainer(r) ?? {
        decision: { allow: false, mode: 'enforce', reason: 'error', identity: r.identity, evalNs: 0 },
        nearMisses: [],
      },
    built.value,
    {
      ...(fields.resolve === true && ctx.options.resolve !== undefined
        ? { resolver: ctx.options.resolve }
        : {}),
      ...(info.unresolved !== undefined ? { unresolved: info.unresolved } : {}),
      ctx: info.set !== undefined ? { set: info.set } : {},
    },
  );
  // The store is read for applied rules only when a policy rule is shown that could have some.
  const shown = [asked.main, ...asked.byAddress].map((c) => c.explanation.decision.matched);
  const report = shown.some((m) => m !== undefined && m.securityGroupRuleId === undefined)
    ? { ...asked, ctx: { ...asked.ctx, appliedRules: await appliedRulesIn(ctx.store, ctx.scope) } }
    : asked;
  return {
    exitCode: checkExitCode(report),
    text: checkText(report),
    result: checkJson(report),
    ...(info.source !== undefined ? { source: info.source } : {}),
  };
}

/**
 * Issues a token, recording it in the store directly, exactly as the API's IssueToken does: for
 * `weir token issue` in data-dir mode, on the host of the server.
 */
export function issueTokenInStore(
  store: Store,
  opts: { readonly tokenKey: Buffer; readonly now: () => Date },
  request: { readonly identity: string; readonly ttl: string; readonly account: string },
): Promise<Json> {
  // The token is bound to `account` (the gateway's, api/weir/tenancy), as the API binds it to the
  // caller's; no namespace is read or written.
  const scope: Scope = { accountId: request.account, region: '' };
  return issueTokenOp(
    { store, scope, now: opts.now, options: { tokenKey: opts.tokenKey } },
    { identity: request.identity, ttl: request.ttl },
  );
}

/**
 * Revokes a token by writing the store directly, exactly as the API's RevokeToken does: for
 * `weir token revoke` in data-dir mode, on the host of the server.
 */
export function revokeTokenInStore(
  store: Store,
  opts: { readonly tokenKey?: Buffer; readonly now: () => Date },
  request: { readonly id?: string; readonly token?: string },
): Promise<Json> {
  const fields: Record<string, string> = {};
  if (request.id !== undefined) fields.id = request.id;
  if (request.token !== undefined) fields.token = request.token;
  const options: WeirApiOptions = opts.tokenKey !== undefined ? { tokenKey: opts.tokenKey } : {};
  // Tokens are server-wide: no namespace is read or written.
  const scope: Scope = { accountId: '', region: '' };
  return revokeTokenOp({ store, scope, now: opts.now, options }, fields);
}
