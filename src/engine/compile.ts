/**
 * @module engine/compile — compiles a policy set into an immutable `Snapshot`: per policy one
 * contiguous block (`policy-table.ts`: header, small name and address sets, rule records),
 * large sets as their own tries (built by `compile-tables.ts`), and an identity index
 * (`identity-entry.ts` holds what is cached per identity). `decide()` walks only the blocks of
 * the policies that apply to the identity (held in its cache entry), parses the address in
 * place and returns a frozen decision shared by every request with the same identity and
 * outcome, so a steady stream of decisions allocates nothing. The semantics are those stated
 * in `matcher.ts`.
 */
import {
  GUARDRAIL_HITS,
  guardrailIndex,
  ipv4Mask,
  ipv6Mask,
  parseIpv4,
  parseIpv6,
  parseAddressInto,
} from '../model/index.js';
import type { Family, ParsedAddress } from '../model/index.js';
import { DECISION_REASONS, reasonCode } from '../policy-types/index.js';
import type { DecisionReason, PolicyRule, PolicySet } from '../policy-types/index.js';
import { CidrHits } from './cidr-trie.js';
import type { CidrTrie } from './cidr-trie.js';
import type { DomainTrie } from './domain-trie.js';
import { TableCompiler, parseCidr, resolveRef } from './compile-tables.js';
import type { AddressEntry } from './compile-tables.js';
import { IdentityEntry } from './identity-entry.js';
import { IdentityIndex } from './identity-index.js';
import type { CompileOptions, CompileStats, Explanation, Snapshot } from './matcher.js';
import { fqdnMatches, protocolHasPorts, protocolNumber } from './matcher.js';
import { BIG, PORT_INDEX_NONE, RULE_STRIDE, suffixHashes } from './policy-table.js';
import type { PolicyTable } from './policy-table.js';
import type { PortRangeTable } from './port-ranges.js';
import type { Decision, DecisionRequest, MatchedRule, NearMiss } from './types.js';

export { EngineError } from './compile-tables.js';
export type { EngineErrorCode } from './compile-tables.js';

const DEFAULT_CACHE = 65_536;
const NONE = 0x7fffffff;
// A compiled decision stores its reason as its index in `DECISION_REASONS`.
const R_MATCHED = reasonCode('matched');
const R_NO_MATCH = reasonCode('no-match');
const R_EXPIRED = reasonCode('expired');
const R_GUARDRAIL = reasonCode('guardrail');
const R_UNKNOWN = reasonCode('unknown-identity');
const R_ERROR = reasonCode('error');
/** What a `no-match`'s nearest rule missed (part of the decision cache key). */
const MISSED_PORT = 1;
const MISSED_DESTINATION = 2;
const GUARD_LEN = Uint8Array.from(GUARDRAIL_HITS.map((g) => g.prefixLength));
/** Hosts up to this length get their suffix hashes without growing the scratch array. */
const HOST_MAX = 255;

/** Reused per decision; a snapshot serves one decision at a time (JavaScript is single-threaded). */
class Scratch {
  readonly words = new Uint32Array(4);
  readonly hits: CidrHits;
  readonly wild: Int32Array;
  /** Suffix hashes of the current host (`suffixHashes`); grown for an overlong host. */
  suf = new Int32Array(HOST_MAX + 1);
  /** `ruleRecord(block, 0)` of the policy being scanned, for `#consider`. */
  recBase = 0;
  /** Whether `suf` holds the current host's suffix hashes. */
  hashed = false;
  proto = 0;
  port = 0;
  now = 0;
  guard = -1;
  guardLen = 0;
  allow = NONE;
  expired = NONE;
  near = NONE;
  would = NONE;
  constructor(hits: number, wild: number) {
    this.hits = new CidrHits(hits);
    this.wild = new Int32Array(Math.max(1, wild));
  }
}

function errorDecision(req: unknown): Decision {
  const identity = (req as { identity?: unknown } | null)?.identity;
  return Object.freeze({
    allow: false,
    mode: 'enforce',
    reason: 'error',
    identity: typeof identity === 'string' ? identity : '',
    evalNs: 0,
  });
}

