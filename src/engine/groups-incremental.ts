/**
 * @module engine/groups-incremental — the control plane compiled part by part and kept between
 * rebuilds, so that an API write recompiles only what it changed: each attached group is its
 * own small snapshot (recompiled when the group, its rules or attachments change, or when a
 * prefix list or group it references changes), the policy set another (recompiled when the set
 * or a reference of it changes), and `build` joins them in a `UnionSnapshot` whose decisions
 * are those of `compileWithControlPlane` over the same input. The caller feeds in what it read
 * (`putGroup`, `putPrefixList`, `setGroupMembers`…); nothing here does I/O.
 */
import type { Scope } from '../model/index.js';
import type { Policy, PolicySet } from '../policy-types/index.js';
import { compilePolicySet } from './compile.js';
import { groupPolicies } from './groups.js';
import type { AttachedGroup } from './groups.js';
import { UnionSnapshot, sumStats } from './groups-union.js';
import type { CompileOptions, Snapshot } from './matcher.js';

/** A prefix list's current entries, as the compiler resolves references to it (by ID or name). */
export interface PrefixListContent {
  readonly id: string;
  readonly name: string;
  readonly cidrs: readonly string[];
}

interface GroupPart {
  readonly input: AttachedGroup;
  /** The group's rules as one enforce-mode policy (see `groupPolicies`). */
  readonly policy: Policy;
  /** `pl:ID-or-name` and `sg:ID` this group's rules reference. */
  readonly refs: ReadonlySet<string>;
  snapshot?: Snapshot;
}

const EMPTY_SET: PolicySet = { policies: [], workloads: [] };

/** The references (`pl:…`, `sg:…`) of a list of policies. */
function refsOf(policies: readonly Policy[]): Set<string> {
  const refs = new Set<string>();
  for (const p of policies)
    for (const r of p.rules)
      for (const d of r.destinations) {
        if (d.kind === 'prefixList') refs.add(`pl:${d.ref}`);
        else if (d.kind === 'group') refs.add(`sg:${d.ref}`);
      }
  return refs;
}

const sameCidrs = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

/** The control plane of one namespace, compiled per part and kept up to date by its caller. */
export class ControlPlaneCompiler {
  readonly #scope: Scope;
  /** Attached groups, in the order first seen. */
  readonly #groups = new Map<string, GroupPart>();
  readonly #lists = new Map<string, PrefixListContent>();
  /** Prefix-list ID or name → CIDRs (IDs win over names); rebuilt when a list changes. */
  #resolve = new Map<string, readonly string[]>();
  #members: ReadonlyMap<string, readonly string[]> = new Map();
  /** References whose content changed since the last successful build. */
  readonly #changedRefs = new Set<string>();
  #set: PolicySet | undefined;
  #setRefs: ReadonlySet<string> = new Set();
  #setSnapshot: Snapshot | undefined;
  /** Prefix-list references of the grants in force (read with the lists of the set and groups). */
  #grantRefs: ReadonlySet<string> = new Set();
  #grantOpts: CompileOptions | undefined;

  constructor(scope: Scope) {
    this.#scope = scope;
  }

