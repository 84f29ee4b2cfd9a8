/**
 * @module snapshot/control-plane-read — what a rebuild of the control-plane source reads from the
 * store into the incremental compiler: the groups attached (through the API or declared by the
 * policy set's registry) in the gateway's namespace with their egress rules, the prefix lists
 * they and the set reference, and the members of each group (the identity map's sources). Only
 * what the change events named is re-read, unless a full read is asked for.
 */
import type { AttachedGroup, ControlPlaneCompiler } from '../engine/index.js';
import type { IdentityMap } from '../identity/index.js';
import type { Scope } from '../model/index.js';
import { declaredAttachments } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import type { StoreTx } from '../store/index.js';

/** What a rebuild must re-read: everything, or the groups and prefix lists events named. */
export interface Pending {
  full: boolean;
  readonly groups: Set<string>;
  readonly prefixLists: Set<string>;
}

/** Nothing to re-read yet (`full`: everything). */
export function pendingNothing(full = false): Pending {
  return { full, groups: new Set(), prefixLists: new Set() };
}

/** Hears of declared groups missing from the namespace (`identities`), or present again (undefined). */
export type OnMissingGroup = (groupId: string, identities: readonly string[] | undefined) => void;

/** Group ID → the identities a policy set's registry declares attached to it. */
export function declaredByGroup(set: PolicySet): Map<string, readonly string[]> {
  const out = new Map<string, string[]>();
  for (const { identity, groupId } of declaredAttachments(set)) {
    const ids = out.get(groupId);
    if (ids === undefined) out.set(groupId, [identity]);
    else ids.push(identity);
  }
  return out;
}

/** The groups whose declared identities differ between two declarations. */
export function changedDeclarations(
  before: ReadonlyMap<string, readonly string[]>,
  after: ReadonlyMap<string, readonly string[]>,
): string[] {
  const changed: string[] = [];
  for (const [id, ids] of after) {
    const old = before.get(id);
    if (old === undefined || old.length !== ids.length || old.some((x, i) => x !== ids[i])) changed.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) changed.push(id);
  return changed;
}

/**
 * Re-reads what `pending` names into the compiler, in one read transaction: the attachments,
 * group and egress rules of each named group, attached through the API or `declared` (a group
 * now attached to nobody, or deleted, is dropped; `onMissing` hears of declared groups that do not
 * exist), each named prefix list, and any list the groups or `set` reference that the
 * compiler does not hold yet (by ID or, for policy files, by name).
 */
export async function readInto(
  tx: StoreTx,
  scope: Scope,
  compiler: ControlPlaneCompiler,
  pending: Pending,
  set: PolicySet,
  declared: ReadonlyMap<string, readonly string[]>,
  onMissing: OnMissingGroup,
): Promise<void> {
  const identities = await attachedIdentities(tx, scope, pending, declared);
  let groupIds: string[];
  if (pending.full) {
    groupIds = [...identities.keys()];
    for (const id of compiler.groupIds()) if (!identities.has(id)) compiler.removeGroup(id);
  } else {
    groupIds = [...pending.groups].filter((id) => identities.has(id));
    for (const id of pending.groups) if (!identities.has(id)) compiler.removeGroup(id);
  }
  if (groupIds.length > 0) await readGroups(tx, scope, compiler, groupIds, identities, declared, onMissing);
  await readPrefixLists(tx, scope, compiler, pending, set);
}

