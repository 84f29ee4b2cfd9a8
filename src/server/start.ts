/**
 * @module server/start — `weir serve` wired from its checked config: opens the data dir (SQLite
 * store, credentials, token key), starts the API server (EC2, and the Weir API with the gateway
 * token key, the trusted bundle keys and an explainer of what the gateway enforces) and the
 * egress gateway, and shuts down gracefully: the gateway stops, in-flight requests finish, then
 * the store closes. Everything opened is registered on one cleanup stack, which closes it all
 * on a failed start or at `close()`.
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server, ServerOptions } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import {
  DEFAULT_API_CONFIG,
  createApiHandler,
  createApiMetrics,
  createBreakglassMetrics,
} from '../api/index.js';
import type { ApiConfig, ApiMetrics, BreakglassApiOptions, KeyRing, WeirApiOptions } from '../api/index.js';
import { createDnsResolver, hostsProblemLines } from '../dns/index.js';
import type { Resolve } from '../dns/index.js';
import { loadAuditKey, startAuditDigests } from '../audit/index.js';
import { loadTokenKey } from '../identity/index.js';
import { declaredAttachments } from '../policy/index.js';
import type { ControlPlaneSource } from '../snapshot/index.js';
import {
  activeExceptionGrants,
  CodeAttempts,
  exceptionsExpiringNotices,
  openBreakglassGrants,
} from '../onramp/index.js';
import type { Grant } from '../policy-types/index.js';
import { openStore } from '../store/index.js';
import { createConsole } from '../console/index.js';
import type { Store, StoreTx } from '../store/index.js';
import { CleanupStack } from './cleanup.js';
import { buildServerConfig } from './config.js';
import { startBanner } from './banner.js';
import type { ServerConfig } from './config.js';
import { loadKeys } from './credentials.js';
import { holdDataDir, writeEndpointFile } from './data-dir.js';
import { openExplainer } from './explain.js';
import type { ExplainOptions } from './explain.js';
import { prepareGateway } from './gateway.js';
import type { PreparedGateway } from './gateway.js';
import { openMainLog } from './logging.js';
import { startNotifications } from './notify.js';
import type { ServeOptions } from './options.js';

/** A running `weir serve`. */
export interface RunningServer {
  readonly url: string;
  readonly credentialsFile: string;
  readonly keys: KeyRing;
  readonly store: Store;
  /** The audit digests' public key (`DATA/audit-signing.pub`). */
  readonly auditPublicKey: KeyObject;
  /** The gateway's `host:port`, when it runs. */
  readonly proxyAddress?: string;
  /** What the gateway enforces, when it runs. */
  readonly snapshotSource?: ControlPlaneSource;
  /** Reopens the decision log file (SIGHUP, after an external logrotate); no-op without one. */
  reopenLogs(): void;
  /** Stops accepting, lets in-flight requests finish, then closes the store. */
  close(): Promise<void>;
}

/** Checks `opts` (a bad option throws `WeirError` naming it, before anything is opened) and starts the server. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const config = buildServerConfig(opts);
  const cleanup = new CleanupStack();
  const logger = openMainLog(opts.logger, config.logLevel, cleanup);
  const print = opts.print ?? ((t: string) => process.stderr.write(t));
  return cleanup.unwindOnFailure(() => wire(config, logger, print, cleanup));
}

/** The Weir API's options: token key, bundle keys, explainer, resolver, declared attachments. */
function weirApiOptions(
  config: ServerConfig,
  tokenKey: Buffer,
  explain: ExplainOptions,
  resolve: Resolve,
  gateway: PreparedGateway | undefined,
): WeirApiOptions {
  const scope = config.gateway?.scope;
  return {
    account: config.account,
    tokenKey,
    bundleKeys: config.bundleKeys,
    ...(config.bundleAudience !== undefined ? { bundleAudience: config.bundleAudience } : {}),
    // A bundle applied while --policy DIR is enforced would not take effect: the API refuses it.
    ...(config.policy.kind === 'dir' ? { policyDir: config.policy.dir } : {}),
    ...explain,
    // The gateway's resolver (hosts file first), so `check --resolve` sees the names it would.
    resolve,
    ...(gateway !== undefined ? { enforcementSamples: gateway.enforcementSamples } : {}),
    // `weir workload list` and DeleteSecurityGroup see what the gateway's policy set declares.
    ...(gateway !== undefined && scope !== undefined
      ? {
          declaredAttachments: () => ({
            scope,
            attachments: declaredAttachments(gateway.source.policySet()),
          }),
        }
      : {}),
  };
}

