/**
 * @module engine/grants — grants (approved exceptions, open break-glass sessions) applied on top
 * of a composed snapshot. The snapshot below (policy set and attached groups) is asked first;
 * only when it does not allow (or allows only as a report-mode dry run) are the grants of the
 * request's identity asked, each only while `from ≤ now < until` at the request's `now`. A
 * grant's rules are compiled by the same compiler as a policy's (`compilePolicySet`), so the
 * guardrails apply to them exactly as to rules: a grant can open a guarded range only by naming
 * it, as a rule must (and the on-ramp refuses such grants). A break-glass grant with
 * `everything` allows every destination but the link-local and cloud-metadata ranges (and their
 * IPv6 disguises): an emergency may need loopback-free egress anywhere, never the instance role
 * credentials. An identity with no grant costs one map lookup; a snapshot without grants is the
 * one below, unwrapped.
 */
import { GUARDRAIL_HITS, guardrailIndex, parseAddressInto } from '../model/index.js';
import type { Family, ParsedAddress } from '../model/index.js';
import type { Grant, GrantRef, PolicySet } from '../policy-types/index.js';
import { compilePolicySet } from './compile.js';
import type { CompileOptions, CompileStats, Explanation, Snapshot } from './matcher.js';
import type { Decision, DecisionRequest, MatchedRule } from './types.js';

/** One grant ready to be asked. */
export interface CompiledGrant {
  readonly grant: Grant;
  readonly ref: GrantRef;
  /** Its rules compiled; undefined for `everything`. */
  readonly snapshot: Snapshot | undefined;
  /** The decision an `everything` grant gives (shared, frozen). */
  readonly everything: Decision | undefined;
}

/** Grants compiled by identity, in the order given. */
export type CompiledGrants = ReadonlyMap<string, readonly CompiledGrant[]>;

/**
 * Per entry of `GUARDRAIL_HITS`: whether an `everything` grant must still deny it — link-local
 * and cloud metadata, also when smuggled inside an IPv6 form (the labels of those name the
 * IPv4 range they carry first).
 */
const CLOSED_TO_EVERYTHING = Uint8Array.from(GUARDRAIL_HITS, (g) =>
  g.label.startsWith('link-local') || g.label.startsWith('cloud metadata') ? 1 : 0,
);

/** Whether an `everything` grant may allow an address hitting guardrail `index` (-1: none). */
export function everythingMayPass(index: number): boolean {
  return index < 0 || CLOSED_TO_EVERYTHING[index] === 0;
}

/** What a decision names of a grant. */
export function grantRefOf(g: Grant): GrantRef {
  return Object.freeze({
    kind: g.kind,
    id: g.id,
    requester: g.requester,
    ...(g.approver !== undefined ? { approver: g.approver } : {}),
    reason: g.reason,
    // Past what a Date holds (±8.64e15 ms) there is no ISO text: say so instead of throwing.
    expires: Math.abs(g.expires) <= 8.64e15 ? new Date(g.expires).toISOString() : String(g.expires),
  });
}

/**
 * Compiles grants by identity with the options the policy set was compiled with (prefix lists,
 * group members). A grant whose rules do not compile throws `EngineError`, as a rule would.
 */
export function compileGrants(grants: readonly Grant[], opts: CompileOptions = {}): CompiledGrants {
  const out = new Map<string, CompiledGrant[]>();
  for (const grant of grants) {
    const ref = grantRefOf(grant);
    let snapshot: Snapshot | undefined;
    let everything: Decision | undefined;
    if (grant.everything) {
      const matched: MatchedRule = Object.freeze({
        policy: `${grant.kind}/${grant.id}`,
        file: `${grant.kind}/${grant.id}`,
        line: 0,
        ruleId: grant.id,
        owner: grant.requester,
        expires: ref.expires,
      });
      everything = Object.freeze({
        allow: true,
        mode: 'enforce',
        reason: grant.kind,
        matched,
        identity: grant.identity,
        evalNs: 0,
        grant: ref,
      });
    } else {
      const set: PolicySet = {
        policies: [
          {
            name: `${grant.kind}/${grant.id}`,
            owner: grant.requester,
            labels: {},
            mode: 'enforce',
            workloads: [
              {
                identity: { kind: 'exact', value: grant.identity },
                loc: { file: grant.id, line: 0, col: 0 },
              },
            ],
            rules: grant.rules,
            tests: [],
            loc: { file: grant.id, line: 0, col: 0 },
          },
        ],
        workloads: [],
      };
      snapshot = compilePolicySet(set, { ...opts, identityCacheSize: 4, version: grant.id });
    }
    const list = out.get(grant.identity);
    const c: CompiledGrant = Object.freeze({ grant, ref, snapshot, everything });
    if (list === undefined) out.set(grant.identity, [c]);
    else list.push(c);
  }
  return out;
}

