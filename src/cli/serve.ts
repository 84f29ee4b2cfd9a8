/**
 * @module cli/serve — `weir serve`: opens the data dir (SQLite store, credentials), starts
 * the API server (EC2, and the Weir API with the gateway token key, the trusted bundle keys of
 * `--bundle-public-key` and an explainer of what the gateway enforces) and the egress gateway
 * (`--proxy-listen`, `--policy` or the bundle applied through the API, the security groups
 * attached in `--gateway-account`/`--gateway-region`, `--dns-hosts`, limits, TLS and client
 * certificates, the source-address identity map; its metrics on the API's `GET /metrics`), and
 * shuts down gracefully: the gateway stops, in-flight requests finish, then the store closes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as netConnect } from 'node:net';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import {
  DEFAULT_API_CONFIG,
  KeyRing,
  createApiHandler,
  createApiMetrics,
  generateAccessKey,
  parseCredentialsFile,
  renderCredentialsFile,
} from '../api/index.js';
import type { AccessKey, ApiConfig, ApiMetrics, CheckContext, WeirApiOptions } from '../api/index.js';
import {
  BLOCK_BYTES,
  bufferLines,
  createControlPlaneSource,
  createGateway,
  createGatewayMetrics,
  createResolver,
  dnsServerResolve,
  handOverAtExit,
  openDecisionLog,
  parseProcNetDev,
  readProcNetDev,
  systemResolve,
  parseDnsServer,
  parseHostsFile,
  randomIds,
  watchGatewayTls,
  watchIdentityMap,
  watchPolicyDir,
} from '../gateway/index.js';
import { TokenRevocations, loadGatewayTls, loadTokenKey } from '../identity/index.js';
import type {
  ControlPlaneSource,
  DecisionLogFile,
  EgressShareSource,
  Gateway,
  GatewayLimits,
  HostsFileProblem,
  InterfaceCountersReader,
  Resolve,
  SnapshotSource,
} from '../gateway/index.js';
import { WeirError } from '../model/index.js';
import type { Scope } from '../model/index.js';
import { declaredAttachments, readPublicKey, trustKeys } from '../policy/index.js';
import type { TrustedKeys } from '../policy/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { followStoredBundle } from './bundle-snapshot.js';

export interface ServeOptions {
  readonly dataDir: string;
  /** `HOST:PORT`; port 0 picks a free port. */
  readonly apiListen: string;
  readonly credentialsFile?: string;
  readonly rulesPerGroup?: number;
  readonly logger?: Logger;
  readonly logLevel?: string;
  /** Where the first-start hint goes (stderr by default). */
  readonly print?: (text: string) => void;
  /** Egress gateway `HOST:PORT`; absent or `off`: no gateway. */
  readonly proxyListen?: string;
  /**
   * Policy directory the gateway enforces (watched); without it, the bundle last applied through
   * the API. Either way together with the groups attached in the gateway's namespace.
   */
  readonly policyDir?: string;
  /** The account whose attached security groups the gateway enforces (default `123456789012`). */
  readonly gatewayAccount?: string;
  /** The region of that namespace (default `us-east-1`). */
  readonly gatewayRegion?: string;
  /** Static hosts file the gateway resolves from before the system resolver. */
  readonly dnsHostsFile?: string;
  /** DNS server (`IP:PORT`) the gateway asks for names not in the hosts file, instead of the system resolver. */
  readonly dnsServer?: string;
  /** Decision log file (`--decision-log`); absent: decision lines go to the main log (stdout). */
  readonly decisionLogFile?: string;
  /** Rotate the decision log file at this many bytes (`--decision-log-max-size`). */
  readonly decisionLogMaxSize?: number;
  /** Rotated decision log files kept (`--decision-log-keep`, default 5). */
  readonly decisionLogKeep?: number;
  /** Interfaces whose transmitted bytes `weir_gateway_egress_share` compares with the gateway's (default: all but `lo`). */
  readonly proxyShareInterfaces?: readonly string[];
  /** Reads the host's interface counters (default: `/proc/net/dev`); tests pass their own. */
  readonly readInterfaceCounters?: InterfaceCountersReader;
  /** Debounce of the policy directory watch (default 100 ms). */
  readonly policyDebounceMs?: number;
  /** Gateway limits and timeouts (`--proxy-max-conns` …); the rest from `DEFAULT_GATEWAY_LIMITS`. */
  readonly proxyLimits?: Partial<GatewayLimits>;
  /** `--proxy-tls-cert`: the gateway listens with TLS (needs `proxyTlsKeyFile`). */
  readonly proxyTlsCertFile?: string;
  /** `--proxy-tls-key`. */
  readonly proxyTlsKeyFile?: string;
  /** `--proxy-client-ca`: client certificates signed by this CA prove identity. */
  readonly proxyClientCaFile?: string;
  /** `--proxy-identity-map`: source address → identity for legacy hosts (watched). */
  readonly proxyIdentityMapFile?: string;
  /** Debounce of the identity map and TLS file watches (default 100 ms). */
  readonly identityWatchDebounceMs?: number;
  /** PEM files of the Ed25519 public keys trusted to sign bundles applied through the API. */
  readonly bundlePublicKeyFiles?: readonly string[];
}

