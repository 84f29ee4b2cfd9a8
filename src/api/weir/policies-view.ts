/**
 * @module api/weir/policies-view — the console's "Policies and rules" screen as a Weir API read
 * (`ListPolicyRules`): every rule of the policy set the server enforces, with owner,
 * justification, data class, expiry (expired and expiring flagged) and where it is written; the
 * bundle in force and the bundles applied before it (who applied each, from the audit trail).
 */
import { createHash } from 'node:crypto';
import type { StoredBundle } from '../../store/index.js';
import type { OperationContext } from './operations.js';
import { WeirApiError } from './errors.js';
import { booleanQuery } from './input.js';
import { limitQuery, policyRuleJson, textQuery } from './inventory-format.js';

type Json = Record<string, unknown>;

/**
 * Rules answered by default and at most; bundles of the history (each read whole, up to 16 MiB:
 * few, so a read-only caller cannot make the server hold many); ApplyBundle records read for "by".
 */
const DEFAULT_RULES = 1000;
const MAX_RULES = 10_000;
const HISTORY = 25;
const MAX_APPLY_RECORDS = 10_000;

/** The signed header fields of a stored bundle (its bytes were verified when it was applied). */
function bundleMeta(b: StoredBundle): Json {
  try {
    const parsed = JSON.parse(b.bytes.toString('utf8')) as Record<string, unknown>;
    const str = (k: string): Json => (typeof parsed[k] === 'string' ? { [k]: parsed[k] } : {});
    return { ...str('keyId'), ...str('audience'), ...str('created') };
  } catch {
    return {};
  }
}

/**
 * Who applied each bundle: the principal of the successful `ApplyBundle` audit record whose body
 * hash is the stored bytes' (the audit trail records a bundle by its SHA-256, never its bytes).
 */
async function appliedBy(ctx: OperationContext): Promise<Map<string, string>> {
  const records = await ctx.store.transaction(
    undefined,
    (tx) => tx.listAuditRecords({ eventName: 'ApplyBundle', limit: MAX_APPLY_RECORDS }),
    { readOnly: true },
  );
  const by = new Map<string, string>();
  for (const r of records) {
    try {
      const event = JSON.parse(r.event) as {
        errorCode?: string;
        requestParameters?: { body?: { sha256?: string } };
      };
      const sha = event.requestParameters?.body?.sha256;
      if (event.errorCode === undefined && typeof sha === 'string') by.set(sha, r.principal);
    } catch {
      // A record that does not parse is the audit verifier's to report, not this view's.
    }
  }
  return by;
}

/** The bundle in force and the history, newest first. */
async function bundles(ctx: OperationContext): Promise<Json> {
  const history = await ctx.store.transaction(undefined, (tx) => tx.listPolicyBundles(HISTORY), {
    readOnly: true,
  });
  const by = history.length === 0 ? new Map<string, string>() : await appliedBy(ctx);
  const json = history.map((b) => {
    const principal = by.get(createHash('sha256').update(b.bytes).digest('hex'));
    return {
      version: b.version,
      hash: b.hash,
      appliedAt: b.appliedAt.toISOString(),
      ...(principal !== undefined ? { appliedBy: principal } : {}),
      ...bundleMeta(b),
    };
  });
  // Under --policy DIR the directory is enforced and no bundle is, whatever was applied.
  const dir = ctx.options.policyDir;
  return {
    ...(dir === undefined && json[0] !== undefined ? { bundle: { ...json[0], inForce: true } } : {}),
    bundleHistory: json,
  };
}

/** `GET policies[?policy=&rule=&q=&expiring=&limit=]`: the rules in force, the bundle and its history. */
export async function listPolicyRulesOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const op = 'ListPolicyRules';
  const limit = limitQuery(query, op, DEFAULT_RULES, MAX_RULES);
  const policy = textQuery(query, 'policy', op);
  const rule = textQuery(query, 'rule', op);
  const q = textQuery(query, 'q', op)?.toLowerCase();
  const expiringOnly = booleanQuery(query, 'expiring', op);
  const info = ctx.options.explainContext?.();
  if (info === undefined) {
    throw new WeirApiError('ServiceUnavailable', `${op}: this server has no policy loaded`);
  }
  const now = ctx.now().getTime();
  const set = info.set ?? { policies: [], workloads: [] };
  const rows: Json[] = [];
  let total = 0;
  for (const p of set.policies) {
    if (policy !== undefined && p.name !== policy) continue;
    for (const r of p.rules) {
      if (rule !== undefined && r.id !== rule) continue;
      const j: Record<string, unknown> = { mode: p.mode, ...policyRuleJson(r, now) };
      if (expiringOnly && j.expiring !== true && j.expired !== true) continue;
      if (q !== undefined && !JSON.stringify(j).toLowerCase().includes(q)) continue;
      total++;
      if (rows.length < limit) rows.push(j);
    }
  }
  return {
    ...(info.source !== undefined ? { enforcing: info.source } : {}),
    ...(ctx.options.policyDir !== undefined ? { policyDir: ctx.options.policyDir } : {}),
    policies: set.policies
      .filter((p) => policy === undefined || p.name === policy)
      .map((p) => ({
        name: p.name,
        mode: p.mode,
        ...(p.owner !== undefined ? { owner: p.owner } : {}),
        rules: p.rules.length,
        declaredIn: `${p.loc.file}:${p.loc.line}:${p.loc.col}`,
      })),
    rules: rows,
    ...(total > rows.length ? { truncated: true, total } : {}),
    ...(await bundles(ctx)),
  };
}
