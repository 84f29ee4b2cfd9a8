/**
 * @module engine/naive — the reference evaluator: the semantics of `matcher.ts` read straight
 * off the policy set, one rule after another, with BigInt addresses and regular expressions.
 * No index, no cache, nothing clever; property tests hold the compiled snapshot to it, and
 * the engine benchmark uses it as the baseline.
 */
import {
  guardrailFor,
  ipv4Mask,
  ipv6Mask,
  parseIpv4,
  parseIpv4Cidr,
  parseIpv6,
  parseIpv6Cidr,
} from '../model/index.js';
import type { Policy, PolicyRule, PolicySet, WorkloadSelector } from '../policy-types/index.js';
import type { Decision, DecisionReason, DecisionRequest, MatchedRule } from './types.js';
import type { CompileOptions, Matcher } from './matcher.js';
import { fqdnMatches, matchedRuleOf, protocolHasPorts, protocolNumber } from './matcher.js';

function globRegex(pattern: string): RegExp {
  let re = '^';
  for (const seg of pattern.split('/')) {
    if (seg === '**') {
      re += '(?:/[^/]*)*';
    } else {
      re +=
        '/' +
        seg
          .split('*')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*');
    }
  }
  return new RegExp(`${re}$`, 's');
}

function selects(
  ws: WorkloadSelector,
  identity: string,
  registered: Readonly<Record<string, string>> | undefined,
) {
  const labels = Object.entries(ws.labels ?? {});
  if (ws.identity === undefined && labels.length === 0) return false;
  if (ws.identity !== undefined) {
    const ok =
      ws.identity.kind === 'exact'
        ? ws.identity.value === identity
        : globRegex(ws.identity.value).test(`/${identity}`);
    if (!ok) return false;
  }
  return labels.every(
    ([k, v]) => registered !== undefined && Object.hasOwn(registered, k) && registered[k] === v,
  );
}

interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

function inCidr(addr: Address, cidr: string): number {
  const c = addr.family === 4 ? parseIpv4Cidr(cidr) : parseIpv6Cidr(cidr);
  if (c === undefined) return -1;
  const m = addr.family === 4 ? BigInt(ipv4Mask(c.prefix)) : ipv6Mask(c.prefix);
  return (addr.value & m) === (BigInt(c.address) & m) ? c.prefix : -1;
}

/** The straightforward evaluator (see the module note). */
export class NaiveEvaluator implements Matcher {
  readonly #set: PolicySet;
  readonly #opts: CompileOptions;

  constructor(set: PolicySet, opts: CompileOptions = {}) {
    this.#set = set;
    this.#opts = opts;
  }

  decide(req: DecisionRequest): Decision {
    try {
      return this.#decide(req);
    } catch {
      return this.#decision(req, false, 'enforce', 'error');
    }
  }

