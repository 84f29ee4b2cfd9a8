/**
 * @module snapshot/control-plane-source — the snapshot the gateway enforces, composed of a policy
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
 * previous snapshot and is logged. The same feed keeps the in-memory list of revoked tokens,
 * and the grants (exceptions, break-glass) laid on top of the snapshot (`grants-follower.ts`).
 */
import type { Logger } from 'pino';
import { ControlPlaneCompiler } from '../engine/index.js';
import type { Snapshot } from '../engine/index.js';
import type { Grant, GrantKind } from '../policy-types/index.js';
import type { IdentityMap, TokenRevocations } from '../identity/index.js';
import { WeirError } from '../model/index.js';
import type { Scope } from '../model/index.js';
import { openBundle } from '../policy/index.js';
import type { PolicySet, TrustedKeys } from '../policy/index.js';
import type { ChangeEvent, Store, StoreTx } from '../store/index.js';
import {
  changedDeclarations,
  declaredByGroup,
  groupMembers,
  pendingNothing,
  readInto,
} from './control-plane-read.js';
import type { Pending } from './control-plane-read.js';
import { watchDebounced } from './file-watch.js';
import { loadPolicyDir } from './policy-watch.js';
import type { SnapshotSource } from './policy-watch.js';
import { RevokedTokensFollower } from './revoked-tokens.js';
import { GrantsFollower } from './grants-follower.js';
import type { GrantLoader } from './grants-follower.js';

/** What a change enforced came from: an API write, a bundle apply, the policy directory, grants. */
export type EnforcedChange = 'api' | 'bundle' | 'directory' | 'grants';

/** Where the policy set comes from. */
export type PolicyOrigin =
  | { readonly kind: 'dir'; readonly dir: string; readonly debounceMs?: number }
  | {
      readonly kind: 'bundle';
      /** Keys a stored bundle must be signed with; none: a stored bundle cannot be enforced. */
      readonly trustedKeys?: TrustedKeys;
      /** The audience a stored bundle must name (`--bundle-audience`); absent: none. */
      readonly audience?: string;
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
  /** Called after each read of the revoked tokens (the gateway re-checks open connections). */
  readonly onRevocations?: () => void;
  /**
   * The source-address identity map in force, when there is one: a group's members (what a
   * rule naming the group as destination matches) are the map's sources whose identity is
   * attached to the group. Call `identityMapChanged()` after the map is swapped.
   */
  readonly identityMap?: () => IdentityMap;
  /** Called after each rebuild attempt (tests and the benchmark wait on it). */
  readonly onRebuild?: (swapped: boolean, snapshot: Snapshot) => void;
  /**
   * The grants (approved exceptions, open break-glass sessions) to enforce on top of the
   * snapshot, read at start, on change events naming `exceptions` or `breakglass`, and on a
   * full refresh; absent: none.
   */
  readonly grants?: GrantLoader;
  /**
   * Called when a change is enforced: seconds from the change (the store event's `at`, the
   * directory change seen) to the snapshot swap that enforces it.
   */
  readonly onEnforced?: (seconds: number, change: EnforcedChange) => void;
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
  /** Re-reads the grants and swaps them in; resolves when done. */
  refreshGrants(): Promise<void>;
  /** The grants last read (empty without a loader). */
  grants(): readonly Grant[];
  /** Grants in force at `now`, and grants that ended while enforced since start, by kind. */
  grantCounts(now: number): {
    readonly active: { readonly exception: number; readonly breakglass: number };
    /** Grants that stopped allowing: `expired` at their `until`, `withdrawn` (revoked, closed). */
    readonly ended: Readonly<Record<GrantKind, { readonly expired: number; readonly withdrawn: number }>>;
  };
}

const RELEVANT = new Set(['rules', 'groups', 'prefixLists', 'workloads']);
const EMPTY_SET: PolicySet = { policies: [], workloads: [] };

