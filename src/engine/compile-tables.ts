/**
 * @module engine/compile-tables — the compile step: a policy set in, the tables a snapshot
 * decides from out (per policy one block of `policy-table.ts`, large sets as their own tries,
 * rule records, port ranges, expiries). Every rule is checked here, once, so nothing on the
 * decision path parses or validates. `compile.ts` wraps the tables in the `Snapshot`.
 */
import {
  WeirError,
  bigIntToWords,
  ipv4Mask,
  ipv6Mask,
  parseIpv4Cidr,
  parseIpv6Cidr,
} from '../model/index.js';
import type {
  Destination,
  Policy,
  PolicyRule,
  PolicySet,
  PortRange,
  SourceLocation,
} from '../policy-types/index.js';
import type { CompileOptions, CompileStats } from './matcher.js';
import { CidrTrieBuilder, LINEAR_MAX } from './cidr-trie.js';
import type { CidrEntry, CidrTrie } from './cidr-trie.js';
import { DomainTrieBuilder } from './domain-trie.js';
import type { DomainEntry, DomainTrie } from './domain-trie.js';
import { BAD_PROTOCOL, matchedRuleOf, protocolHasPorts, protocolNumber } from './matcher.js';
import { PolicyTableBuilder } from './policy-table.js';
import type { PolicyTable, SetSlot } from './policy-table.js';
import { PortRangeTableBuilder, isValidPortRange, mergePortRanges } from './port-ranges.js';
import type { PortRangeTable } from './port-ranges.js';
import type { MatchedRule } from './types.js';

/** Why a policy set does not compile. */
export type EngineErrorCode = 'EngineUnresolvedRef' | 'EngineInvalidRule';

/** A policy set the engine cannot compile; the message starts with `file:line:col:`. */
export class EngineError extends WeirError {
  declare readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, loc: SourceLocation, message: string) {
    super(code, `${loc.file}:${loc.line}:${loc.col}: ${message}`);
    this.name = 'EngineError';
  }
}

/** A CIDR as a network number and prefix length. */
export interface AddressEntry {
  readonly family: 4 | 6;
  readonly net: bigint;
  readonly len: number;
}

/** Parses an IPv4 or IPv6 CIDR (host bits cleared); undefined when `text` is neither. */
export function parseCidr(text: string): AddressEntry | undefined {
  const c4 = parseIpv4Cidr(text);
  if (c4 !== undefined)
    return { family: 4, net: BigInt((c4.address & ipv4Mask(c4.prefix)) >>> 0), len: c4.prefix };
  const c6 = parseIpv6Cidr(text);
  if (c6 !== undefined) return { family: 6, net: c6.address & ipv6Mask(c6.prefix), len: c6.prefix };
  return undefined;
}

/**
 * The CIDRs a prefix-list or group destination stands for, from `opts`. An unknown reference
 * throws, or with `skipUnresolved` is noted in `unresolved` (when given) and matches nothing.
 */
export function resolveRef(
  d: Extract<Destination, { kind: 'prefixList' | 'group' }>,
  rule: PolicyRule,
  opts: CompileOptions,
  unresolved: string[] | undefined,
): readonly string[] {
  const map = d.kind === 'prefixList' ? opts.prefixLists : opts.groups;
  const cidrs = map?.get(d.ref);
  if (cidrs !== undefined) return cidrs;
  if (opts.skipUnresolved === true) {
    unresolved?.push(`${d.kind}:${d.ref}`);
    return [];
  }
  const option = d.kind === 'prefixList' ? 'prefixLists' : 'groups';
  throw new EngineError(
    'EngineUnresolvedRef',
    d.loc,
    `rule ${rule.id} of policy ${rule.policy}: ${d.kind === 'prefixList' ? 'prefix list' : 'security group'} ` +
      `"${d.ref}" is unknown; pass its CIDRs in the ${option} option, or compile with skipUnresolved`,
  );
}