  #decision(
    req: DecisionRequest,
    allow: boolean,
    mode: 'enforce' | 'report',
    reason: DecisionReason,
    matched?: MatchedRule,
    guardrail?: string,
  ): Decision {
    return {
      allow,
      mode,
      reason,
      identity: typeof req?.identity === 'string' ? req.identity : '',
      evalNs: 0,
      ...(matched === undefined ? {} : { matched }),
      ...(guardrail === undefined ? {} : { guardrail }),
    };
  }

  #cidrsOf(rule: PolicyRule): string[] {
    const out: string[] = [];
    for (const d of rule.destinations) {
      if (d.kind === 'cidr') out.push(d.cidr);
      else if (d.kind !== 'fqdn') {
        const list = (d.kind === 'prefixList' ? this.#opts.prefixLists : this.#opts.groups)?.get(d.ref);
        if (list === undefined && this.#opts.skipUnresolved !== true)
          throw new Error(`unresolved ${d.kind} ${d.ref}`);
        out.push(...(list ?? []));
      }
    }
    return out;
  }

  #decide(req: DecisionRequest): Decision {
    const identity = req.identity;
    if (typeof identity !== 'string') throw new TypeError('identity');
    let registered: Readonly<Record<string, string>> | undefined;
    for (const w of this.#set.workloads) if (w.identity === identity) registered = w.labels;
    const applicable: Policy[] = this.#set.policies.filter((p) =>
      p.workloads.some((ws) => selects(ws, identity, registered)),
    );
    if (applicable.length === 0) return this.#decision(req, false, 'enforce', 'unknown-identity');

    const proto = protocolNumber(req.protocol);
    if (proto < 0) return this.#decision(req, false, 'enforce', 'error');
    if (protocolHasPorts(proto) && !(Number.isInteger(req.port) && req.port >= 0 && req.port <= 65535)) {
      return this.#decision(req, false, 'enforce', 'error');
    }
    let addr: Address | undefined;
    if (req.ip !== undefined) {
      const a4 = req.ip.includes(':') ? undefined : parseIpv4(req.ip);
      const a6 = req.ip.includes(':') ? parseIpv6(req.ip) : undefined;
      if (a4 !== undefined) addr = { family: 4, value: BigInt(a4) };
      else if (a6 !== undefined) addr = { family: 6, value: a6 };
      else return this.#decision(req, false, 'enforce', 'error');
    }
    if (req.host === undefined && addr === undefined) return this.#decision(req, false, 'enforce', 'error');
    const hit = req.ip === undefined ? undefined : guardrailFor(req.ip);
    const guard = hit?.inside === true ? hit.guardrail : undefined;

    const rows = applicable.flatMap((policy) =>
      policy.rules.map((rule) => {
        const fqdn = rule.destinations.some(
          (d) => d.kind === 'fqdn' && req.host !== undefined && fqdnMatches(req.host, d.name, d.match),
        );
        const lens = addr === undefined ? [] : this.#cidrsOf(rule).map((c) => inCidr(addr, c));
        const dest = fqdn || lens.some((l) => l >= 0);
        const explicit = guard !== undefined && lens.some((l) => l >= guard.prefixLength);
        const rp = protocolNumber(rule.protocol);
        const pp =
          rp === -1 ||
          (rp === proto &&
            (!protocolHasPorts(rp) ||
              rule.ports.length === 0 ||
              rule.ports.some((r) => req.port >= r.from && req.port <= r.to)));
        const expired = rule.expires !== undefined && req.now > rule.expires;
        return { policy, rule, dest, explicit, pp, expired };
      }),
    );

    const allowRow = rows.find((x) => x.dest && x.pp && !x.expired && (guard === undefined || x.explicit));
    if (allowRow !== undefined) {
      return this.#decision(req, true, allowRow.policy.mode, 'matched', matchedRuleOf(allowRow.rule));
    }
    if (guard !== undefined) {
      const would = rows.find((x) => x.dest && x.pp && !x.expired);
      return this.#decision(
        req,
        false,
        'enforce',
        'guardrail',
        would === undefined ? undefined : matchedRuleOf(would.rule),
        guard.text,
      );
    }
    const expiredRow = rows.find((x) => x.dest && x.pp && x.expired);
    const reason: DecisionReason = expiredRow === undefined ? 'no-match' : 'expired';
    const byPort = rows.find((x) => x.dest && !x.pp);
    const byDestination = byPort === undefined ? rows.find((x) => x.pp && !x.dest) : undefined;
    const nearest = expiredRow ?? byPort ?? byDestination;
    const report = applicable.every((p) => p.mode === 'report');
    const decided = this.#decision(
      req,
      report,
      report ? 'report' : 'enforce',
      reason,
      nearest === undefined ? undefined : matchedRuleOf(nearest.rule),
    );
    const d = report ? { ...decided, policy: applicable[0]?.name ?? '' } : decided;
    if (expiredRow !== undefined || nearest === undefined) return d;
    return { ...d, missedBy: byPort !== undefined ? 'port' : 'destination' };
  }
}
