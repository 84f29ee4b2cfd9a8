/**
 * @module gateway/outcome-metrics — what the gateway's enforcement achieves, beside its traffic
 * metrics: denials to destinations no rule names (failed exfiltration attempts), rules in force
 * past their expiry and rules with wildcards, grants in force and grants that stopped allowing,
 * and how long a policy change takes to be enforced. Allowances by exceptions and break-glass
 * are `weir_gateway_decisions_total{reason="exception"|"breakglass"}`, and guardrail denials
 * `weir_gateway_guardrail_blocks_total{range}` (both in `metrics.ts`). Every label here has a
 * fixed, small set of values.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { GrantKind, PolicyRule } from '../policy-types/index.js';

/** The decision-side counters `createGatewayMetrics` adds to its instruments. */
export interface DecisionOutcomes {
  /** Denials `no-match` with no rule near (neither destination nor port of any rule). */
  readonly unknownDestinations: Counter;
}

/** Registers the decision-side counters (called by `createGatewayMetrics`). */
export function decisionOutcomes(registers: Registry[]): DecisionOutcomes {
  return {
    unknownDestinations: new Counter({
      name: 'weir_gateway_unknown_destination_denials_total',
      help: 'Requests denied no-match with no rule near (no rule names the destination or the port): failed exfiltration attempts.',
      registers,
    }),
  };
}

/** Where the enforcement gauges read from at scrape time. */
export interface EnforcementInfo {
  /** The rules enforced: the policy set's and the attached groups'. */
  readonly rules: () => Iterable<PolicyRule>;
  /** Grants in force at `now`, and grants that stopped allowing since start. */
  readonly grants?: (now: number) => {
    readonly active: Readonly<Record<GrantKind, number>>;
    readonly ended: Readonly<Record<GrantKind, { readonly expired: number; readonly withdrawn: number }>>;
  };
  /** Epoch ms. */
  readonly now: () => number;
}

/** The instrument fed by the snapshot source. */
export interface EnforcementMetrics {
  /** Seconds from a change to the snapshot swap that enforces it, by what changed. */
  readonly enforcementLag: Histogram<'change'>;
}

const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const KINDS: readonly GrantKind[] = ['exception', 'breakglass'];

/** Which wildcard a rule has: a name pattern (`*.`, `**.`), a whole address family (`/0`). */
function wildcards(r: PolicyRule): { name: boolean; anyAddress: boolean } {
  let name = false;
  let anyAddress = false;
  for (const d of r.destinations) {
    if (d.kind === 'fqdn' && d.match !== 'exact') name = true;
    else if (d.kind === 'cidr' && d.cidr.endsWith('/0')) anyAddress = true;
  }
  return { name, anyAddress };
}

/**
 * Registers the enforcement gauges and the policy-change-to-enforcement histogram on
 * `registry`. Gauges are computed at scrape time from `info` (a walk over the rules: scrapes are
 * rare, decisions are not).
 */
export function createEnforcementMetrics(registry: Registry, info: EnforcementInfo): EnforcementMetrics {
  const registers = [registry];
  new Gauge({
    name: 'weir_gateway_rules_expired',
    help: 'Rules in the enforced policy past their expiry (they no longer allow; renew or remove them).',
    registers,
    collect() {
      const now = info.now();
      let n = 0;
      for (const r of info.rules()) if (r.expires !== undefined && now > r.expires) n++;
      this.set(n);
    },
  });
  new Gauge({
    name: 'weir_gateway_rules_wildcard',
    help: 'Rules in the enforced policy with a wildcard: a name pattern (*. or **.) or a whole address family (/0).',
    labelNames: ['wildcard'],
    registers,
    collect() {
      let name = 0;
      let anyAddress = 0;
      for (const r of info.rules()) {
        const w = wildcards(r);
        if (w.name) name++;
        if (w.anyAddress) anyAddress++;
      }
      this.set({ wildcard: 'name' }, name);
      this.set({ wildcard: 'any-address' }, anyAddress);
    },
  });
  const grants = info.grants;
  if (grants !== undefined) registerGrantMetrics(registers, grants, info.now);
  return {
    enforcementLag: new Histogram({
      name: 'weir_gateway_policy_enforcement_seconds',
      help: 'Seconds from a policy change (API write, bundle apply, policy directory change, exception or break-glass change) to the gateway snapshot that enforces it.',
      labelNames: ['change'],
      buckets: LAG_BUCKETS,
      registers,
    }),
  };
}

function registerGrantMetrics(
  registers: Registry[],
  grants: NonNullable<EnforcementInfo['grants']>,
  now: () => number,
): void {
  new Gauge({
    name: 'weir_gateway_grants_active',
    help: 'Grants the gateway enforces now, by kind (approved exceptions, open break-glass sessions).',
    labelNames: ['kind'],
    registers,
    collect() {
      const a = grants(now()).active;
      for (const k of KINDS) this.set({ kind: k }, a[k]);
    },
  });
  // Totals kept by the source; the counter is advanced to them at each scrape.
  const seen = new Map<string, number>();
  new Counter({
    name: 'weir_gateway_grants_ended_total',
    help: 'Grants that stopped allowing: expired (their expiry or window end passed) or withdrawn (revoked, closed).',
    labelNames: ['kind', 'why'],
    registers,
    collect() {
      const ended = grants(now()).ended;
      for (const kind of KINDS) {
        for (const why of ['expired', 'withdrawn'] as const) {
          const key = `${kind} ${why}`;
          const total = ended[kind][why];
          const delta = total - (seen.get(key) ?? 0);
          if (delta > 0) this.inc({ kind, why }, delta);
          else if (!seen.has(key)) this.inc({ kind, why }, 0);
          seen.set(key, total);
        }
      }
    },
  });
}
