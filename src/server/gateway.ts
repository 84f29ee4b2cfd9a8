/**
 * @module server/gateway — wires the egress gateway of `weir serve` from its checked config: the
 * identity map under watch, the control-plane source (the policy and the attached groups), the
 * decision log, the gateway itself with its metrics on the API's registry, and the TLS watch.
 * The policy and the control plane are loaded before anything listens, so a broken policy
 * directory stops `weir serve` instead of starting a gateway with nothing to enforce.
 */
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ApiMetrics } from '../api/index.js';
import type { Resolve } from '../dns/index.js';
import { groupPolicies } from '../engine/index.js';
import type { AttachedGroup } from '../engine/index.js';
import {
  createEnforcementMetrics,
  createGateway,
  createGatewayMetrics,
  randomIds,
} from '../gateway/index.js';
import type { PolicyRule } from '../policy-types/index.js';
import { TokenRevocations } from '../identity/index.js';
import { watchGatewayTls } from '../snapshot/index.js';
import type { DecisionLogFile, EnforcementMetrics, Gateway } from '../gateway/index.js';
import type { TrustedKeys } from '../policy/index.js';
import { createControlPlaneSource, watchIdentityMap } from '../snapshot/index.js';
import type { ControlPlaneSource, GrantLoader, IdentityMapWatcher } from '../snapshot/index.js';
import type { Store } from '../store/index.js';
import type { CleanupStack } from './cleanup.js';
import type { PolicyConfig } from './config.js';
import type { GatewayConfig } from './config-gateway.js';
import { DecisionWriter } from './decision-writer.js';
import { openDecisionLogger } from './logging.js';
import { createEnforcementSamples } from '../outcomes/index.js';
import type { EnforcementSamples } from '../outcomes/index.js';

/** What the gateway is built with besides its config. */
export interface GatewayDeps {
  readonly policy: PolicyConfig;
  readonly store: Store;
  /** Keys a stored bundle must be signed with (`--bundle-public-key`). */
  readonly bundleKeys: TrustedKeys;
  readonly bundleAudience?: string;
  /** The main log's gateway child (`component: gateway`). */
  readonly log: Logger;
  readonly logLevel: string;
  /** The API's metrics: one `GET /metrics` scrape covers the API and the gateway. */
  readonly metrics: ApiMetrics;
  readonly tokenKey: Buffer;
  readonly resolve: Resolve;
  /**
   * Reads the grants to enforce on top of the policy (approved exceptions, open break-glass
   * sessions: the on-ramp's loaders); absent: none.
   */
  readonly grants?: GrantLoader;
}

/** The rules a source enforces: its policy set's and its attached groups'. */
function* enforcedRules(source: ControlPlaneSource, config: GatewayConfig): Generator<PolicyRule> {
  for (const p of source.policySet().policies) yield* p.rules;
  const groups = source.compiler
    .groupIds()
    .map((id) => source.compiler.group(id))
    .filter((g): g is AttachedGroup => g !== undefined);
  for (const p of groupPolicies({ scope: config.scope, groups, prefixLists: [] })) yield* p.rules;
}

/** Policy change to enforcement goes to the histogram of /metrics and the overview's samples. */
function recordLag(
  metrics: EnforcementMetrics,
  samples: EnforcementSamples,
): (seconds: number, change: string) => void {
  return (seconds, change) => {
    metrics.enforcementLag.observe({ change }, seconds);
    samples.push({ at: Date.now(), seconds, change });
  };
}

/** A gateway built and fed, not yet listening. */
export interface PreparedGateway {
  readonly gateway: Gateway;
  /** What the gateway enforces. */
  readonly source: ControlPlaneSource;
  readonly decisionLog?: DecisionLogFile;
  /** Writes the gateway's decisions to the store (`GET /weir/v1/decisions` reads them there). */
  readonly decisions: DecisionWriter;
  /** Policy change to enforcement, sample by sample, for `GET /weir/v1/overview`. */
  readonly enforcementSamples: EnforcementSamples;
  /** Listens; the gateway is registered on the cleanup stack then. Resolves with `host:port`. */
  listen(): Promise<string>;
}

/** The identity map under watch; a swap makes the source recompute group members. */
function watchMap(
  config: GatewayConfig,
  log: Logger,
  onSwap: () => void,
  cleanup: CleanupStack,
): IdentityMapWatcher | undefined {
  if (config.identityMapFile === undefined) return undefined;
  const map = watchIdentityMap(config.identityMapFile, {
    logger: log,
    ...(config.identityWatchDebounceMs !== undefined ? { debounceMs: config.identityWatchDebounceMs } : {}),
    onReload: (swapped) => {
      if (swapped) onSwap();
    },
  });
  cleanup.defer('the identity map watch', () => map.close());
  return map;
}

/**
 * The writer of the gateway's decisions to the store, off the hot path: the gateway only queues a
 * copy; batches go to the store on a timer. Flushed at shutdown after the gateway has stopped
 * (registered before it) and before the store closes (registered after it).
 */