  /** Adds or replaces an attached group; a group attached to no identity is removed. */
  putGroup(group: AttachedGroup): void {
    const [policy] = groupPolicies({ scope: this.#scope, groups: [group], prefixLists: [] });
    if (policy === undefined) {
      this.removeGroup(group.group.groupId);
      return;
    }
    // Replacing keeps the group's place in the order (`Map.set` on an existing key).
    this.#groups.set(group.group.groupId, { input: group, policy, refs: refsOf([policy]) });
  }

  /** Forgets a group (deleted, or detached from every identity). */
  removeGroup(groupId: string): void {
    this.#groups.delete(groupId);
  }

  /** IDs of the attached groups held. */
  groupIds(): string[] {
    return [...this.#groups.keys()];
  }

  /** The attached group held under `groupId`, as last put. */
  group(groupId: string): AttachedGroup | undefined {
    return this.#groups.get(groupId)?.input;
  }

  /** Adds or replaces a prefix list's content. */
  putPrefixList(list: PrefixListContent): void {
    const old = this.#lists.get(list.id);
    if (old !== undefined && old.name === list.name && sameCidrs(old.cidrs, list.cidrs)) return;
    this.#lists.set(list.id, list);
    this.#listsChanged([list.id, list.name, ...(old !== undefined ? [old.name] : [])]);
  }

  /** Forgets a deleted prefix list: references to it match nothing. */
  removePrefixList(id: string): void {
    const old = this.#lists.get(id);
    if (old === undefined) return;
    this.#lists.delete(id);
    this.#listsChanged([id, old.name]);
  }

  /** IDs of the prefix lists held. */
  prefixListIds(): string[] {
    return [...this.#lists.keys()];
  }

  /** Whether a prefix-list reference (ID or name) resolves to a list held. */
  hasPrefixList(ref: string): boolean {
    return this.#resolve.has(ref);
  }

  #listsChanged(refs: readonly string[]): void {
    for (const r of refs) this.#changedRefs.add(`pl:${r}`);
    const resolve = new Map<string, readonly string[]>();
    // IDs win over names: an ID is unambiguous, and a list may be named like another's ID.
    for (const pl of this.#lists.values()) if (!resolve.has(pl.name)) resolve.set(pl.name, pl.cidrs);
    for (const pl of this.#lists.values()) resolve.set(pl.id, pl.cidrs);
    this.#resolve = resolve;
  }

  /** Security-group ID → its members' addresses (CIDRs); groups whose members changed are recompiled. */
  setGroupMembers(members: ReadonlyMap<string, readonly string[]>): void {
    for (const [id, cidrs] of members)
      if (!sameCidrs(cidrs, this.#members.get(id))) this.#changedRefs.add(`sg:${id}`);
    for (const id of this.#members.keys()) if (!members.has(id)) this.#changedRefs.add(`sg:${id}`);
    this.#members = members;
  }

  /** Prefix-list references (IDs or names) of the held groups and of `set`. */
  prefixListRefs(set: PolicySet = this.#set ?? EMPTY_SET): Set<string> {
    const out = new Set<string>();
    const add = (refs: ReadonlySet<string>): void => {
      for (const r of refs) if (r.startsWith('pl:')) out.add(r.slice(3));
    };
    for (const g of this.#groups.values()) add(g.refs);
    add(set === this.#set ? this.#setRefs : refsOf(set.policies));
    for (const r of this.#grantRefs) out.add(r);
    return out;
  }

  /**
   * Prefix-list references (IDs or names) the grants in force name, so that the lists they
   * reference are read too; returns whether one of them is not held yet (a full read is due).
   */
  setGrantPrefixLists(refs: ReadonlySet<string>): boolean {
    this.#grantRefs = refs;
    for (const r of refs) if (!this.#resolve.has(r)) return true;
    return false;
  }

  /**
   * What grants are compiled with: the prefix lists and group members of the last read. The same
   * object until either changes, so a caller can tell when to recompile.
   */
  compileOptions(): CompileOptions {
    const o = this.#grantOpts;
    if (o !== undefined && o.prefixLists === this.#resolve && o.groups === this.#members) return o;
    this.#grantOpts = Object.freeze({
      prefixLists: this.#resolve,
      groups: this.#members,
      skipUnresolved: true,
    });
    return this.#grantOpts;
  }

  /** The compiled snapshot of one group as of the last build (tests check what was reused). */
  compiledGroup(groupId: string): Snapshot | undefined {
    return this.#groups.get(groupId)?.snapshot;
  }

  /**
   * Compiles what changed since the last build and joins the parts. Throws (`EngineError`) when
   * a part does not compile; nothing is then kept, and the next build tries again.
   */
  build(set: PolicySet, version: string): Snapshot {
    const t0 = performance.now();
    const changed = (refs: ReadonlySet<string>): boolean => {
      for (const r of refs) if (this.#changedRefs.has(r)) return true;
      return false;
    };
    const opts = {
      prefixLists: this.#resolve,
      groups: this.#members,
      skipUnresolved: true,
      version,
    } as const;
    const setRefs = set === this.#set ? this.#setRefs : refsOf(set.policies);
    const setSnapshot =
      this.#setSnapshot === undefined || set !== this.#set || changed(setRefs)
        ? compilePolicySet(set, opts)
        : this.#setSnapshot;
    const compiled = new Map<string, Snapshot>();
    for (const [id, part] of this.#groups) {
      if (part.snapshot === undefined || changed(part.refs)) {
        compiled.set(id, compilePolicySet({ policies: [part.policy], workloads: [] }, opts));
      }
    }
    // Everything compiled: keep it.
    this.#set = set;
    this.#setRefs = setRefs;
    this.#setSnapshot = setSnapshot;
    this.#changedRefs.clear();
    const byIdentity = new Map<string, Snapshot[]>();
    const stats = [setSnapshot.stats];
    for (const [id, part] of this.#groups) {
      const snapshot = compiled.get(id) ?? part.snapshot;
      if (snapshot === undefined) continue;
      part.snapshot = snapshot;
      stats.push(snapshot.stats);
      for (const w of part.policy.workloads) {
        if (w.identity?.kind !== 'exact') continue;
        const list = byIdentity.get(w.identity.value);
        if (list === undefined) byIdentity.set(w.identity.value, [snapshot]);
        else list.push(snapshot);
      }
    }
    return new UnionSnapshot(setSnapshot, byIdentity, version, sumStats(stats, performance.now() - t0));
  }
}
