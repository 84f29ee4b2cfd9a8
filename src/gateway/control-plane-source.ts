/**
 * @module gateway/control-plane-source — the snapshot the gateway enforces, composed of a policy
 * set and the control plane: the set comes from `--policy DIR` (watched) or, without it, from the
 * bundle last applied through the API (verified again on every load); to it are added the
 * security groups attached to workload identities in the namespace the gateway serves (through
 * the API, and declared by the set's registry `securityGroups`: both count alike), with their
 * prefix lists, and the members of referenced groups (the identity map's sources whose
 * identity is attached to the group). The store's change feed triggers a rebuild: at most one
 * is in flight, and changes during one trigger exactly one more, so a burst of API writes costs
 * two rebuilds, not one per write. A rebuild is incremental: the events name the groups and
 * prefix lists a write touched, only those are re-read, and only the parts that depend on them
 * are recompiled (`ControlPlaneCompiler`); a new policy set re-reads the groups whose declared
 * identities changed; an event that names nothing (a commit by another
 * process) re-reads everything. Each new snapshot is swapped in atomically; requests read `current()` once, so
 * established tunnels and in-flight decisions keep the snapshot they started with. A policy
 * change or stored bundle that does not load, or a set that does not compile, keeps the
 * previous snapshot and is logged. The same feed keeps the in-memory list of revoked tokens.
 */
import type { Logger } from 'pino';
import { ControlPlaneCompiler } from '../engine/index.js';
import type { AttachedGroup, Snapshot } from '../engine/index.js';
import { WeirError } from '../model/index.js';
import type { Scope } from '../model/index.js';
import { declaredAttachments, openBundle } from '../policy/index.js';
import type { PolicySet, TrustedKeys } from '../policy/index.js';
import type { ChangeEvent, Store, StoreTx } from '../store/index.js';
import type { IdentityMap } from '../identity/index.js';
import { loadPolicyDir } from './policy-watch.js';
import type { SnapshotSource } from './policy-watch.js';
import { watchDebounced } from './file-watch.js';
import type { TokenRevocations } from '../identity/index.js';

/** Where the policy set comes from. */
export type PolicyOrigin =
  | { readonly kind: 'dir'; readonly dir: string; readonly debounceMs?: number }
  | {
      readonly kind: 'bundle';
      /** Keys a stored bundle must be signed with; none: a stored bundle cannot be enforced. */
      readonly trustedKeys?: TrustedKeys;
    };

/** Options of `createControlPlaneSource`. */
export interface ControlPlaneSourceOptions {
  readonly store: Store;
  /** The namespace whose groups the gateway enforces (`--gateway-account`, `--gateway-region`). */
  readonly scope: Scope;
  readonly policy: PolicyOrigin;
  readonly logger: Logger;
  /** Epoch ms. */
  readonly now: () => number;
  /** Kept in step with the store's revoked tokens, when given. */
  readonly revocations?: TokenRevocations;
  /**
   * The source-address identity map in force, when there is one: a group's members (what a
   * rule naming the group as destination matches) are the map's sources whose identity is
   * attached to the group. Call `identityMapChanged()` after the map is swapped.
   */
  readonly identityMap?: () => IdentityMap;
  /** Called after each rebuild attempt (tests and the benchmark wait on it). */
  readonly onRebuild?: (swapped: boolean, snapshot: Snapshot) => void;
}

/** A running composed source. */
export interface ControlPlaneSource extends SnapshotSource {
  /** How many snapshots have been enforced so far (1 after start). */
  generation(): number;
  /** Rebuilds now from a full read of the namespace and resolves when the rebuild is done. */
  refresh(): Promise<void>;
  /** The policy set of the current snapshot (without the groups), for hints. */
  policySet(): PolicySet;
  /** Time the last successful rebuild spent reading the store and compiling, ms. */
  lastRebuild(): { readonly readMs: number; readonly compileMs: number };
  /** The identity map was swapped: group members are recomputed; resolves when rebuilt. */
  identityMapChanged(): Promise<void>;
  /** The incremental compiler's state (tests check which parts a rebuild reused). */
  readonly compiler: ControlPlaneCompiler;
}

