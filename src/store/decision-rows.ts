/**
 * @module store/decision-rows — a stored decision read back from its row, the same for every
 * driver: the `decisions` table has the same columns in SQLite and PostgreSQL (migration 12), and
 * only the time's column type differs (epoch ms against `timestamptz`), so the driver passes it.
 */
import type { DecisionGrantRecord, NewDecision, StoredDecision } from './types.js';

/** Optional text columns, by the field they fill. */
const OPTIONAL_TEXT: readonly (readonly [keyof NewDecision, string])[] = [
  ['reason', 'reason'],
  ['identity', 'identity'],
  ['host', 'host'],
  ['ip', 'ip'],
  ['mode', 'mode'],
  ['policy', 'policy'],
  ['policyName', 'policy_name'],
  ['ruleId', 'rule_id'],
  ['securityGroupRuleId', 'sg_rule_id'],
  ['snapshot', 'snapshot'],
  ['guardrail', 'guardrail'],
  ['node', 'node'],
];

/** The decision in row `r` of the `decisions` table, made at `at` (the driver reads the column). */
export function decisionFromRow(r: Readonly<Record<string, unknown>>, at: Date): StoredDecision {
  const optional: Record<string, unknown> = {};
  // exactOptionalPropertyTypes: an absent field is absent, never `undefined`.
  for (const [field, column] of OPTIONAL_TEXT) if (r[column] !== null) optional[field] = r[column];
  if (r['port'] !== null) optional.port = r['port'];
  if (r['grant_json'] !== null) optional.grant = JSON.parse(r['grant_json'] as string) as DecisionGrantRecord;
  return {
    seq: r['seq'] as number,
    at,
    decisionId: r['decision_id'] as string,
    decision: r['decision'] as string,
    src: r['src'] as string,
    protocol: r['protocol'] as string,
    ...optional,
  };
}

/**
 * The values of decision `d`'s row in column order (`at, decision_id, decision, reason, identity,
 * src, protocol, host, ip, port, mode, policy, policy_name, rule_id, sg_rule_id, snapshot,
 * guardrail, grant_kind, grant_id, grant_json, node`), with the time as the driver stores it.
 */
export function decisionRowValues(d: NewDecision, at: unknown): unknown[] {
  return [
    at,
    d.decisionId,
    d.decision,
    d.reason ?? null,
    d.identity ?? null,
    d.src,
    d.protocol,
    d.host ?? null,
    d.ip ?? null,
    d.port ?? null,
    d.mode ?? null,
    d.policy ?? null,
    d.policyName ?? null,
    d.ruleId ?? null,
    d.securityGroupRuleId ?? null,
    d.snapshot ?? null,
    d.guardrail ?? null,
    d.grant?.kind ?? null,
    d.grant?.id ?? null,
    d.grant === undefined ? null : JSON.stringify(d.grant),
    d.node ?? null,
  ];
}