class CompiledSnapshot implements Snapshot {
  readonly version: string;
  readonly stats: CompileStats;
  readonly #table: PolicyTable;
  /** Policy index → its block in `#table`. */
  readonly #blockOf: Int32Array;
  readonly #tries4: readonly CidrTrie[];
  readonly #tries6: readonly CidrTrie[];
  readonly #domainTries: readonly DomainTrie[];
  readonly #rules: readonly PolicyRule[];
  /** Policy index → name. */
  readonly #policyNames: readonly string[];
  readonly #matched: readonly MatchedRule[];
  readonly #rulePolicy: Int32Array;
  /** Per rule: expiry, epoch ms (Infinity for none); read only for rules whose record says it expires. */
  readonly #expiry: Float64Array;
  readonly #ports: PortRangeTable;
  readonly #index: IdentityIndex;
  readonly #cache = new Map<string, IdentityEntry>();
  readonly #cacheMax: number;
  readonly #s: Scratch;
  readonly #opts: CompileOptions;

  constructor(set: PolicySet, opts: CompileOptions) {
    const t0 = performance.now();
    this.version = opts.version ?? '';
    this.#opts = opts;
    this.#cacheMax = Math.max(1, opts.identityCacheSize ?? DEFAULT_CACHE);
    const t = new TableCompiler(opts).compile(set);
    // Copied into fields of their own: `decide()` reads them with no object in between.
    this.#table = t.table;
    this.#blockOf = t.blockOf;
    this.#tries4 = t.tries4;
    this.#tries6 = t.tries6;
    this.#domainTries = t.domainTries;
    this.#rules = t.rules;
    this.#policyNames = Object.freeze(set.policies.map((p) => p.name));
    this.#matched = t.matched;
    this.#rulePolicy = t.rulePolicy;
    this.#expiry = t.expiry;
    this.#ports = t.ports;
    this.#index = new IdentityIndex(set.policies, set.workloads);
    this.#s = new Scratch(t.maxHits, t.maxWild);
    this.stats = Object.freeze({
      policies: set.policies.length,
      ...t.stats,
      compileMs: performance.now() - t0,
    });
    Object.freeze(this);
  }

  decide(req: DecisionRequest, timed = false): Decision {
    if (timed) return this.#timed(req, false, undefined);
    try {
      return this.#run(req, false, undefined);
    } catch {
      return errorDecision(req);
    }
  }

  decideParsed(req: DecisionRequest, addr: ParsedAddress | undefined, timed = false): Decision {
    if (timed) return this.#timed(req, true, addr);
    try {
      return this.#run(req, true, addr);
    } catch {
      return errorDecision(req);
    }
  }

