/**
 * @module engine/groups-union — one `Snapshot` made of several compiled parts: the policy set's
 * snapshot, asked for every identity, and one small snapshot per attached security group, asked
 * only for the identities attached to it. Each part is compiled on its own, so a change to one
 * group recompiles only that group (`groups-incremental.ts`). The answer is the one a single
 * snapshot of all parts would give (`matcher.ts`), parts taken in order (policy set first):
 * the first part that allows decides and is named; otherwise the strongest denial (guardrail,
 * then expired, then no-match) of the first part that gives it; a report-mode allowance of the
 * policy set holds only if no group applies (groups always enforce); a `no-match` names the
 * nearest rule over all parts: the first that missed only by port, else the first that missed
 * only by destination, as one compile of all parts would.
 */
import type { ParsedAddress } from '../model/index.js';
import type { CompileStats, Explanation, Snapshot } from './matcher.js';
import type { Decision, DecisionReason, DecisionRequest, NearMiss } from './types.js';

const STRENGTH: Readonly<Partial<Record<DecisionReason, number>>> = {
  guardrail: 3,
  expired: 2,
  'no-match': 1,
};

/** Several compiled parts answering as one snapshot; immutable. */
export class UnionSnapshot implements Snapshot {
  readonly version: string;
  readonly stats: CompileStats;
  readonly #base: Snapshot;
  readonly #byIdentity: ReadonlyMap<string, readonly Snapshot[]>;
  /** Report-mode allowances of the policy set turned into denials (a group enforces), built once each. */
  readonly #enforced = new WeakMap<Decision, Decision>();

  /**
   * @param base the policy set's snapshot, asked for every identity, first.
   * @param byIdentity exact identity → the snapshots of the groups attached to it, in order.
   * @param stats what was compiled, summed over the parts.
   */
  constructor(
    base: Snapshot,
    byIdentity: ReadonlyMap<string, readonly Snapshot[]>,
    version: string,
    stats: CompileStats,
  ) {
    this.#base = base;
    this.#byIdentity = byIdentity;
    this.version = version;
    this.stats = stats;
  }

  decide(req: DecisionRequest, timed = false): Decision {
    const groups = this.#byIdentity.get(req.identity);
    if (groups === undefined) return this.#base.decide(req, timed);
    if (!timed) return this.#combine(req, undefined, false, groups);
    const t0 = process.hrtime.bigint();
    const d = this.#combine(req, undefined, false, groups);
    return Object.freeze({ ...d, evalNs: Number(process.hrtime.bigint() - t0) });
  }

  decideParsed(req: DecisionRequest, addr: ParsedAddress | undefined, timed = false): Decision {
    const groups = this.#byIdentity.get(req.identity);
    if (groups === undefined) return this.#base.decideParsed(req, addr, timed);
    if (!timed) return this.#combine(req, addr, true, groups);
    const t0 = process.hrtime.bigint();
    const d = this.#combine(req, addr, true, groups);
    return Object.freeze({ ...d, evalNs: Number(process.hrtime.bigint() - t0) });
  }

  #combine(
    req: DecisionRequest,
    addr: ParsedAddress | undefined,
    parsed: boolean,
    groups: readonly Snapshot[],
  ): Decision {
    const first = parsed ? this.#base.decideParsed(req, addr) : this.#base.decide(req);
    if (first.reason === 'matched' || first.reason === 'error') return first;
    let best = first.reason === 'unknown-identity' ? undefined : first;
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (g === undefined) continue;
      const d = parsed ? g.decideParsed(req, addr) : g.decide(req);
      if (d.reason === 'matched' || d.reason === 'error') return d;
      if (d.reason === 'unknown-identity') continue;
      if (best === undefined || better(d, best)) best = d;
    }
    if (best === undefined) return first;
    // Only the policy set can be in report mode; an applicable group enforces, so no dry run.
    return best.allow ? this.#enforce(best) : best;
  }

  #enforce(d: Decision): Decision {
    let e = this.#enforced.get(d);
    if (e === undefined) {
      // No longer a report-mode pass, so no dry-run policy to attribute it to.
      const { policy: _dryRun, ...denial } = d;
      e = Object.freeze({ ...denial, allow: false, mode: 'enforce' as const });
      this.#enforced.set(d, e);
    }
    return e;
  }

  explain(req: DecisionRequest): Explanation {
    const decision = this.decide(req);
    const groups = this.#byIdentity.get(req.identity);
    if (groups === undefined) return this.#base.explain(req);
    const r = decision.reason;
    if (r === 'matched' || r === 'unknown-identity' || r === 'error') {
      return Object.freeze({ decision, nearMisses: Object.freeze([]) });
    }
    const misses: NearMiss[] = [];
    for (const part of [this.#base, ...groups]) misses.push(...part.explain(req).nearMisses);
    return Object.freeze({ decision, nearMisses: Object.freeze(misses.slice(0, 5)) });
  }
}

/**
 * Whether denial `d` of a later part outweighs `best` of an earlier one: a stronger reason, or
 * the same reason where only `d` names a rule (a guardrail hit a rule did not name), or a
 * `no-match` whose nearest rule missed only by port where `best`'s missed by destination.
 */
function better(d: Decision, best: Decision): boolean {
  const a = STRENGTH[d.reason] ?? 0;
  const b = STRENGTH[best.reason] ?? 0;
  if (a !== b) return a > b;
  if (best.matched === undefined) return d.matched !== undefined;
  return d.missedBy === 'port' && best.missedBy === 'destination';
}

/** The stats of several parts, summed; `compileMs` is what this build spent compiling. */
export function sumStats(parts: readonly CompileStats[], compileMs: number): CompileStats {
  const out = {
    policies: 0,
    rules: 0,
    fqdnExact: 0,
    fqdnWildcard: 0,
    cidrV4: 0,
    cidrV6: 0,
    resolvedCidrs: 0,
  };
  const unresolved: string[] = [];
  const nodes = { v4: 0, v6: 0, domain: 0 };
  for (const p of parts) {
    out.policies += p.policies;
    out.rules += p.rules;
    out.fqdnExact += p.fqdnExact;
    out.fqdnWildcard += p.fqdnWildcard;
    out.cidrV4 += p.cidrV4;
    out.cidrV6 += p.cidrV6;
    out.resolvedCidrs += p.resolvedCidrs;
    unresolved.push(...p.unresolved);
    nodes.v4 += p.trieNodes.v4;
    nodes.v6 += p.trieNodes.v6;
    nodes.domain += p.trieNodes.domain;
  }
  return Object.freeze({
    ...out,
    unresolved: Object.freeze([...new Set(unresolved)]),
    trieNodes: Object.freeze(nodes),
    compileMs,
  });
}
