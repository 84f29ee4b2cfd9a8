/**
 * @module cli/serve — `weir serve`: opens the data dir (SQLite store, credentials), starts
 * the API server and the egress gateway (`--proxy-listen`, `--policy`, `--dns-hosts`, limits; its
 * metrics on the API's `GET /metrics`), and shuts down gracefully: the gateway stops, in-flight
 * requests finish, then the store closes.
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
import type { AccessKey, ApiConfig, ApiMetrics } from '../api/index.js';
import {
  createGateway,
  createGatewayMetrics,
  createResolver,
  dnsServerResolve,
  openDecisionLog,
  parseProcNetDev,
  readProcNetDev,
  emptySnapshotSource,
  loadTokenKey,
  parseDnsServer,
  parseHostsFile,
  randomIds,
  watchPolicyDir,
} from '../gateway/index.js';
import type {
  DecisionLogFile,
  EgressShareSource,
  Gateway,
  GatewayLimits,
  InterfaceCountersReader,
  Resolve,
  SnapshotSource,
} from '../gateway/index.js';
import { WeirError } from '../model/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';

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
  /** Policy directory the gateway enforces (watched); without it the gateway denies everything. */
  readonly policyDir?: string;
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
}

export interface RunningServer {
  readonly url: string;
  readonly credentialsFile: string;
  readonly keys: KeyRing;
  readonly store: Store;
  /** The gateway's `host:port`, when it runs. */
  readonly proxyAddress?: string;
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
  readonly source: SnapshotSource;
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

/**
 * Starts the egress gateway. The policy is loaded before anything listens, so a broken policy
 * directory stops `weir serve` instead of starting a gateway with nothing to enforce.
 */
function prepareGateway(
  opts: ServeOptions,
  dataDir: string,
  logger: Logger,
  metrics: ApiMetrics,
): { listen: () => Promise<RunningGateway>; source: SnapshotSource } | undefined {
  if (opts.proxyListen === undefined || opts.proxyListen === 'off') return undefined;
  const { host, port } = parseListen(opts.proxyListen, '--proxy-listen');
  const log = logger.child({ component: 'gateway' });
  let hosts: Map<string, string[]> | undefined;
  if (opts.dnsHostsFile !== undefined) {
    const file = resolve(opts.dnsHostsFile);
    if (!existsSync(file)) throw new WeirError('BAD_OPTION', `--dns-hosts: file ${file} does not exist`);
    hosts = parseHostsFile(readFileSync(file, 'utf8'));
  }
  let fallback: Resolve | undefined;
  if (opts.dnsServer !== undefined) {
    const checked = parseDnsServer(opts.dnsServer);
    if (!checked.ok) throw new WeirError('BAD_OPTION', `--dns-server: ${checked.problem}`);
    fallback = dnsServerResolve(checked.server);
  }
  const source =
    opts.policyDir === undefined
      ? emptySnapshotSource()
      : watchPolicyDir(resolve(opts.policyDir), {
          logger: log,
          ...(opts.policyDebounceMs !== undefined ? { debounceMs: opts.policyDebounceMs } : {}),
        });
  const share = egressShareSource(opts);
  const decisions = decisionLogger(opts, log);
  if (opts.policyDir === undefined) {
    log.warn('no --policy: the gateway denies every request (reason unknown-identity)');
  }
  const gateway = createGateway({
    getSnapshot: () => source.current(),
    resolve: createResolver({
      ...(hosts !== undefined ? { hosts } : {}),
      ...(fallback !== undefined ? { fallback } : {}),
    }),
    connect: (ip, p) => netConnect({ host: ip, port: p }),
    now: Date.now,
    newId: randomIds(),
    logger: decisions.logger,
    tokenKey: loadTokenKey(dataDir),
    ...(opts.proxyLimits !== undefined ? { limits: opts.proxyLimits } : {}),
    // The API's registry: one `GET /metrics` scrape covers the API and the gateway.
    metrics: createGatewayMetrics(
      metrics.registry,
      {
        getSnapshot: () => source.current(),
        loadedAt: () => source.loadedAt(),
        now: Date.now,
      },
      share,
    ),
  });
  return {
    source,
    listen: async () => {
      const a = await gateway.listen(host, port);
      const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
      log.info({ proxy: address }, 'weir egress gateway listening');
      return {
        gateway,
        source,
        address,
        ...(decisions.file !== undefined ? { decisionLog: decisions.file } : {}),
      };
    },
  };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  // Asynchronous, buffered stdout: a decision line per request must not cost a write call
  // each. Lines are written once 8 KiB are pending, else within 100 ms; none is dropped (no
  // maxLength), and what is pending is flushed on close and, by pino, on exit.
  const dest =
    opts.logger === undefined ? pino.destination({ dest: 1, sync: false, minLength: 8192 }) : undefined;
  const logFlush = dest === undefined ? undefined : setInterval(() => dest.flush(), 100);
  logFlush?.unref();
  const logger = opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: { service: 'weir' } }, dest);
  const print = opts.print ?? ((t: string) => process.stderr.write(t));
  const { host, port } = parseListen(opts.apiListen, '--api-listen');
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const { file: credentialsFile, keys, created } = loadKeys(opts);
  const metrics = createApiMetrics({ defaultMetrics: true });
  const pendingGateway = prepareGateway(opts, dataDir, logger, metrics);
  const store = openSqliteStore({ file: join(dataDir, 'weir.sqlite') });
  const config: ApiConfig = {
    ...DEFAULT_API_CONFIG,
    rulesPerGroup: opts.rulesPerGroup ?? DEFAULT_API_CONFIG.rulesPerGroup,
  };
  const server: Server = createServer(createApiHandler({ store, keys, logger, metrics, config }));
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
        await gw.gateway.close();
        await gw.decisionLog?.end();
      }
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
      dest?.flushSync();
    })());

  return {
    url,
    credentialsFile,
    keys,
    store,
    ...(gw !== undefined ? { proxyAddress: gw.address } : {}),
    reopenLogs: () => gw?.decisionLog?.reopen(),
    close,
  };
}