export interface RunningServer {
  readonly url: string;
  readonly credentialsFile: string;
  readonly keys: KeyRing;
  readonly store: Store;
  /** The gateway's `host:port`, when it runs. */
  readonly proxyAddress?: string;
  /** What the gateway enforces, when it runs. */
  readonly snapshotSource?: ControlPlaneSource;
  /** Reopens the decision log file (SIGHUP, after an external logrotate); no-op without one. */
  reopenLogs(): void;
  /** Stops accepting, lets in-flight requests finish, then closes the store. */
  close(): Promise<void>;
}

/** Splits `HOST:PORT` (IPv6 as `[::1]:8484`). */
export function parseListen(value: string, option: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new WeirError(
      'BAD_OPTION',
      `${option} must be HOST:PORT (e.g. 127.0.0.1:8484 or [::1]:8484), got '${value}'`,
    );
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * The keys to accept: `--credentials FILE` when given, else `DATA/credentials`, created on
 * first start with a new admin key (mode 0600: it holds a secret).
 */
function loadKeys(opts: ServeOptions): { file: string; keys: KeyRing; created: boolean } {
  if (opts.credentialsFile) {
    const file = resolve(opts.credentialsFile);
    if (!existsSync(file)) throw new WeirError('BAD_OPTION', `--credentials: file ${file} does not exist`);
    return {
      file,
      keys: new KeyRing(parseCredentialsFile(readFileSync(file, 'utf8'), file)),
      created: false,
    };
  }
  const file = join(resolve(opts.dataDir), 'credentials');
  if (existsSync(file)) {
    return {
      file,
      keys: new KeyRing(parseCredentialsFile(readFileSync(file, 'utf8'), file)),
      created: false,
    };
  }
  const key: AccessKey = generateAccessKey(randomBytes);
  writeFileSync(file, renderCredentialsFile([key]), { mode: 0o600, flag: 'wx' });
  return { file, keys: new KeyRing([key]), created: true };
}

interface RunningGateway {
  readonly gateway: Gateway;
  readonly source: ControlPlaneSource;
  /** The identity map and TLS file watches. */
  readonly identityWatchers: readonly { close(): void }[];
  readonly address: string;
  readonly decisionLog?: DecisionLogFile;
}

/**
 * Where `weir_gateway_egress_share` reads the host's transmitted bytes: `/proc/net/dev` (Linux),
 * restricted to `--proxy-share-interfaces` when given (each must exist); none elsewhere.
 */
function egressShareSource(opts: ServeOptions): EgressShareSource | undefined {
  const read = opts.readInterfaceCounters ?? readProcNetDev;
  const text = read();
  const wanted = opts.proxyShareInterfaces;
  if (text === undefined) {
    if (wanted === undefined) return undefined;
    throw new WeirError(
      'BAD_OPTION',
      '--proxy-share-interfaces: this host has no /proc/net/dev to read interface counters from (Linux only)',
    );
  }
  if (wanted === undefined) return { read };
  const have = [...parseProcNetDev(text).keys()];
  const missing = wanted.filter((name) => !have.includes(name));
  if (missing.length > 0) {
    throw new WeirError(
      'BAD_OPTION',
      `--proxy-share-interfaces: no interface ${missing.map((m) => `'${m}'`).join(', ')} on this host (have: ${have.join(', ')})`,
    );
  }
  return { read, interfaces: wanted };
}

/**
 * The gateway's decision logger: the main logger, or with `--decision-log FILE` a pino logger
 * on that file (rotated at `--decision-log-max-size`), so the API's own lines stay on stdout.
 */
function decisionLogger(opts: ServeOptions, log: Logger): { logger: Logger; file?: DecisionLogFile } {
  if (opts.decisionLogFile === undefined) {
    if (opts.decisionLogMaxSize !== undefined || opts.decisionLogKeep !== undefined) {
      throw new WeirError(
        'BAD_OPTION',
        '--decision-log-max-size and --decision-log-keep need --decision-log FILE (the decision log goes to stdout otherwise)',
      );
    }
    return { logger: log };
  }
  const file = openDecisionLog({
    file: opts.decisionLogFile,
    ...(opts.decisionLogMaxSize !== undefined ? { maxSize: opts.decisionLogMaxSize } : {}),
    ...(opts.decisionLogKeep !== undefined ? { keep: opts.decisionLogKeep } : {}),
    onError: (err, during) =>
      log.error({ err, during, file: opts.decisionLogFile }, 'decision log file failed'),
  });
  const logger = pino(
    { level: opts.logLevel ?? 'info', base: { service: 'weir', component: 'gateway' } },
    file,
  );
  log.info({ decisionLog: file.file }, 'gateway decision log goes to a file');
  return { logger, file };
}

/** The namespace the gateway serves, checked like the API checks account IDs and regions. */
function gatewayScope(opts: ServeOptions): Scope {
  const accountId = opts.gatewayAccount ?? '123456789012';
  const region = opts.gatewayRegion ?? 'us-east-1';
  if (!/^\d{12}$/.test(accountId)) {
    throw new WeirError('BAD_OPTION', `--gateway-account must be a 12-digit account ID, got '${accountId}'`);
  }
  // The API accepts any region name of this shape in the signing scope; so does the gateway.
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) {
    throw new WeirError(
      'BAD_OPTION',
      `--gateway-region must be a region name (lower-case letters, digits, dashes) like us-east-1, got '${region}'`,
    );
  }
  return { accountId, region };
}