/** Group ID → identities attached to it, through the API and declared, for the groups `pending` names. */
async function attachedIdentities(
  tx: StoreTx,
  scope: Scope,
  pending: Pending,
  declared: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, string[]>> {
  const identities = new Map<string, string[]>();
  const attachments = pending.full
    ? await tx.listWorkloadAttachments(scope)
    : (
        await Promise.all(
          [...pending.groups].map((groupId) => tx.listWorkloadAttachments(scope, { groupId })),
        )
      ).flat();
  for (const a of attachments) {
    const ids = identities.get(a.groupId);
    if (ids === undefined) identities.set(a.groupId, [a.identity]);
    else ids.push(a.identity);
  }
  // Declared attachments join the API's, for the same groups a store attachment would be read for.
  for (const [groupId, ids] of declared) {
    if (!pending.full && !pending.groups.has(groupId)) continue;
    const all = identities.get(groupId);
    if (all === undefined) identities.set(groupId, [...ids]);
    else for (const id of ids) if (!all.includes(id)) all.push(id);
  }
  return identities;
}

/** Reads each group of `groupIds` and its egress rules into the compiler; drops those not found. */
async function readGroups(
  tx: StoreTx,
  scope: Scope,
  compiler: ControlPlaneCompiler,
  groupIds: string[],
  identities: ReadonlyMap<string, readonly string[]>,
  declared: ReadonlyMap<string, readonly string[]>,
  onMissing: OnMissingGroup,
): Promise<void> {
  const sgs = await tx.listGroups(scope, { groupIds });
  const rules = await tx.listRules(scope, { groupIds, direction: 'egress' });
  const rulesOf = new Map<string, typeof rules>();
  for (const r of rules) {
    const list = rulesOf.get(r.groupId);
    if (list === undefined) rulesOf.set(r.groupId, [r]);
    else list.push(r);
  }
  const found = new Set<string>();
  for (const group of sgs) {
    found.add(group.groupId);
    onMissing(group.groupId, undefined);
    const attached: AttachedGroup = {
      group,
      rules: rulesOf.get(group.groupId) ?? [],
      identities: identities.get(group.groupId) ?? [],
    };
    compiler.putGroup(attached);
  }
  // Declared but not in the namespace (or attached but gone: the store keeps no attachment of
  // a deleted group; be safe).
  for (const id of groupIds) {
    if (found.has(id)) continue;
    compiler.removeGroup(id);
    onMissing(id, declared.get(id));
  }
}

/** Prefix lists: every one on a full read, else those named; then any referenced but not held. */
async function readPrefixLists(
  tx: StoreTx,
  scope: Scope,
  compiler: ControlPlaneCompiler,
  pending: Pending,
  set: PolicySet,
): Promise<void> {
  const wanted = compiler.prefixListRefs(set);
  const put = async (pl: { prefixListId: string; prefixListName: string }): Promise<void> => {
    const entries = await tx.getPrefixListEntries(scope, pl.prefixListId);
    compiler.putPrefixList({
      id: pl.prefixListId,
      name: pl.prefixListName,
      cidrs: entries.map((e) => e.cidr),
    });
  };
  const reread = pending.full ? undefined : [...pending.prefixLists];
  if (reread === undefined || reread.length > 0) {
    const metas = await tx.listPrefixLists(scope, reread);
    const present = new Set(metas.map((m) => m.prefixListId));
    for (const id of reread ?? compiler.prefixListIds()) if (!present.has(id)) compiler.removePrefixList(id);
    for (const pl of metas) {
      if (reread !== undefined || wanted.has(pl.prefixListId) || wanted.has(pl.prefixListName)) await put(pl);
    }
  }
  const missing = new Set([...wanted].filter((ref) => !compiler.hasPrefixList(ref)));
  if (missing.size > 0) {
    for (const pl of await tx.listPrefixLists(scope)) {
      if (missing.has(pl.prefixListId) || missing.has(pl.prefixListName)) await put(pl);
    }
  }
}

/**
 * Group ID → the identity map's sources whose identity is attached to the group (a group's
 * members, as group references match them).
 */
export function groupMembers(
  compiler: ControlPlaneCompiler,
  map: IdentityMap,
): Map<string, readonly string[]> {
  const sources = new Map<string, string[]>();
  for (const e of map.entries) {
    const list = sources.get(e.identity);
    if (list === undefined) sources.set(e.identity, [e.source]);
    else list.push(e.source);
  }
  const out = new Map<string, readonly string[]>();
  for (const id of compiler.groupIds()) {
    const members: string[] = [];
    for (const identity of new Set(compiler.group(id)?.identities ?? []))
      members.push(...(sources.get(identity) ?? []));
    if (members.length > 0) out.set(id, members);
  }
  return out;
}