/** What a snapshot decides from. Rules are numbered in policy order across the whole set. */
export interface CompiledTables {
  readonly table: PolicyTable;
  /** Policy index → its block in `table`. */
  readonly blockOf: Int32Array;
  readonly tries4: readonly CidrTrie[];
  readonly tries6: readonly CidrTrie[];
  readonly domainTries: readonly DomainTrie[];
  readonly rules: readonly PolicyRule[];
  readonly matched: readonly MatchedRule[];
  /** Rule → its policy's index. */
  readonly rulePolicy: Int32Array;
  /** Per rule: expiry, epoch ms (Infinity for none). */
  readonly expiry: Float64Array;
  readonly ports: PortRangeTable;
  /** The most CIDR entries one lookup can hit, and name wildcards one host can match. */
  readonly maxHits: number;
  readonly maxWild: number;
  /** The statistics of the compile, but for `policies` and `compileMs` (the snapshot's). */
  readonly stats: Omit<CompileStats, 'policies' | 'compileMs'>;
}

/** One policy's destination sets while its rules are read. */
interface PolicySets {
  readonly v4: CidrTrieBuilder;
  readonly v6: CidrTrieBuilder;
  readonly domain: DomainTrieBuilder;
}

/** A rule record of the policy table, before the table is built. */
interface RuleRecord {
  readonly proto: number;
  readonly expires: boolean;
  readonly ports: readonly PortRange[];
}

/** Compiles one policy set (use once): `compile(set)` reads every policy into the tables. */
export class TableCompiler {
  readonly #opts: CompileOptions;
  /** Sets up to this size stay in the policy's block; larger ones get a trie. */
  readonly #small: number;
  readonly #rules: PolicyRule[] = [];
  readonly #matched: MatchedRule[] = [];
  readonly #rulePolicy: number[] = [];
  readonly #expiry: number[] = [];
  readonly #ports = new PortRangeTableBuilder();
  readonly #unresolved: string[] = [];
  readonly #counts = { fqdnExact: 0, fqdnWildcard: 0, cidrV4: 0, cidrV6: 0, resolvedCidrs: 0 };
  readonly #nodes = { v4: 0, v6: 0, domain: 0 };
  readonly #table = new PolicyTableBuilder();
  readonly #tries4: CidrTrie[] = [];
  readonly #tries6: CidrTrie[] = [];
  readonly #domainTries: DomainTrie[] = [];
  /** Scratch for one IPv4/IPv6 network as 32-bit words. */
  readonly #key = new Uint32Array(4);
  #maxHits = 0;
  #maxWild = 0;

  constructor(opts: CompileOptions) {
    this.#opts = opts;
    this.#small = opts.smallSetMax ?? LINEAR_MAX;
  }