/**
 * Prepares the egress gateway. The policy and the control plane are loaded before anything
 * listens, so a broken policy directory stops `weir serve` instead of starting a gateway with
 * nothing to enforce.
 */
async function prepareGateway(
  opts: ServeOptions,
  dataDir: string,
  logger: Logger,
  metrics: ApiMetrics,
  store: Store,
  trustedKeys: TrustedKeys,
): Promise<
  | {
      listen: () => Promise<RunningGateway>;
      source: ControlPlaneSource;
      /** The namespace whose attached groups the gateway enforces. */
      scope: Scope;
      identityWatchers: readonly { close(): void }[];
    }
  | undefined
> {
  const tlsFiles = {
    ...(opts.proxyTlsCertFile !== undefined ? { certFile: opts.proxyTlsCertFile } : {}),
    ...(opts.proxyTlsKeyFile !== undefined ? { keyFile: opts.proxyTlsKeyFile } : {}),
    ...(opts.proxyClientCaFile !== undefined ? { clientCaFile: opts.proxyClientCaFile } : {}),
  };
  if (opts.proxyListen === undefined || opts.proxyListen === 'off') {
    const given = [
      ...(opts.proxyTlsCertFile !== undefined ? ['--proxy-tls-cert'] : []),
      ...(opts.proxyTlsKeyFile !== undefined ? ['--proxy-tls-key'] : []),
      ...(opts.proxyClientCaFile !== undefined ? ['--proxy-client-ca'] : []),
      ...(opts.proxyIdentityMapFile !== undefined ? ['--proxy-identity-map'] : []),
    ];
    if (given.length > 0) {
      throw new WeirError(
        'BAD_OPTION',
        `${given.join(', ')}: no gateway to apply to (--proxy-listen is off)`,
      );
    }
    return undefined;
  }
  const tls = loadGatewayTls(tlsFiles);
  const { host, port } = parseListen(opts.proxyListen, '--proxy-listen');
  const log = logger.child({ component: 'gateway' });
  let hosts: Map<string, string[]> | undefined;
  if (opts.dnsHostsFile !== undefined) {
    const file = resolve(opts.dnsHostsFile);
    if (!existsSync(file)) throw new WeirError('BAD_OPTION', `--dns-hosts: file ${file} does not exist`);
    const problems: HostsFileProblem[] = [];
    hosts = parseHostsFile(readFileSync(file, 'utf8'), problems);
    for (const p of problems) log.warn({ dnsHosts: file }, `${file}:${p.line}:${p.col}: ${p.message}`);
  }
  let fallback: Resolve | undefined;
  if (opts.dnsServer !== undefined) {
    const checked = parseDnsServer(opts.dnsServer);
    if (!checked.ok) throw new WeirError('BAD_OPTION', `--dns-server: ${checked.problem}`);
    fallback = dnsServerResolve(checked.server);
  }
  const scope = gatewayScope(opts);
  const revocations = new TokenRevocations();
  // Loaded before the source: its sources are the members that group references match.
  let onMapSwap = (): void => undefined;
  const identityMap =
    opts.proxyIdentityMapFile === undefined
      ? undefined
      : watchIdentityMap(resolve(opts.proxyIdentityMapFile), {
          logger: log,
          ...(opts.identityWatchDebounceMs !== undefined ? { debounceMs: opts.identityWatchDebounceMs } : {}),
          onReload: (swapped) => {
            if (swapped) onMapSwap();
          },
        });
  let source: ControlPlaneSource;
  try {
    source = await createControlPlaneSource({
      store,
      scope,
      policy:
        opts.policyDir === undefined
          ? { kind: 'bundle', trustedKeys }
          : {
              kind: 'dir',
              dir: resolve(opts.policyDir),
              ...(opts.policyDebounceMs !== undefined ? { debounceMs: opts.policyDebounceMs } : {}),
            },
      logger: log,
      now: Date.now,
      revocations,
      ...(identityMap !== undefined ? { identityMap: () => identityMap.current() } : {}),
    });
  } catch (err) {
    identityMap?.close();
    throw err;
  }
  onMapSwap = () => void source.identityMapChanged();
  log.info(
    { version: source.current().version, account: scope.accountId, region: scope.region },
    opts.policyDir === undefined
      ? 'gateway enforces the policy bundle applied through the API and the attached security groups'
      : 'gateway enforces the policy directory and the attached security groups',
  );
  const share = egressShareSource(opts);
  const decisions = decisionLogger(opts, log);
  const gateway = createGateway({
    getSnapshot: () => source.current(),
    resolve: createResolver({
      ...(hosts !== undefined ? { hosts } : {}),
      ...(fallback !== undefined ? { fallback } : {}),
    }),
    connect: (ip, p, onread) => netConnect({ host: ip, port: p, onread }),
    now: Date.now,
    newId: randomIds(),
    logger: decisions.logger,
    tokenKey: loadTokenKey(dataDir),
    ...(tls !== undefined ? { tls } : {}),
    ...(identityMap !== undefined ? { identityMap: () => identityMap.current() } : {}),
    revokedTokens: revocations,
    ...(opts.proxyLimits !== undefined ? { limits: opts.proxyLimits } : {}),
    // The API's registry: one `GET /metrics` scrape covers the API and the gateway.
    metrics: createGatewayMetrics(
      metrics.registry,
      {
        getSnapshot: () => source.current(),
        loadedAt: () => source.loadedAt(),
        generation: () => source.generation(),
        now: Date.now,
      },
      share,
    ),
  });
  const identityWatchers: { close(): void }[] = identityMap !== undefined ? [identityMap] : [];
  if (tls !== undefined) {
    identityWatchers.push(
      watchGatewayTls(tlsFiles, {
        apply: (next) => gateway.updateTls(next),
        logger: log,
        ...(opts.identityWatchDebounceMs !== undefined ? { debounceMs: opts.identityWatchDebounceMs } : {}),
      }),
    );
  }
  return {
    source,
    scope,
    identityWatchers,
    listen: async () => {
      const a = await gateway.listen(host, port);
      const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
      log.info(
        { proxy: address, tls: tls !== undefined, clientCertificates: tls?.clientCa !== undefined },
        'weir egress gateway listening',
      );
      return {
        gateway,
        source,
        identityWatchers,
        address,
        ...(decisions.file !== undefined ? { decisionLog: decisions.file } : {}),
      };
    },
  };
}