function startDecisionWriter(
  config: GatewayConfig,
  deps: GatewayDeps,
  cleanup: CleanupStack,
): DecisionWriter {
  const writer = new DecisionWriter({
    store: deps.store,
    logger: deps.log,
    registry: deps.metrics.registry,
    node: hostname(),
    retentionMs: config.decisions.retentionMs,
    maxRows: config.decisions.maxRows,
    ...(config.decisions.flushMs !== undefined ? { flushMs: config.decisions.flushMs } : {}),
  }).start();
  cleanup.defer('the decision writer', () => writer.close());
  return writer;
}

/** Builds the gateway and what feeds it; each part is registered on `cleanup` as it is made. */
export async function prepareGateway(
  config: GatewayConfig,
  deps: GatewayDeps,
  cleanup: CleanupStack,
): Promise<PreparedGateway> {
  const { log, policy } = deps;
  const revocations = new TokenRevocations();
  // Loaded before the source: its sources are the members that group references match.
  const sourceRef: { current?: ControlPlaneSource } = {};
  // Open tunnels and keep-alive connections are re-checked after every snapshot swap and every
  // read of the revoked tokens: a revoked token, or a rule taken away, ends them within the
  // change feed's delay instead of at their 24 h lifetime. (The gateway is made after the source.)
  const gatewayRef: { current?: Gateway } = {};
  const recheck = (): void => gatewayRef.current?.recheck();
  const identityMap = watchMap(config, log, () => void sourceRef.current?.identityMapChanged(), cleanup);
  const enforcement = createEnforcementMetrics(deps.metrics.registry, {
    rules: () => (sourceRef.current === undefined ? [] : enforcedRules(sourceRef.current, config)),
    grants: (now) =>
      sourceRef.current?.grantCounts(now) ?? {
        active: { exception: 0, breakglass: 0 },
        ended: { exception: { expired: 0, withdrawn: 0 }, breakglass: { expired: 0, withdrawn: 0 } },
      },
    now: Date.now,
  });
  const enforcementSamples = createEnforcementSamples(Date.now());
  const source = await createControlPlaneSource({
    store: deps.store,
    scope: config.scope,
    policy:
      policy.kind === 'bundle'
        ? {
            kind: 'bundle',
            trustedKeys: deps.bundleKeys,
            ...(deps.bundleAudience !== undefined ? { audience: deps.bundleAudience } : {}),
          }
        : {
            kind: 'dir',
            dir: policy.dir,
            ...(policy.debounceMs !== undefined ? { debounceMs: policy.debounceMs } : {}),
          },
    logger: log,
    now: Date.now,
    revocations,
    onRevocations: recheck,
    onRebuild: (swapped) => {
      if (swapped) recheck();
    },
    onEnforced: recordLag(enforcement, enforcementSamples),
    ...(deps.grants !== undefined ? { grants: deps.grants } : {}),
    ...(identityMap !== undefined ? { identityMap: () => identityMap.current() } : {}),
  });
  sourceRef.current = source;
  cleanup.defer('the snapshot source', () => source.close());
  log.info(
    { version: source.current().version, account: config.scope.accountId, region: config.scope.region },
    policy.kind === 'bundle'
      ? 'gateway enforces the policy bundle applied through the API and the attached security groups'
      : 'gateway enforces the policy directory and the attached security groups',
  );
  const decisions = openDecisionLogger(config.decisionLog, deps.logLevel, log, cleanup);
  const writer = startDecisionWriter(config, deps, cleanup);
  const gateway = createGateway({
    onDecision: (entry) => writer.push(entry),
    getSnapshot: () => source.current(),
    resolve: deps.resolve,
    connect: (ip, p, onread) => netConnect({ host: ip, port: p, onread }),
    now: Date.now,
    newId: randomIds(),
    logger: decisions.logger,
    tokenKey: deps.tokenKey,
    ...(config.tls !== undefined ? { tls: config.tls } : {}),
    ...(identityMap !== undefined ? { identityMap: () => identityMap.current() } : {}),
    revokedTokens: revocations,
    // Only tokens issued by the keys of the account whose groups are enforced prove an identity.
    tokenAccount: config.scope.accountId,
    ...(config.limits !== undefined ? { limits: config.limits } : {}),
    metrics: createGatewayMetrics(
      deps.metrics.registry,
      {
        getSnapshot: () => source.current(),
        loadedAt: () => source.loadedAt(),
        generation: () => source.generation(),
        now: Date.now,
      },
      config.egressShare,
    ),
  });
  gatewayRef.current = gateway;
  if (config.tls !== undefined) {
    const tlsWatch = watchGatewayTls(config.tlsFiles, {
      apply: (next) => gateway.updateTls(next),
      logger: log,
      ...(config.identityWatchDebounceMs !== undefined ? { debounceMs: config.identityWatchDebounceMs } : {}),
    });
    cleanup.defer('the TLS watch', () => tlsWatch.close());
  }
  return {
    gateway,
    source,
    ...(decisions.file !== undefined ? { decisionLog: decisions.file } : {}),
    decisions: writer,
    enforcementSamples,
    listen: async () => {
      const a = await gateway.listen(config.listen.host, config.listen.port);
      // Stops accepting, lets in-flight requests finish (its own grace period), then returns.
      cleanup.defer('the gateway', () => gateway.close());
      const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
      log.info(
        {
          proxy: address,
          tls: config.tls !== undefined,
          clientCertificates: config.tls?.clientCa !== undefined,
          admission: gateway.admission,
        },
        'weir egress gateway listening',
      );
      return address;
    },
  };
}