function sameScope(a: Scope | undefined, b: Scope): boolean {
  return a !== undefined && a.accountId === b.accountId && a.region === b.region;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A policy set opened from the stored bundle, with its `bundle V` label. */
interface OpenedBundle {
  readonly set: PolicySet;
  readonly label: string;
}

/**
 * Loads the policy set and the control plane, compiles the first snapshot, then follows the
 * change feed (and the policy directory). Rejects with `WeirError` when `--policy DIR` does
 * not load or compile, so `weir serve` stops instead of enforcing nothing.
 */
export async function createControlPlaneSource(opts: ControlPlaneSourceOptions): Promise<ControlPlaneSource> {
  const source = new ComposedSource(opts);
  await source.start();
  return source;
}

/** The composed source: its state is what the last rebuild enforced and what the next must read. */
class ComposedSource implements ControlPlaneSource {
  readonly compiler: ControlPlaneCompiler;
  readonly #opts: ControlPlaneSourceOptions;
  readonly #log: Logger;
  readonly #tokens: RevokedTokensFollower | undefined;
  /** Directory generations enforced so far (the N of `policy N`). */
  #policyGen = 0;
  #set: PolicySet = EMPTY_SET;
  /** `policy N` (directory generation), `bundle V`, or `none`. */
  #policyLabel = 'none';
  /** A directory edit that loaded, not yet compiled: it becomes `set` only if it compiles. */
  #candidate: PolicySet | undefined;
  #bundleDirty: boolean;
  #storeChanges = 0;
  /** What the next rebuild must re-read; the first reads everything. */
  #pending: Pending = pendingNothing(true);
  #membersDirty: boolean;
  #snapshot: Snapshot | undefined;
  /** The policy set and groups, without grants (what `#snapshot` lays the grants on). */
  #base: Snapshot | undefined;
  readonly #grants: GrantsFollower | undefined;
  /** The prefix lists the grants name, as last seen (sorted, joined). */
  #grantRefs = '';
  /** Per kind of change: when the oldest change not yet enforced was made, epoch ms. */
  readonly #since = new Map<EnforcedChange, number>();
  #loadedAt = 0;
  #generation = 0;
  #closed = false;
  #lastRebuild = { readMs: 0, compileMs: 0 };
  /** The declared attachments the compiler holds (of the set last read, compiled or not). */
  #declared: ReadonlyMap<string, readonly string[]> = new Map();
  /** Declared groups already logged as missing: each is logged once until it exists. */
  readonly #warnedMissing = new Set<string>();
  /** Coalescing: one rebuild in flight; any trigger during it asks for exactly one more. */
  #inFlight: Promise<void> | undefined;
  #again = false;
  #unsubscribe: () => void = () => undefined;
  #watcher: { close(): void } | undefined;

  constructor(opts: ControlPlaneSourceOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
    this.compiler = new ControlPlaneCompiler(opts.scope);
    this.#bundleDirty = opts.policy.kind === 'bundle';
    this.#membersDirty = opts.identityMap !== undefined;
    this.#tokens =
      opts.revocations === undefined
        ? undefined
        : new RevokedTokensFollower(opts.store, opts.revocations, opts.now, opts.logger, opts.onRevocations);
    this.#grants =
      opts.grants === undefined
        ? undefined
        : new GrantsFollower({
            store: opts.store,
            load: opts.grants,
            now: opts.now,
            logger: opts.logger,
            compileOptions: () => this.compiler.compileOptions(),
            changed: () => this.#grantsChanged(),
          });
    const origin = opts.policy;
    if (origin.kind === 'dir') {
      const first = loadPolicyDir(origin.dir);
      if (first.set === undefined) {
        throw new WeirError(
          'InvalidPolicy',
          `--policy ${origin.dir} does not load:\n${first.errors.join('\n')}`,
        );
      }
      this.#candidate = first.set;
    }
  }

  /** Subscribes to the change feed, builds the first snapshot, then watches the policy directory. */
  async start(): Promise<void> {
    const origin = this.#opts.policy;
    // Subscribed before the first read, so no write between the two is missed.
    this.#unsubscribe = this.#opts.store.subscribe((e) => this.#onChange(e));
    try {
      await this.#tokens?.refresh();
      await this.#grants?.refresh();
      await this.#rebuild();
    } catch (err) {
      this.#unsubscribe();
      if (err instanceof WeirError) throw err;
      throw new WeirError(
        'InvalidPolicy',
        origin.kind === 'dir' ? `--policy ${origin.dir} does not compile: ${message(err)}` : message(err),
      );
    }
    if (origin.kind === 'dir') {
      this.#watcher = watchDebounced(
        { dir: origin.dir },
        {
          ...(origin.debounceMs !== undefined ? { debounceMs: origin.debounceMs } : {}),
          onChange: () => this.#reloadDir(origin.dir),
          onError: (err) => this.#log.error({ err, policy: origin.dir }, 'policy watch failed'),
        },
      );
    }
  }

  current(): Snapshot {
    return this.#snapshot as Snapshot;
  }

  loadedAt(): number {
    return this.#loadedAt;
  }

  generation(): number {
    return this.#generation;
  }

  lastRebuild(): { readonly readMs: number; readonly compileMs: number } {
    return this.#lastRebuild;
  }

  policySet(): PolicySet {
    return this.#set;
  }

  identityMapChanged(): Promise<void> {
    this.#membersDirty = true;
    return this.#schedule();
  }

  refresh(): Promise<void> {
    this.#storeChanges++;
    this.#pending.full = true;
    if (this.#opts.policy.kind === 'bundle') this.#bundleDirty = true;
    return Promise.all([this.#schedule(), this.#grants?.refresh()]).then(() => undefined);
  }

  refreshGrants(): Promise<void> {
    return this.#grants?.refresh() ?? Promise.resolve();
  }

  grants(): readonly Grant[] {
    return this.#grants?.grants() ?? [];
  }

  grantCounts(now: number): ReturnType<ControlPlaneSource['grantCounts']> {
    const zero = { expired: 0, withdrawn: 0 };
    return {
      active: this.#grants?.active(now) ?? { exception: 0, breakglass: 0 },
      ended: this.#grants?.ended ?? { exception: zero, breakglass: zero },
    };
  }

  /** The grants changed (read, started or ended): the same base, composed again and swapped in. */
  #grantsChanged(): void {
    const g = this.#grants;
    if (g === undefined || this.#closed) return;
    const refs = new Set<string>();
    for (const grant of g.grants())
      for (const r of grant.rules)
        for (const d of r.destinations) if (d.kind === 'prefixList') refs.add(d.ref);
    const missing = this.compiler.setGrantPrefixLists(refs);
    const key = [...refs].sort().join('\n');
    const renamed = key !== this.#grantRefs;
    this.#grantRefs = key;
    // Before the first snapshot: the first rebuild reads the lists and composes the grants.
    if (this.#base === undefined) return;
    // A list only a grant names is read by a full rebuild, which composes the grants again; once
    // per new set of names, so a grant naming a list that does not exist cannot loop.
    if (missing && renamed) {
      this.#storeChanges++;
      this.#pending.full = true;
      void this.#schedule();
    }
    const next = g.compose(this.#base, this.#base.version);
    if (next === this.#snapshot) return;
    this.#swapped(next, 'grants');
    this.#log.info({ version: next.version, grants: g.grants().length }, 'gateway grants applied');
    this.#opts.onRebuild?.(true, next);
  }

  /** `next` is now enforced: the generation, the load time, and how long the changes took. */
  #swapped(next: Snapshot, ...changes: readonly EnforcedChange[]): void {
    this.#snapshot = next;
    const now = this.#opts.now();
    this.#loadedAt = now;
    this.#generation++;
    for (const c of changes) {
      const since = this.#since.get(c);
      if (since === undefined) continue;
      this.#since.delete(c);
      this.#opts.onEnforced?.(Math.max(0, now - since) / 1000, c);
    }
  }

  /** Notes a change not yet enforced (the oldest counts). */
  #changed(change: EnforcedChange, at: number): void {
    if (!this.#since.has(change)) this.#since.set(change, at);
  }

  close(): void {
    this.#closed = true;
    this.#grants?.close();
    this.#tokens?.close();
    this.#unsubscribe();
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #missing(groupId: string, identities: readonly string[] | undefined): void {
    if (identities === undefined) {
      this.#warnedMissing.delete(groupId);
      return;
    }
    if (this.#warnedMissing.has(groupId)) return;
    this.#warnedMissing.add(groupId);
    this.#log.warn(
      { groupId, identities, scope: this.#opts.scope },
      'a WorkloadRegistry entry declares a security group that does not exist in the namespace the gateway serves; it attaches nothing',
    );
  }

  /** The stored bundle, verified; undefined keeps the set in force. */
  async #readBundle(tx: StoreTx): Promise<OpenedBundle | undefined> {
    const stored = await tx.getPolicyBundle();
    if (stored === undefined) return undefined;
    const origin = this.#opts.policy;
    const keys = origin.kind === 'bundle' ? origin.trustedKeys : undefined;
    if (keys === undefined || keys.size === 0) {
      this.#log.error(
        { bundleVersion: stored.version },
        'a policy bundle is stored but no trusted public key is configured: it cannot be verified, so it is not enforced',
      );
      return undefined;
    }
    const opened = openBundle(stored.bytes, keys, {
      now: this.#opts.now(),
      ...(origin.kind === 'bundle' && origin.audience !== undefined ? { audience: origin.audience } : {}),
    });
    if (!opened.ok) {
      this.#log.error(
        { bundleVersion: stored.version, code: opened.code, reason: opened.reason },
        'the stored policy bundle does not verify or load; still enforcing the previous version',
      );
      return undefined;
    }
    return { set: opened.set, label: `bundle ${opened.bundle.version}` };
  }

  /**
   * Reads what `reading` names (and the groups whose declared identities change with the set
   * that will be compiled) into the compiler, in one read transaction.
   */
  async #read(
    reading: Pending,
    wantBundle: boolean,
    nextDir: PolicySet | undefined,
  ): Promise<OpenedBundle | undefined> {
    try {
      const read = await this.#opts.store.transaction(
        undefined,
        async (tx) => {
          const bundle = wantBundle ? await this.#readBundle(tx) : undefined;
          const target = bundle?.set ?? nextDir ?? this.#set;
          // Compared with what the compiler holds, so a set that failed to compile is undone too.
          const nextDeclared = declaredByGroup(target);
          for (const id of changedDeclarations(this.#declared, nextDeclared)) reading.groups.add(id);
          await readInto(tx, this.#opts.scope, this.compiler, reading, target, nextDeclared, (id, ids) =>
            this.#missing(id, ids),
          );
          this.#declared = nextDeclared;
          return { bundle };
        },
        { readOnly: true },
      );
      return read.bundle;
    } catch (err) {
      // Part of it may have been taken in: the next rebuild starts over from a full read.
      this.#pending.full = true;
      throw err;
    }
  }

  async #rebuild(): Promise<boolean> {
    const changes = this.#storeChanges;
    const wantBundle = this.#bundleDirty;
    this.#bundleDirty = false;
    const nextDir = this.#candidate;
    this.#candidate = undefined;
    const reading = this.#pending;
    this.#pending = pendingNothing();
    const t0 = performance.now();
    const bundle = await this.#read(reading, wantBundle, nextDir);
    const map = this.#opts.identityMap;
    if (map !== undefined && (this.#membersDirty || reading.full || reading.groups.size > 0)) {
      this.#membersDirty = false;
      this.compiler.setGroupMembers(groupMembers(this.compiler, map()));
    }
    const readMs = performance.now() - t0;
    let nextSet = this.#set;
    let nextLabel = this.#policyLabel;
    if (bundle !== undefined) {
      nextSet = bundle.set;
      nextLabel = bundle.label;
    } else if (nextDir !== undefined) {
      nextSet = nextDir;
      nextLabel = `policy ${this.#policyGen + 1}`;
    }
    return this.#compileAndSwap(nextSet, nextLabel, `${nextLabel}, store ${changes}`, {
      fromDir: nextDir !== undefined,
      full: reading.full,
      readMs,
    });
  }

  /** Compiles `nextSet` with the control plane and swaps it in; a failure keeps the snapshot in force. */
  #compileAndSwap(
    nextSet: PolicySet,
    nextLabel: string,
    version: string,
    how: { readonly fromDir: boolean; readonly full: boolean; readonly readMs: number },
  ): boolean {
    const opts = this.#opts;
    let next: Snapshot;
    try {
      next = this.compiler.build(nextSet, version);
    } catch (err) {
      if (this.#snapshot === undefined) throw err;
      this.#log.warn(
        { version: this.#snapshot.version, error: message(err) },
        how.fromDir
          ? 'policy change does not load; still enforcing the previous version'
          : 'the control plane does not compile; still enforcing the previous version',
      );
      opts.onRebuild?.(false, this.#snapshot);
      return false;
    }
    if (how.fromDir) this.#policyGen++;
    this.#set = nextSet;
    this.#policyLabel = nextLabel;
    this.#base = next;
    const composed = this.#grants?.compose(next, version) ?? next;
    this.#swapped(composed, 'api', 'bundle', 'directory');
    this.#lastRebuild = { readMs: how.readMs, compileMs: next.stats.compileMs };
    this.#log.info(
      {
        version,
        groups: this.compiler.groupIds().length,
        full: how.full,
        rules: next.stats.rules,
        readMs: how.readMs,
        compileMs: next.stats.compileMs,
      },
      how.fromDir ? 'policy reloaded' : 'gateway snapshot rebuilt',
    );
    opts.onRebuild?.(true, composed);
    return true;
  }

  #schedule(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#inFlight !== undefined) {
      this.#again = true;
      return this.#inFlight;
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        try {
          await this.#rebuild();
        } catch (err) {
          this.#log.error({ err }, 'gateway snapshot rebuild failed; still enforcing the previous version');
        }
      } while (this.#again && !this.#closed);
      this.#inFlight = undefined;
    };
    this.#inFlight = run();
    return this.#inFlight;
  }

  #onChange(e: ChangeEvent): void {
    if (this.#closed) return;
    // Read at once, within the writer's turn: the revocation is in force before the API answers.
    if (e.kinds.includes('tokens')) void this.#tokens?.refresh();
    if (this.#grants !== undefined && (e.kinds.includes('exceptions') || e.kinds.includes('breakglass'))) {
      this.#changed('grants', e.at.getTime());
      void this.#grants.refresh();
    }
    const bundle = this.#opts.policy.kind === 'bundle' && e.kinds.includes('bundle');
    if (bundle) {
      this.#bundleDirty = true;
      this.#changed('bundle', e.at.getTime());
    }
    const relevant = e.kinds.some((k) => RELEVANT.has(k));
    // A commit by another process on the same store names every kind and no scope: it may be ours.
    const ours = e.scope === undefined ? relevant : sameScope(e.scope, this.#opts.scope);
    const named = e.scope !== undefined && e.groupIds !== undefined && e.prefixListIds !== undefined;
    // Writes that name no group or list (VPCs, VPC tags) change nothing enforced.
    if (ours && (!named || (e.groupIds?.length ?? 0) + (e.prefixListIds?.length ?? 0) > 0)) {
      if (named) {
        for (const id of e.groupIds ?? []) this.#pending.groups.add(id);
        for (const id of e.prefixListIds ?? []) this.#pending.prefixLists.add(id);
      } else {
        this.#pending.full = true;
      }
      this.#storeChanges++;
      this.#changed('api', e.at.getTime());
      void this.#schedule();
    } else if (bundle) {
      void this.#schedule();
    }
  }

  /** The policy directory changed: a set that loads is compiled at the next rebuild. */
  #reloadDir(dir: string): void {
    const next = loadPolicyDir(dir);
    if (next.set === undefined) {
      this.#log.warn(
        { policy: dir, version: this.#snapshot?.version, diagnostics: next.errors },
        'policy change does not load; still enforcing the previous version',
      );
      if (this.#snapshot !== undefined) this.#opts.onRebuild?.(false, this.#snapshot);
      return;
    }
    this.#candidate = next.set;
    this.#changed('directory', this.#opts.now());
    void this.#schedule();
  }
}