  #timed(req: DecisionRequest, parsed: boolean, addr: ParsedAddress | undefined): Decision {
    const t0 = process.hrtime.bigint();
    let d: Decision;
    try {
      d = this.#run(req, parsed, addr);
    } catch {
      d = errorDecision(req);
    }
    return Object.freeze({ ...d, evalNs: Number(process.hrtime.bigint() - t0) });
  }

  #entry(identity: string): IdentityEntry {
    let entry = this.#cache.get(identity);
    if (entry === undefined) {
      entry = new IdentityEntry(identity, this.#index.resolve(identity), this.#blockOf, this.#table);
      if (this.#cache.size >= this.#cacheMax) {
        const oldest = this.#cache.keys().next();
        if (oldest.done !== true) this.#cache.delete(oldest.value);
      }
      this.#cache.set(identity, entry);
    }
    return entry;
  }

  /** Whether rule `r`, whose record is at `rec`, allows `proto` on `port`. */
  #ppMatch(rec: number, r: number, proto: number, port: number): boolean {
    const m = this.#table.protoPortMatch(rec, proto, port);
    return m === 1 || (m < 0 && this.#ports.contains(r, port));
  }

  /** Files one candidate rule (its destination matched) under the outcome it supports. */
  #consider(r: number, explicit: boolean): void {
    const s = this.#s;
    const rec = s.recBase + r * RULE_STRIDE;
    if (!this.#ppMatch(rec, r, s.proto, s.port)) {
      if (r < s.near) s.near = r;
    } else if (this.#table.expiresAt(rec) && s.now > (this.#expiry[r] ?? 0)) {
      if (r < s.expired) s.expired = r;
    } else if (s.guard >= 0 && !explicit) {
      if (r < s.would) s.would = r;
    } else if (r < s.allow) {
      s.allow = r;
    }
  }

  #run(req: DecisionRequest, parsed: boolean, addr: ParsedAddress | undefined): Decision {
    const identity = req.identity;
    if (typeof identity !== 'string') throw new TypeError('identity is not a string');
    const entry = this.#entry(identity);
    const count = entry.count;
    if (count === 0) return this.#result(entry, R_UNKNOWN, -1, -1);
    const s = this.#s;
    const proto = protocolNumber(req.protocol);
    const port = req.port;
    if (proto < 0 || (protocolHasPorts(proto) && !(Number.isInteger(port) && port >= 0 && port <= 65535))) {
      return this.#result(entry, R_ERROR, -1, -1);
    }
    const host = req.host;
    let words: Uint32Array = s.words;
    let family: Family = 0;
    if (parsed) {
      if (addr !== undefined) {
        family = addr.family;
        words = addr.words;
      }
    } else if (req.ip !== undefined) {
      family = parseAddressInto(req.ip, words);
      if (family === 0) return this.#result(entry, R_ERROR, -1, -1);
    }
    if (host === undefined && family === 0) return this.#result(entry, R_ERROR, -1, -1);
    const guard = family === 0 ? -1 : guardrailIndex(family, words);
    s.proto = proto;
    s.port = port;
    s.now = req.now;
    s.guard = guard;
    s.guardLen = guard < 0 ? 0 : (GUARD_LEN[guard] ?? 0);
    s.allow = NONE;
    s.expired = NONE;
    s.near = NONE;
    s.would = NONE;
    s.hashed = false;
    const v4 = family === 4;
    const v6 = family === 6;
    this.#scan(
      entry.rec0,
      host === undefined ? 0 : entry.nameN0,
      entry.nameAt0,
      host,
      v4 ? entry.v4N0 : v6 ? entry.v6N0 : 0,
      v4 ? entry.v4At0 : entry.v6At0,
      family,
      words,
    );
    // Later policies hold only higher rule indices: the first allowing policy decides.
    if (s.allow !== NONE) return this.#result(entry, R_MATCHED, s.allow, -1);
    if (count > 1) {
      this.#scan(
        entry.rec1,
        host === undefined ? 0 : entry.nameN1,
        entry.nameAt1,
        host,
        v4 ? entry.v4N1 : v6 ? entry.v6N1 : 0,
        v4 ? entry.v4At1 : entry.v6At1,
        family,
        words,
      );
      if (s.allow !== NONE) return this.#result(entry, R_MATCHED, s.allow, -1);
    }
    const table = this.#table;
    for (let i = 2; i < count; i++) {
      const block = entry.blocks[i] ?? 0;
      const f = v4 ? 4 : 6;
      this.#scan(
        table.ruleRecord(block, 0),
        host === undefined ? 0 : table.nameCount(block),
        table.nameAt(block),
        host,
        family === 0 ? 0 : table.cidrCount(block, f),
        table.cidrAt(block, f),
        family,
        words,
      );
      if (s.allow !== NONE) return this.#result(entry, R_MATCHED, s.allow, -1);
    }
    if (guard >= 0) return this.#result(entry, R_GUARDRAIL, s.would === NONE ? -1 : s.would, guard);
    if (s.expired !== NONE) return this.#result(entry, R_EXPIRED, s.expired, -1);
    if (s.near !== NONE) return this.#result(entry, R_NO_MATCH, s.near, -1, MISSED_PORT);
    const nearest = this.#firstPortMatch(entry, proto, port);
    return this.#result(entry, R_NO_MATCH, nearest, -1, nearest < 0 ? 0 : MISSED_DESTINATION);
  }

  /**
   * Files the candidates of one policy block: its name set (count `nameN`, 0 when there is no
   * host) and its prefix set of the address's family (`cidrN`, 0 when there is no address).
   */
  #scan(
    rec: number,
    nameN: number,
    nameAt: number,
    host: string | undefined,
    cidrN: number,
    cidrAt: number,
    family: Family,
    words: Uint32Array,
  ): void {
    const s = this.#s;
    s.recBase = rec;
    if (nameN !== 0 && host !== undefined) {
      let found: number;
      if (nameN === BIG) {
        found = this.#domainTries[nameAt]?.lookup(host, s.wild, 0) ?? 0;
      } else {
        if (!s.hashed) {
          if (host.length >= s.suf.length) s.suf = new Int32Array(host.length + 1);
          suffixHashes(host, s.suf);
          s.hashed = true;
        }
        found = this.#table.lookupNames(nameAt, nameN, host, s.suf, s.wild, 0);
      }
      for (let j = 0; j < found; j++) this.#consider(s.wild[j] ?? 0, false);
    }
    if (cidrN !== 0) {
      const hits = s.hits;
      hits.count = 0;
      if (cidrN !== BIG) {
        if (family === 4) this.#table.lookupV4(cidrAt, cidrN, words[0] ?? 0, hits);
        else this.#table.lookupV6(cidrAt, cidrN, words, hits);
      } else {
        (family === 4 ? this.#tries4 : this.#tries6)[cidrAt]?.lookup(words, hits);
      }
      // The guardrail yields only to a rule naming its range: a prefix at least as long
      // as the guarded one (both contain the address, so it lies inside it).
      for (let j = 0; j < hits.count; j++)
        this.#consider(hits.ids[j] ?? 0, (hits.lens[j] ?? 0) >= s.guardLen);
    }
  }

  #firstPortMatch(entry: IdentityEntry, proto: number, port: number): number {
    const table = this.#table;
    for (let i = 0; i < entry.count; i++) {
      const block = i === 0 ? entry.block0 : i === 1 ? entry.block1 : (entry.blocks[i] ?? 0);
      const first = table.firstPortRule(block, proto, port);
      if (first !== PORT_INDEX_NONE) {
        if (first >= 0) return first;
        continue;
      }
      const end = table.ruleEnd(block);
      for (let r = table.ruleStart(block); r < end; r++) {
        if (this.#ppMatch(table.ruleRecord(block, r), r, proto, port)) return r;
      }
    }
    return -1;
  }

  #result(entry: IdentityEntry, reason: number, rule: number, guard: number, missed = 0): Decision {
    const key = (((rule + 1) * 128 + (guard + 1)) * 8 + reason) * 4 + missed;
    return entry.decision(key) ?? this.#newDecision(entry, key, reason, rule, guard, missed);
  }

  #newDecision(
    entry: IdentityEntry,
    key: number,
    reason: number,
    rule: number,
    guard: number,
    missed: number,
  ): Decision {
    let allow = false;
    let report = false;
    let reportPolicy: string | undefined;
    if (reason === R_MATCHED) {
      allow = true;
      report = this.#table.isReport(this.#blockOf[this.#rulePolicy[rule] ?? 0] ?? 0);
    } else if ((reason === R_NO_MATCH || reason === R_EXPIRED) && entry.allReport) {
      allow = true;
      report = true;
      reportPolicy = this.#policyNames[entry.policies[0] ?? 0];
    }
    const d: {
      allow: boolean;
      mode: 'enforce' | 'report';
      reason: DecisionReason;
      matched?: MatchedRule;
      identity: string;
      evalNs: number;
      guardrail?: string;
      missedBy?: 'port' | 'destination';
      policy?: string;
    } = {
      allow,
      mode: report ? 'report' : 'enforce',
      reason: DECISION_REASONS[reason] ?? 'error',
      identity: entry.identity,
      evalNs: 0,
    };
    const m = rule >= 0 ? this.#matched[rule] : undefined;
    if (m !== undefined) d.matched = m;
    const g = guard >= 0 ? GUARDRAIL_HITS[guard] : undefined;
    if (g !== undefined) d.guardrail = g.text;
    if (missed === MISSED_PORT) d.missedBy = 'port';
    else if (missed === MISSED_DESTINATION) d.missedBy = 'destination';
    if (reportPolicy !== undefined) d.policy = reportPolicy;
    const frozen = Object.freeze(d);
    entry.remember(key, frozen);
    return frozen;
  }

  explain(req: DecisionRequest): Explanation {
    const decision = this.decide(req);
    const r = decision.reason;
    if (r === 'matched' || r === 'unknown-identity' || r === 'error') {
      return Object.freeze({ decision, nearMisses: Object.freeze([]) });
    }
    const entry = this.#entry(req.identity);
    const proto = protocolNumber(req.protocol);
    let ip: AddressEntry | undefined;
    if (req.ip !== undefined) {
      const v4 = parseIpv4(req.ip);
      const v6 = v4 === undefined ? parseIpv6(req.ip) : undefined;
      if (v4 !== undefined) ip = { family: 4, net: BigInt(v4), len: 32 };
      else if (v6 !== undefined) ip = { family: 6, net: v6, len: 128 };
    }
    const guard = GUARDRAIL_HITS.find((g) => g.text === decision.guardrail);
    const target = [req.host, req.ip].filter((x) => x !== undefined).join(' / ');
    const found: { rank: number; index: number; miss: NearMiss }[] = [];
    for (const block of entry.blocks) {
      const end = this.#table.ruleEnd(block);
      for (let index = this.#table.ruleStart(block); index < end; index++) {
        const rule = this.#rules[index];
        const m = this.#matched[index];
        if (rule === undefined || m === undefined) continue;
        const dest = this.#destinationMatch(rule, req.host, ip, guard?.prefixLength ?? 0);
        const rec = this.#table.ruleRecord(block, index);
        const rp = this.#table.protocolAt(rec);
        const protoOk = rp === -1 || rp === proto;
        const portOk = protoOk && this.#ppMatch(rec, index, proto, req.port);
        const expired = req.now > (this.#expiry[index] ?? 0);
        const why: string[] = [];
        if (!dest.matched) why.push(`destination ${target} is not ${describeDestinations(rule)}`);
        if (!protoOk) why.push(`protocol ${req.protocol} is not ${rule.protocol}`);
        else if (!portOk) {
          const ranges = this.#ports
            .ranges(index)
            .map((x) => (x.from === x.to ? `${x.from}` : `${x.from}-${x.to}`));
          why.push(`port ${req.port} not in ${ranges.join(', ')}`);
        }
        if (expired) why.push(`expired ${m.expires ?? ''} (owner ${m.owner ?? 'not set'})`);
        if (guard !== undefined && dest.matched && !dest.explicit) {
          why.push(`${req.ip ?? ''} is in guardrail ${guard.text}, which the rule does not name`);
        }
        if (why.length === 0 || (!dest.matched && !portOk)) continue;
        const rank = dest.matched && portOk ? 0 : dest.matched ? 1 : 2;
        found.push({ rank, index, miss: Object.freeze({ rule: m, loc: rule.loc, why: Object.freeze(why) }) });
      }
    }
    found.sort((a, b) => a.rank - b.rank || a.index - b.index);
    return Object.freeze({ decision, nearMisses: Object.freeze(found.slice(0, 5).map((f) => f.miss)) });
  }

  #destinationMatch(
    rule: PolicyRule,
    host: string | undefined,
    ip: AddressEntry | undefined,
    guardLen: number,
  ): { matched: boolean; explicit: boolean } {
    let matched = false;
    let explicit = false;
    const contains = (c: AddressEntry): boolean => {
      if (ip === undefined || c.family !== ip.family) return false;
      const m = c.family === 4 ? BigInt(ipv4Mask(c.len)) : ipv6Mask(c.len);
      return (ip.net & m) === c.net;
    };
    for (const d of rule.destinations) {
      if (d.kind === 'fqdn') {
        if (host !== undefined && fqdnMatches(host, d.name, d.match)) matched = true;
        continue;
      }
      const texts = d.kind === 'cidr' ? [d.cidr] : resolveRef(d, rule, this.#opts, undefined);
      for (const text of texts) {
        const c = parseCidr(text);
        if (c !== undefined && contains(c)) {
          matched = true;
          if (c.len >= guardLen) explicit = true;
        }
      }
    }
    return { matched, explicit };
  }
}

function describeDestinations(rule: PolicyRule): string {
  return rule.destinations
    .map((d) => {
      switch (d.kind) {
        case 'fqdn':
          return d.match === 'exact' ? d.name : `${d.match === 'one-label' ? '*' : '**'}.${d.name}`;
        case 'cidr':
          return d.cidr;
        default:
          return `${d.kind} ${d.ref}`;
      }
    })
    .join(', ');
}

/**
 * Compiles a policy set into an immutable decision snapshot.
 * @throws EngineError `EngineUnresolvedRef` for a prefix-list/group reference missing from
 *   `opts` (unless `skipUnresolved`), `EngineInvalidRule` for a rule the engine cannot read
 *   (unknown protocol, bad port range or CIDR).
 */
export function compilePolicySet(set: PolicySet, opts: CompileOptions = {}): Snapshot {
  return new CompiledSnapshot(set, opts);
}