/**
 * What the gateway enforces on top of the policy: approved exceptions and open break-glass
 * sessions, read in one transaction (the source reads them again on every change of either).
 */
async function onrampGrants(tx: StoreTx, now: Date): Promise<Grant[]> {
  return [...(await activeExceptionGrants(tx, now)), ...(await openBreakglassGrants(tx, now))];
}

/** Break-glass: the session cap (--breakglass-max-ttl) and its metrics on the API's registry. */
function breakglassApiOptions(config: ServerConfig, store: Store, metrics: ApiMetrics): BreakglassApiOptions {
  return {
    maxTtlMs: config.breakglassMaxTtlMs,
    metrics: createBreakglassMetrics(metrics.registry, store, () => new Date()),
    attempts: new CodeAttempts(),
  };
}

/** Starts the API server on `config.api`; registered on `cleanup` once it listens. Resolves with its URL. */
async function listenApi(
  config: ServerConfig,
  deps: {
    store: Store;
    keys: KeyRing;
    logger: Logger;
    metrics: ApiMetrics;
    weir: WeirApiOptions;
    audit: { reads: boolean };
  },
  cleanup: CleanupStack,
): Promise<string> {
  // The web console on the same listener and origin (docs/console.md): its sessions act as keys.
  const consoleFront = createConsole({
    store: deps.store,
    keys: () => deps.keys,
    logger: deps.logger,
    account: config.account,
    region: config.region,
    tls: config.apiListener.tls !== undefined,
    sessionTtlMs: config.consoleSessionTtlMs,
  });
  const apiConfig: ApiConfig = {
    ...DEFAULT_API_CONFIG,
    rulesPerGroup: config.rulesPerGroup ?? DEFAULT_API_CONFIG.rulesPerGroup,
    regions: config.regions,
  };
  const listener = config.apiListener;
  const handler = createApiHandler({
    ...deps,
    console: consoleFront,
    config: apiConfig,
    edge: { hosts: listener.hosts, bodyBudget: listener.bodyBudget },
  });
  // Short deadlines for the head and the whole request: a peer that trickles bytes (slow loris)
  // holds a connection and its buffers only this long, signed or not. Node checks them on an
  // interval; a quarter of the shorter one keeps the cut close to the deadline.
  const httpOptions: ServerOptions = {
    headersTimeout: listener.headersTimeoutMs,
    requestTimeout: listener.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(listener.headersTimeoutMs / 4))),
  };
  // With --api-tls-cert the API serves HTTPS only: keys' signatures and tokens are secrets in
  // transit, and a plain listener next to it would invite sending them in clear.
  const server: Server =
    listener.tls === undefined
      ? createServer(httpOptions, handler)
      : createHttpsServer({ ...httpOptions, cert: listener.tls.cert, key: listener.tls.key }, handler);
  server.keepAliveTimeout = listener.idleTimeoutMs;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(config.api.port, config.api.host, () => {
      server.off('error', rej);
      res();
    });
  });
  cleanup.defer('the API server', async () => {
    const closed = new Promise<void>((res) => server.close(() => res()));
    server.closeIdleConnections();
    // Keep-alive clients that never go idle are cut after a grace period.
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    await closed;
    clearTimeout(force);
  });
  const addr = server.address() as AddressInfo;
  return endpointUrl(listener, addr);
}

/**
 * The URL clients are told (banner, endpoint file): `https://` with TLS; the listen address,
 * unless `--api-host` is given and does not name it, then its first name (a TLS certificate and
 * the host check both expect a name the server answers to).
 */