/** The epoch ms of the nearest `from` or `until` after `now`, or Infinity. */
export function nextGrantBoundary(grants: CompiledGrants, now: number): number {
  let next = Infinity;
  for (const list of grants.values()) {
    for (const { grant } of list) {
      if (grant.from > now && grant.from < next) next = grant.from;
      if (grant.until > now && grant.until < next) next = grant.until;
    }
  }
  return next;
}

/** The grants of `grants` that may still allow at or after `now` (those not yet past `until`). */
export function liveGrants(grants: CompiledGrants, now: number): CompiledGrants {
  const out = new Map<string, readonly CompiledGrant[]>();
  for (const [identity, list] of grants) {
    const live = list.filter((c) => c.grant.until > now);
    if (live.length > 0) out.set(identity, live);
  }
  return out;
}

/**
 * `base` with `grants` on top; `base` itself when there are none, so a gateway without grants
 * pays nothing.
 */
export function withGrants(base: Snapshot, grants: CompiledGrants, version = base.version): Snapshot {
  return grants.size === 0 ? base : new GrantedSnapshot(base, grants, version);
}

/** A snapshot whose denials the grants of the identity may turn into allowances; immutable. */
export class GrantedSnapshot implements Snapshot {
  readonly version: string;
  readonly #base: Snapshot;
  readonly #grants: CompiledGrants;
  /** A grant rule's decision (shared by the grant's snapshot) → the grant's allowance, built once. */
  readonly #allowed = new WeakMap<Decision, Decision>();
  readonly #words = new Uint32Array(4);

  constructor(base: Snapshot, grants: CompiledGrants, version = base.version) {
    this.#base = base;
    this.#grants = grants;
    this.version = version;
  }

  get stats(): CompileStats {
    return this.#base.stats;
  }

  /** The grants applied, by identity. */
  get grants(): CompiledGrants {
    return this.#grants;
  }

  decide(req: DecisionRequest, timed = false): Decision {
    const list = this.#grants.get(req.identity);
    if (list === undefined) return this.#base.decide(req, timed);
    const t0 = timed ? process.hrtime.bigint() : 0n;
    const d = this.#granted(req, this.#base.decide(req), false, undefined, list);
    return timed ? Object.freeze({ ...d, evalNs: Number(process.hrtime.bigint() - t0) }) : d;
  }

  decideParsed(req: DecisionRequest, addr: ParsedAddress | undefined, timed = false): Decision {
    const list = this.#grants.get(req.identity);
    if (list === undefined) return this.#base.decideParsed(req, addr, timed);
    const t0 = timed ? process.hrtime.bigint() : 0n;
    const d = this.#granted(req, this.#base.decideParsed(req, addr), true, addr, list);
    return timed ? Object.freeze({ ...d, evalNs: Number(process.hrtime.bigint() - t0) }) : d;
  }

  #granted(
    req: DecisionRequest,
    below: Decision,
    parsed: boolean,
    addr: ParsedAddress | undefined,
    list: readonly CompiledGrant[],
  ): Decision {
    // A rule's allowance names the rule; an error always denies (the request is malformed).
    if (below.reason === 'matched' || below.reason === 'error') return below;
    const now = req.now;
    for (let i = 0; i < list.length; i++) {
      const c = list[i] as CompiledGrant;
      if (!(c.grant.from <= now && now < c.grant.until)) continue;
      if (c.everything !== undefined) {
        if (everythingMayPass(this.#guardOf(req, parsed, addr))) return c.everything;
        continue;
      }
      const d = parsed ? c.snapshot?.decideParsed(req, addr) : c.snapshot?.decide(req);
      if (d !== undefined && d.reason === 'matched') return this.#allowance(d, c);
    }
    return below;
  }

  /** The guardrail the request's address hits (-1: none, or no address). */
  #guardOf(req: DecisionRequest, parsed: boolean, addr: ParsedAddress | undefined): number {
    let family: Family = 0;
    let words: Uint32Array = this.#words;
    if (parsed) {
      if (addr !== undefined) {
        family = addr.family;
        words = addr.words;
      }
    } else if (req.ip !== undefined) {
      family = parseAddressInto(req.ip, words);
    }
    return family === 0 ? -1 : guardrailIndex(family, words);
  }

  #allowance(d: Decision, c: CompiledGrant): Decision {
    let a = this.#allowed.get(d);
    if (a === undefined) {
      a = Object.freeze({
        allow: true,
        mode: 'enforce' as const,
        reason: c.grant.kind,
        ...(d.matched !== undefined ? { matched: d.matched } : {}),
        identity: d.identity,
        evalNs: 0,
        grant: c.ref,
      });
      this.#allowed.set(d, a);
    }
    return a;
  }

  explain(req: DecisionRequest): Explanation {
    const decision = this.decide(req);
    if (decision.grant !== undefined) return Object.freeze({ decision, nearMisses: Object.freeze([]) });
    return this.#base.explain(req);
  }
}
