/**
 * @module gateway/control-plane-source — the snapshot the gateway enforces, composed of a policy
 * set and the control plane: the set comes from `--policy DIR` (watched) or, without it, from the
 * bundle last applied through the API (verified again on every load); to it are added the
 * security groups attached to workload identities in the namespace the gateway serves, with
 * their prefix lists. The store's change feed triggers a rebuild: at most one is in flight, and
 * changes during one trigger exactly one more, so a burst of API writes costs two compiles, not
 * one per write. Each new snapshot is swapped in atomically; requests read `current()` once, so
 * established tunnels and in-flight decisions keep the snapshot they started with. A policy
 * change or stored bundle that does not load, or a set that does not compile, keeps the
 * previous snapshot and is logged. The same feed keeps the in-memory list of revoked tokens.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { compileWithControlPlane } from '../engine/index.js';
import type { AttachedGroup, ControlPlaneInput, Snapshot } from '../engine/index.js';
import { WeirError } from '../model/index.js';
import type { Scope } from '../model/index.js';
import { formatDiagnostic, loadPolicySet, openBundle } from '../policy/index.js';
import type { PolicySet, TrustedKeys } from '../policy/index.js';
import type { ChangeEvent, Store, StoreTx } from '../store/index.js';
import type { SnapshotSource } from './policy-watch.js';
import type { TokenRevocations } from './token.js';

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
  /** Called after each rebuild attempt (tests and the benchmark wait on it). */
  readonly onRebuild?: (swapped: boolean, snapshot: Snapshot) => void;
}

/** A running composed source. */
export interface ControlPlaneSource extends SnapshotSource {
  /** How many snapshots have been enforced so far (1 after start). */
  generation(): number;
  /** Rebuilds now (as a change event would) and resolves when the rebuild is done. */
  refresh(): Promise<void>;
  /** The policy set of the current snapshot (without the groups), for hints. */
  policySet(): PolicySet;
  /** Time the last successful rebuild spent reading the store and compiling, ms. */
  lastRebuild(): { readonly readMs: number; readonly compileMs: number };
}

const RELEVANT = new Set(['rules', 'groups', 'prefixLists', 'workloads']);
const EMPTY_SET: PolicySet = { policies: [], workloads: [] };

function sameScope(a: Scope | undefined, b: Scope): boolean {
  return a !== undefined && a.accountId === b.accountId && a.region === b.region;
}

/** Prefix-list and group references of a policy set (IDs or names). */
function policyRefs(set: PolicySet): Set<string> {
  const refs = new Set<string>();
  for (const p of set.policies)
    for (const r of p.rules) for (const d of r.destinations) if (d.kind === 'prefixList') refs.add(d.ref);
  return refs;
}

/** Reads what the compiler needs of the namespace, in one read transaction. */
async function readControlPlane(tx: StoreTx, scope: Scope, set: PolicySet): Promise<ControlPlaneInput> {
  const attachments = await tx.listWorkloadAttachments(scope);
  const byGroup = new Map<string, string[]>();
  for (const a of attachments) {
    const ids = byGroup.get(a.groupId);
    if (ids === undefined) byGroup.set(a.groupId, [a.identity]);
    else ids.push(a.identity);
  }
  const groupIds = [...byGroup.keys()];
  const groups: AttachedGroup[] = [];
  const wanted = policyRefs(set);
  if (groupIds.length > 0) {
    const sgs = await tx.listGroups(scope, { groupIds });
    const rules = await tx.listRules(scope, { groupIds, direction: 'egress' });
    const rulesOf = new Map<string, typeof rules>();
    for (const r of rules) {
      const list = rulesOf.get(r.groupId);
      if (list === undefined) rulesOf.set(r.groupId, [r]);
      else list.push(r);
      if (r.target.kind === 'prefixList') wanted.add(r.target.prefixListId);
    }
    for (const group of sgs) {
      groups.push({
        group,
        rules: rulesOf.get(group.groupId) ?? [],
        identities: byGroup.get(group.groupId) ?? [],
      });
    }
  }
  const prefixLists: { id: string; name: string; cidrs: string[] }[] = [];
  if (wanted.size > 0) {
    for (const pl of await tx.listPrefixLists(scope)) {
      if (!wanted.has(pl.prefixListId) && !wanted.has(pl.prefixListName)) continue;
      const entries = await tx.getPrefixListEntries(scope, pl.prefixListId);
      prefixLists.push({ id: pl.prefixListId, name: pl.prefixListName, cidrs: entries.map((e) => e.cidr) });
    }
  }
  return { scope, groups, prefixLists };
}

function loadDir(dir: string): { set?: PolicySet; errors: string[] } {
  const loaded = loadPolicySet(dir);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  return errors.length > 0 ? { errors } : { set: loaded.set, errors };
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
  let snapshot: Snapshot | undefined;
  let loadedAt = 0;
  let generation = 0;
  let closed = false;
  let lastRebuild = { readMs: 0, compileMs: 0 };

  if (origin.kind === 'dir') {
    const first = loadDir(origin.dir);
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
    const t0 = performance.now();
    const read = await store.transaction(
      undefined,
      async (tx) => {
        const bundle = wantBundle ? await readBundle(tx) : undefined;
        const input = await readControlPlane(tx, scope, bundle?.set ?? nextDir ?? set);
        return { bundle, input };
      },
      { readOnly: true },
    );
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
      next = compileWithControlPlane(nextSet, read.input, { version });
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
        groups: read.input.groups.length,
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
    // Writes that name no kind (VPCs, tags) may still matter (a rule's owner tag): rebuild.
    if (ours && (e.kinds.length === 0 || relevant)) {
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

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  if (origin.kind === 'dir') {
    const reloadDir = (): void => {
      const next = loadDir(origin.dir);
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
    watcher = watch(origin.dir, { recursive: true }, () => {
      // Editors write a file in several steps (truncate, write, rename): wait for quiet.
      clearTimeout(timer);
      timer = setTimeout(reloadDir, origin.debounceMs ?? 100);
    });
    watcher.on('error', (err) => log.error({ err, policy: origin.dir }, 'policy watch failed'));
  }

  return {
    current: () => snapshot as Snapshot,
    loadedAt: () => loadedAt,
    generation: () => generation,
    lastRebuild: () => lastRebuild,
    policySet: () => set,
    refresh: () => {
      storeChanges++;
      if (origin.kind === 'bundle') bundleDirty = true;
      return schedule();
    },
    close: () => {
      closed = true;
      unsubscribe();
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