  /**
   * @throws EngineError for an unknown reference (unless `skipUnresolved`) or a rule the engine
   *   cannot read (unknown protocol, bad port range or CIDR, expiry that is not a time).
   */
  compile(set: PolicySet): CompiledTables {
    const blockOf = new Int32Array(set.policies.length);
    set.policies.forEach((policy, pi) => {
      blockOf[pi] = this.#policy(policy, pi);
    });
    return {
      table: this.#table.build(),
      blockOf,
      tries4: Object.freeze(this.#tries4),
      tries6: Object.freeze(this.#tries6),
      domainTries: Object.freeze(this.#domainTries),
      rules: Object.freeze(this.#rules),
      matched: Object.freeze(this.#matched),
      rulePolicy: Int32Array.from(this.#rulePolicy),
      expiry: Float64Array.from(this.#expiry),
      ports: this.#ports.build(),
      maxHits: this.#maxHits,
      maxWild: this.#maxWild,
      stats: {
        rules: this.#rules.length,
        ...this.#counts,
        unresolved: Object.freeze(this.#unresolved),
        trieNodes: Object.freeze(this.#nodes),
      },
    };
  }

  /** Reads one policy's rules; returns its block in the table. */
  #policy(policy: Policy, pi: number): number {
    const sets: PolicySets = {
      v4: new CidrTrieBuilder(4),
      v6: new CidrTrieBuilder(6),
      domain: new DomainTrieBuilder(),
    };
    const start = this.#rules.length;
    const records: RuleRecord[] = [];
    for (const rule of policy.rules) records.push(this.#rule(rule, pi, sets));
    return this.#table.add({
      ruleStart: start,
      report: policy.mode === 'report',
      v4: this.#cidrSlot(sets.v4, this.#tries4, 4),
      v6: this.#cidrSlot(sets.v6, this.#tries6, 6),
      names: this.#nameSlot(sets.domain),
      rules: records,
    });
  }

  /** Checks one rule, numbers it, and files its destinations in the policy's sets. */
  #rule(rule: PolicyRule, pi: number, sets: PolicySets): RuleRecord {
    const r = this.#rules.length;
    const proto = protocolNumber(rule.protocol);
    if (proto === BAD_PROTOCOL) {
      throw new EngineError(
        'EngineInvalidRule',
        rule.loc,
        `rule ${rule.id}: unknown protocol "${rule.protocol}"`,
      );
    }
    const bad = rule.ports.find((p) => !isValidPortRange(p));
    if (bad !== undefined) {
      throw new EngineError(
        'EngineInvalidRule',
        rule.loc,
        `rule ${rule.id}: bad port range ${bad.from}-${bad.to}`,
      );
    }
    if (rule.expires !== undefined && Number.isNaN(rule.expires)) {
      throw new EngineError('EngineInvalidRule', rule.loc, `rule ${rule.id}: expiry is not a time`);
    }
    this.#rules.push(rule);
    this.#matched.push(matchedRuleOf(rule));
    this.#rulePolicy.push(pi);
    this.#expiry.push(rule.expires ?? Infinity);
    const portSet = protocolHasPorts(proto) ? rule.ports : [];
    this.#ports.add(portSet);
    for (const d of rule.destinations) this.#destination(d, rule, r, sets);
    return { proto, expires: rule.expires !== undefined, ports: mergePortRanges(portSet) };
  }

  #destination(d: Destination, rule: PolicyRule, r: number, sets: PolicySets): void {
    if (d.kind === 'fqdn') {
      sets.domain.add(d.name, d.match, r);
      if (d.match === 'exact') this.#counts.fqdnExact++;
      else this.#counts.fqdnWildcard++;
    } else if (d.kind === 'cidr') {
      const entry = parseCidr(d.cidr);
      if (entry?.family !== d.family) {
        throw new EngineError(
          'EngineInvalidRule',
          d.loc,
          `rule ${rule.id}: "${d.cidr}" is not an IPv${d.family} CIDR`,
        );
      }
      this.#insert(entry, r, sets);
      if (entry.family === 4) this.#counts.cidrV4++;
      else this.#counts.cidrV6++;
    } else {
      for (const text of resolveRef(d, rule, this.#opts, this.#unresolved)) {
        const entry = parseCidr(text);
        if (entry === undefined) {
          throw new EngineError('EngineInvalidRule', d.loc, `${d.kind} ${d.ref} holds "${text}", not a CIDR`);
        }
        this.#insert(entry, r, sets);
        this.#counts.resolvedCidrs++;
      }
    }
  }

  #insert(entry: AddressEntry, r: number, sets: PolicySets): void {
    const key = this.#key;
    if (entry.family === 4) {
      key[0] = Number(entry.net);
      sets.v4.insert(key, entry.len, r);
    } else {
      sets.v6.insert(bigIntToWords(entry.net, key), entry.len, r);
    }
  }

  /** A small address set goes into the policy's block, a large one gets a trie of its own. */
  #cidrSlot(b: CidrTrieBuilder, tries: CidrTrie[], family: 4 | 6): SetSlot<CidrEntry> {
    if (b.size <= this.#small) {
      this.#maxHits = Math.max(this.#maxHits, b.size);
      return { entries: b.entries };
    }
    const trie = b.build();
    this.#maxHits = Math.max(this.#maxHits, trie.entries);
    if (family === 4) this.#nodes.v4 += trie.nodes;
    else this.#nodes.v6 += trie.nodes;
    return { trie: tries.push(trie) - 1 };
  }

  /** As `#cidrSlot`, for the policy's host names. */
  #nameSlot(b: DomainTrieBuilder): SetSlot<DomainEntry> {
    if (b.size <= this.#small) {
      this.#maxWild = Math.max(this.#maxWild, b.size);
      return { entries: b.entries };
    }
    const trie = b.build();
    this.#nodes.domain += trie.nodes;
    this.#maxWild = Math.max(this.#maxWild, trie.maxHits);
    return { trie: this.#domainTries.push(trie) - 1 };
  }
}