const RELEVANT = new Set(['rules', 'groups', 'prefixLists', 'workloads']);
const EMPTY_SET: PolicySet = { policies: [], workloads: [] };

function sameScope(a: Scope | undefined, b: Scope): boolean {
  return a !== undefined && a.accountId === b.accountId && a.region === b.region;
}

/** What a rebuild must re-read: everything, or the groups and prefix lists events named. */
interface Pending {
  full: boolean;
  readonly groups: Set<string>;
  readonly prefixLists: Set<string>;
}

/** Group ID → the identities a policy set's registry declares attached to it. */
function declaredByGroup(set: PolicySet): Map<string, readonly string[]> {
  const out = new Map<string, string[]>();
  for (const { identity, groupId } of declaredAttachments(set)) {
    const ids = out.get(groupId);
    if (ids === undefined) out.set(groupId, [identity]);
    else ids.push(identity);
  }
  return out;
}

/** The groups whose declared identities differ between two declarations. */
function changedDeclarations(
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
async function readInto(
  tx: StoreTx,
  scope: Scope,
  compiler: ControlPlaneCompiler,
  pending: Pending,
  set: PolicySet,
  declared: ReadonlyMap<string, readonly string[]>,
  onMissing: (groupId: string, identities: readonly string[] | undefined) => void,
): Promise<void> {
  let groupIds: string[];
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
  if (pending.full) {
    groupIds = [...identities.keys()];
    for (const id of compiler.groupIds()) if (!identities.has(id)) compiler.removeGroup(id);
  } else {
    groupIds = [...pending.groups].filter((id) => identities.has(id));
    for (const id of pending.groups) if (!identities.has(id)) compiler.removeGroup(id);
  }
  if (groupIds.length > 0) {
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
  // Prefix lists: every one on a full read, else those named; then any referenced but not held.
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
function groupMembers(compiler: ControlPlaneCompiler, map: IdentityMap): Map<string, readonly string[]> {
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

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Loads the policy set and the control plane, compiles the first snapshot, then follows the
 * change feed (and the policy directory). Rejects with `WeirError` when `--policy DIR` does
 * not load or compile, so `weir serve` stops instead of enforcing nothing.
 */
export async function createControlPlaneSource(opts: ControlPlaneSourceOptions): Promise<ControlPlaneSource> {
  const { store, scope, logger: log } = opts;
  const origin = opts.policy;
  let policyGen = 0;
  let set: PolicySet = EMPTY_SET;
  /** `policy N` (directory generation), `bundle V`, or `none`. */
  let policyLabel = 'none';
  /** A directory edit that loaded, not yet compiled: it becomes `set` only if it compiles. */
  let candidate: PolicySet | undefined;
  let bundleDirty = origin.kind === 'bundle';
  let storeChanges = 0;
  const compiler = new ControlPlaneCompiler(scope);
  /** What the next rebuild must re-read; the first reads everything. */
  let pending: Pending = { full: true, groups: new Set(), prefixLists: new Set() };
  let membersDirty = opts.identityMap !== undefined;
  let snapshot: Snapshot | undefined;
  let loadedAt = 0;
  let generation = 0;
  let closed = false;
  let lastRebuild = { readMs: 0, compileMs: 0 };
  /** The declared attachments the compiler holds (of the set last read, compiled or not). */
  let declared: ReadonlyMap<string, readonly string[]> = new Map();
  /** Declared groups already logged as missing: each is logged once until it exists. */
  const warnedMissing = new Set<string>();
  const missing = (groupId: string, identities: readonly string[] | undefined): void => {
    if (identities === undefined) {
      warnedMissing.delete(groupId);
      return;
    }
    if (warnedMissing.has(groupId)) return;
    warnedMissing.add(groupId);
    log.warn(
      { groupId, identities, scope },
      'a WorkloadRegistry entry declares a security group that does not exist in the namespace the gateway serves; it attaches nothing',
    );
  };

  if (origin.kind === 'dir') {
    const first = loadPolicyDir(origin.dir);
    if (first.set === undefined) {
      throw new WeirError(
        'InvalidPolicy',
        `--policy ${origin.dir} does not load:\n${first.errors.join('\n')}`,
      );
    }
    candidate = first.set;
  }

  /** The stored bundle, verified; undefined keeps the set in force. */
  async function readBundle(tx: StoreTx): Promise<{ set: PolicySet; label: string } | undefined> {
    const stored = await tx.getPolicyBundle();
    if (stored === undefined) return undefined;
    const keys = origin.kind === 'bundle' ? origin.trustedKeys : undefined;
    if (keys === undefined || keys.size === 0) {
      log.error(
        { bundleVersion: stored.version },
        'a policy bundle is stored but no trusted public key is configured: it cannot be verified, so it is not enforced',
      );
      return undefined;
    }
    const opened = openBundle(stored.bytes, keys, { now: opts.now() });
    if (!opened.ok) {
      log.error(
        { bundleVersion: stored.version, code: opened.code, reason: opened.reason },
        'the stored policy bundle does not verify or load; still enforcing the previous version',
      );
      return undefined;
    }
    return { set: opened.set, label: `bundle ${opened.bundle.version}` };
  }

  async function rebuild(): Promise<boolean> {
    const changes = storeChanges;
    const wantBundle = bundleDirty;
    bundleDirty = false;
    const nextDir = candidate;
    candidate = undefined;
    const reading = pending;
    pending = { full: false, groups: new Set(), prefixLists: new Set() };
    const t0 = performance.now();
    let read: { bundle: { set: PolicySet; label: string } | undefined };
    try {
      read = await store.transaction(
        undefined,
        async (tx) => {
          const bundle = wantBundle ? await readBundle(tx) : undefined;
          const target = bundle?.set ?? nextDir ?? set;
          // Compared with what the compiler holds, so a set that failed to compile is undone too.
          const nextDeclared = declaredByGroup(target);
          for (const id of changedDeclarations(declared, nextDeclared)) reading.groups.add(id);
          await readInto(tx, scope, compiler, reading, target, nextDeclared, missing);
          declared = nextDeclared;
          return { bundle };
        },
        { readOnly: true },
      );
    } catch (err) {
      // Part of it may have been taken in: the next rebuild starts over from a full read.
      pending.full = true;
      throw err;
    }
    const map = opts.identityMap;
    if (map !== undefined && (membersDirty || reading.full || reading.groups.size > 0)) {
      membersDirty = false;
      compiler.setGroupMembers(groupMembers(compiler, map()));
    }
    const readMs = performance.now() - t0;
    let nextSet = set;
    let nextLabel = policyLabel;
    if (read.bundle !== undefined) {
      nextSet = read.bundle.set;
      nextLabel = read.bundle.label;
    } else if (nextDir !== undefined) {
      nextSet = nextDir;
      nextLabel = `policy ${policyGen + 1}`;
    }
    const version = `${nextLabel}, store ${changes}`;
    let next: Snapshot;
    try {
      next = compiler.build(nextSet, version);
    } catch (err) {
      if (snapshot === undefined) throw err;
      log.warn(
        { version: snapshot.version, error: message(err) },
        nextDir !== undefined
          ? 'policy change does not load; still enforcing the previous version'
          : 'the control plane does not compile; still enforcing the previous version',
      );
      opts.onRebuild?.(false, snapshot);
      return false;
    }
    if (nextDir !== undefined) policyGen++;
    set = nextSet;
    policyLabel = nextLabel;
    snapshot = next;
    loadedAt = opts.now();
    generation++;
    lastRebuild = { readMs, compileMs: next.stats.compileMs };
    log.info(
      {
        version,
        groups: compiler.groupIds().length,
        full: reading.full,
        rules: next.stats.rules,
        readMs,
        compileMs: next.stats.compileMs,
      },
      nextDir !== undefined ? 'policy reloaded' : 'gateway snapshot rebuilt',
    );
    opts.onRebuild?.(true, next);
    return true;
  }

  // Coalescing: one rebuild in flight; any trigger during it asks for exactly one more.
  let inFlight: Promise<void> | undefined;
  let again = false;
  const schedule = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (inFlight !== undefined) {
      again = true;
      return inFlight;
    }
    const run = async (): Promise<void> => {
      do {
        again = false;
        try {
          await rebuild();
        } catch (err) {
          log.error({ err }, 'gateway snapshot rebuild failed; still enforcing the previous version');
        }
      } while (again && !closed);
      inFlight = undefined;
    };
    inFlight = run();
    return inFlight;
  };

  let tokensInFlight = false;
  let tokensAgain = false;
  const refreshTokens = async (): Promise<void> => {
    const list = opts.revocations;
    if (list === undefined) return;
    if (tokensInFlight) {
      tokensAgain = true;
      return;
    }
    tokensInFlight = true;
    do {
      tokensAgain = false;
      try {
        const now = opts.now();
        const revoked = await store.transaction(undefined, (tx) => tx.listRevokedTokens(new Date(now)), {
          readOnly: true,
        });
        list.replace(
          revoked.map((r) => ({ id: r.id, expires: r.expires.getTime() })),
          now,
        );
      } catch (err) {
        log.error({ err }, 'reading revoked tokens failed; the previous list stays');
      }
    } while (tokensAgain && !closed);
    tokensInFlight = false;
  };

  const onChange = (e: ChangeEvent): void => {
    if (closed) return;
    // Read at once, within the writer's turn: the revocation is in force before the API answers.
    if (e.kinds.includes('tokens')) void refreshTokens();
    const bundle = origin.kind === 'bundle' && e.kinds.includes('bundle');
    if (bundle) bundleDirty = true;
    const relevant = e.kinds.some((k) => RELEVANT.has(k));
    // A commit by another process on the same store names every kind and no scope: it may be ours.
    const ours = e.scope === undefined ? relevant : sameScope(e.scope, scope);
    const named = e.scope !== undefined && e.groupIds !== undefined && e.prefixListIds !== undefined;
    // Writes that name no group or list (VPCs, VPC tags) change nothing enforced.
    if (ours && (!named || (e.groupIds?.length ?? 0) + (e.prefixListIds?.length ?? 0) > 0)) {
      if (named) {
        for (const id of e.groupIds ?? []) pending.groups.add(id);
        for (const id of e.prefixListIds ?? []) pending.prefixLists.add(id);
      } else {
        pending.full = true;
      }
      storeChanges++;
      void schedule();
    } else if (bundle) {
      void schedule();
    }
  };
  // Subscribed before the first read, so no write between the two is missed.
  const unsubscribe = store.subscribe(onChange);
  try {
    await refreshTokens();
    await rebuild();
  } catch (err) {
    unsubscribe();
    if (err instanceof WeirError) throw err;
    throw new WeirError(
      'InvalidPolicy',
      origin.kind === 'dir' ? `--policy ${origin.dir} does not compile: ${message(err)}` : message(err),
    );
  }

  let watcher: { close(): void } | undefined;
  if (origin.kind === 'dir') {
    const reloadDir = (): void => {
      const next = loadPolicyDir(origin.dir);
      if (next.set === undefined) {
        log.warn(
          { policy: origin.dir, version: snapshot?.version, diagnostics: next.errors },
          'policy change does not load; still enforcing the previous version',
        );
        if (snapshot !== undefined) opts.onRebuild?.(false, snapshot);
        return;
      }
      candidate = next.set;
      void schedule();
    };
    watcher = watchDebounced(
      { dir: origin.dir },
      {
        ...(origin.debounceMs !== undefined ? { debounceMs: origin.debounceMs } : {}),
        onChange: reloadDir,
        onError: (err) => log.error({ err, policy: origin.dir }, 'policy watch failed'),
      },
    );
  }

  return {
    current: () => snapshot as Snapshot,
    loadedAt: () => loadedAt,
    generation: () => generation,
    lastRebuild: () => lastRebuild,
    policySet: () => set,
    compiler,
    identityMapChanged: () => {
      membersDirty = true;
      return schedule();
    },
    refresh: () => {
      storeChanges++;
      pending.full = true;
      if (origin.kind === 'bundle') bundleDirty = true;
      return schedule();
    },
    close: () => {
      closed = true;
      unsubscribe();
      watcher?.close();
      watcher = undefined;
    },
  };
}