function endpointUrl(listener: ServerConfig['apiListener'], addr: AddressInfo): string {
  const scheme = listener.tls === undefined ? 'http' : 'https';
  const listened = addr.address.toLowerCase();
  const named =
    listener.hosts.length === 0 ||
    listener.hosts.some((h) => h.name === listened && (h.port === undefined || h.port === addr.port));
  const first = listener.hosts[0];
  const name = named || first === undefined ? listened : first.name;
  const port = named || first?.port === undefined ? addr.port : first.port;
  return `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

/** Opens, builds and listens, in that order, registering each resource on `cleanup`. */
async function wire(
  config: ServerConfig,
  logger: Logger,
  print: (text: string) => void,
  cleanup: CleanupStack,
): Promise<RunningServer> {
  const { dataDir } = config;
  // First: a second server on this data dir stops here, before it touches anything in it.
  holdDataDir(dataDir, logger, cleanup);
  const { file: credentialsFile, keys, created } = loadKeys(dataDir, config.credentialsFile);
  const metrics = createApiMetrics({ defaultMetrics: true });
  const tokenKey = loadTokenKey(dataDir);
  const gatewayLog = logger.child({ component: 'gateway' });
  for (const line of hostsProblemLines(config.dns)) gatewayLog.warn({ dnsHosts: config.dns.hostsFile }, line);
  // One resolver for the gateway and the API's `check` with `resolve`: they answer alike.
  const resolve = createDnsResolver(config.dns);
  cleanup.defer('the last log line', () => logger.info('store closed; bye'));
  // The credentials, token key and audit key stay in the data dir whichever the store.
  const { store, driver, description } = await openStore(config.storeUrl ?? dataDir);
  logger.info({ store: description, driver }, 'store opened');
  cleanup.defer('the store', () => store.close());
  // Registered after the store and before the API: at shutdown the API stops first, then the
  // last digest signs every record it wrote, then the store closes.
  const auditKey = loadAuditKey(dataDir);
  const auditPublicKey = createPublicKey(auditKey);
  const digests = startAuditDigests(store, auditKey, {
    ...(config.auditDigestIntervalMs !== undefined ? { intervalMs: config.auditDigestIntervalMs } : {}),
    onError: (err) =>
      logger.error({ err }, 'the audit digest could not be written; retrying at the next interval'),
  });
  cleanup.defer('the last audit digest', () => digests.stop());
  const gateway =
    config.gateway === undefined
      ? undefined
      : await prepareGateway(
          config.gateway,
          {
            policy: config.policy,
            store,
            bundleKeys: config.bundleKeys,
            ...(config.bundleAudience !== undefined ? { bundleAudience: config.bundleAudience } : {}),
            log: gatewayLog,
            logLevel: config.logLevel,
            metrics,
            tokenKey,
            resolve,
            grants: onrampGrants,
          },
          cleanup,
        );
  const explain = await openExplainer(
    config.policy,
    {
      store,
      bundleKeys: config.bundleKeys,
      ...(config.bundleAudience !== undefined ? { bundleAudience: config.bundleAudience } : {}),
      gatewaySource: gateway?.source,
      logger,
    },
    cleanup,
  );
  // Webhook notifications (after the store, so they stop before it closes), with the notices found
  // by looking: rules (built in) and exceptions about to expire.
  await startNotifications(
    config.notify,
    {
      store,
      metrics,
      logger,
      ...(gateway !== undefined ? { policySet: () => gateway.source.policySet() } : {}),
    },
    [exceptionsExpiringNotices],
    cleanup,
  );
  const weir: WeirApiOptions = {
    ...weirApiOptions(config, tokenKey, explain, resolve, gateway),
    auditPublicKey,
    breakglass: breakglassApiOptions(config, store, metrics),
  };
  // The gateway listens first, so that once the API answers (`/healthz`, the endpoint file) the
  // gateway does too: a script that waits for the API can use the gateway straight away.
  const proxyAddress = await gateway?.listen();
  const url = await listenApi(
    config,
    { store, keys, logger, metrics, weir, audit: { reads: config.auditReads } },
    cleanup,
  );
  logger.info({ url, dataDir, credentialsFile, keys: keys.size }, 'weir API listening');
  // `weir ec2` with no configuration finds this server through its data dir.
  writeEndpointFile(dataDir, url, cleanup);
  const first = [...keys.keys()][0];
  if (first) {
    print(
      startBanner(config, {
        apiUrl: url,
        credentialsFile,
        profile: first.profile,
        createdKey: created,
        ...(proxyAddress !== undefined ? { proxyAddress } : {}),
      }),
    );
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    credentialsFile,
    keys,
    store,
    auditPublicKey,
    ...(gateway !== undefined && proxyAddress !== undefined
      ? { proxyAddress, snapshotSource: gateway.source }
      : {}),
    reopenLogs: () => gateway?.decisionLog?.reopen(),
    close: () =>
      (closing ??= (async () => {
        logger.info('shutting down: finishing in-flight requests');
        await cleanup.closeAll();
      })()),
  };
}