/** The keys `--bundle-public-key` names; a file that is not an Ed25519 public key stops the server. */
function loadBundleKeys(files: readonly string[]): TrustedKeys {
  return trustKeys(
    files.map((f) => {
      const file = resolve(f);
      let pem: Buffer;
      try {
        pem = readFileSync(file);
      } catch {
        throw new WeirError('BAD_OPTION', `--bundle-public-key ${file}: cannot read the file`);
      }
      try {
        return readPublicKey(pem);
      } catch (err) {
        throw new WeirError(
          'BAD_OPTION',
          `--bundle-public-key ${file}: ${err instanceof Error ? err.message : String(err)} (weir policy keygen writes weir-policy.pub)`,
        );
      }
    }),
  );
}

/**
 * What `check` through the API explains with: what the gateway enforces. With a gateway, its own
 * snapshot (the policy set and the attached groups of its namespace). Without one: with
 * `--policy`, the same directory watched here; otherwise the bundle last applied through the API
 * (empty, so denying everything, until one is).
 */
function explainSource(
  opts: ServeOptions,
  store: Store,
  bundleKeys: TrustedKeys,
  gatewaySource: ControlPlaneSource | undefined,
  logger: Logger,
): { options: Pick<WeirApiOptions, 'explainer' | 'explainContext'>; ready: Promise<void>; close(): void } {
  if (gatewaySource !== undefined) {
    return {
      options: {
        explainer: (req) => gatewaySource.current().explain(req),
        explainContext: (): CheckContext => {
          const snap = gatewaySource.current();
          return {
            set: gatewaySource.policySet(),
            unresolved: snap.stats.unresolved,
            source: `the gateway's snapshot (${snap.version})`,
          };
        },
      },
      ready: Promise.resolve(),
      close: () => undefined,
    };
  }
  if (opts.policyDir !== undefined) {
    const dir = resolve(opts.policyDir);
    const source: SnapshotSource = watchPolicyDir(dir, { logger: logger.child({ component: 'check' }) });
    return {
      options: {
        explainer: (req) => source.current().explain(req),
        explainContext: (): CheckContext => {
          const snap = source.current();
          return {
            unresolved: snap.stats.unresolved,
            source: `policy directory ${dir} (version ${snap.version})`,
          };
        },
      },
      ready: Promise.resolve(),
      close: () => source.close(),
    };
  }
  const bundle = followStoredBundle(store, bundleKeys, logger.child({ component: 'bundle' }));
  return {
    options: {
      explainer: (req) => bundle.current().snapshot.explain(req),
      explainContext: (): CheckContext => {
        const b = bundle.current();
        return {
          unresolved: b.snapshot.stats.unresolved,
          ...(b.set !== undefined ? { set: b.set } : {}),
          source:
            b.version !== undefined
              ? `policy bundle version ${b.version}`
              : 'no policy (every request is denied)',
        };
      },
    },
    ready: bundle.ready,
    close: () => bundle.close(),
  };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  // Asynchronous, buffered stdout: a decision line per request must not cost a write call
  // each. Lines are written once 8 KiB are pending, else within 100 ms; none is dropped (no
  // maxLength), and what is pending is flushed on close and, by pino, on exit. They reach
  // sonic-boom a block at a time (line-blocks.ts), so the block still pending here is handed
  // over before pino's own exit hooks flush sonic-boom.
  const dest =
    opts.logger === undefined
      ? bufferLines(pino.destination({ dest: 1, sync: false, minLength: BLOCK_BYTES }))
      : undefined;
  const forgetLogAtExit = dest === undefined ? undefined : handOverAtExit(dest);
  const logFlush = dest === undefined ? undefined : setInterval(() => dest.flush(), 100);
  logFlush?.unref();
  const logger = opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: { service: 'weir' } }, dest);
  const print = opts.print ?? ((t: string) => process.stderr.write(t));
  const { host, port } = parseListen(opts.apiListen, '--api-listen');
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const { file: credentialsFile, keys, created } = loadKeys(opts);
  const metrics = createApiMetrics({ defaultMetrics: true });
  // Options are checked before anything is opened or watched: a bad one leaves nothing behind.
  const bundleKeys = loadBundleKeys(opts.bundlePublicKeyFiles ?? []);
  const store = openSqliteStore({ file: join(dataDir, 'weir.sqlite') });
  let pendingGateway: Awaited<ReturnType<typeof prepareGateway>>;
  try {
    pendingGateway = await prepareGateway(opts, dataDir, logger, metrics, store, bundleKeys);
  } catch (err) {
    await store.close();
    throw err;
  }
  const config: ApiConfig = {
    ...DEFAULT_API_CONFIG,
    rulesPerGroup: opts.rulesPerGroup ?? DEFAULT_API_CONFIG.rulesPerGroup,
  };
  let checkHosts: Map<string, string[]> | undefined;
  if (opts.dnsHostsFile !== undefined && existsSync(resolve(opts.dnsHostsFile))) {
    checkHosts = parseHostsFile(readFileSync(resolve(opts.dnsHostsFile), 'utf8'));
  }
  const explain = explainSource(opts, store, bundleKeys, pendingGateway?.source, logger);
  await explain.ready;
  const prepared = pendingGateway;
  const weir: WeirApiOptions = {
    tokenKey: loadTokenKey(dataDir),
    bundleKeys,
    ...explain.options,
    // The gateway's resolver (hosts file first), so `check --resolve` sees the names it would.
    resolve: checkHosts !== undefined ? createResolver({ hosts: checkHosts }) : systemResolve,
    // `weir workload list` and DeleteSecurityGroup see what the gateway's policy set declares.
    ...(prepared !== undefined
      ? {
          declaredAttachments: () => ({
            scope: prepared.scope,
            attachments: declaredAttachments(prepared.source.policySet()),
          }),
        }
      : {}),
  };
  const server: Server = createServer(createApiHandler({ store, keys, logger, metrics, config, weir }));
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => {
      server.off('error', rej);
      res();
    });
  });
  let gw: RunningGateway | undefined;
  try {
    gw = await pendingGateway?.listen();
  } catch (err) {
    pendingGateway?.source.close();
    for (const w of pendingGateway?.identityWatchers ?? []) w.close();
    explain.close();
    await new Promise<void>((res) => server.close(() => res()));
    await store.close();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  logger.info({ url, dataDir, credentialsFile, keys: keys.size }, 'weir API listening');
  // `weir ec2` with no configuration finds this server through its data dir.
  const endpointFile = join(dataDir, 'endpoint');
  writeFileSync(endpointFile, `${url}\n`);

  const first = [...keys.keys()][0];
  if (first) {
    print(
      (created ? `Created an admin access key in ${credentialsFile} (profile "${first.profile}").\n` : '') +
        `Weir EC2 API: ${url}\nTry it with the AWS CLI:\n` +
        `  AWS_SHARED_CREDENTIALS_FILE=${credentialsFile} aws --profile ${first.profile} --region us-east-1 --endpoint-url ${url} ec2 describe-security-groups\n`,
    );
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down: finishing in-flight requests');
      if (gw !== undefined) {
        gw.source.close();
        for (const w of gw.identityWatchers) w.close();
        await gw.gateway.close();
        await gw.decisionLog?.end();
      }
      explain.close();
      const closed = new Promise<void>((res) => server.close(() => res()));
      server.closeIdleConnections();
      // Keep-alive clients that never go idle are cut after a grace period.
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
      await store.close();
      try {
        if (readFileSync(endpointFile, 'utf8') === `${url}\n`) unlinkSync(endpointFile);
      } catch {
        // Already gone, or replaced by another server: nothing to clean up.
      }
      logger.info('store closed; bye');
      clearInterval(logFlush);
      forgetLogAtExit?.();
      dest?.flushSync();
    })());

  return {
    url,
    credentialsFile,
    keys,
    store,
    ...(gw !== undefined ? { proxyAddress: gw.address, snapshotSource: gw.source } : {}),
    reopenLogs: () => gw?.decisionLog?.reopen(),
    close,
  };
}
