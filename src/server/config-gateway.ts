/**
 * @module server/config-gateway — the gateway's part of `weir serve`'s options, checked: where it
 * listens, the namespace whose groups it enforces, its TLS material, the identity map file, its
 * limits, the decision log file and the interfaces `weir_gateway_egress_share` counts. Options
 * that only make sense with a gateway are refused, naming them, when `--proxy-listen` is off.
 */
import { resolve } from 'node:path';
import { parseProcNetDev, readProcNetDev } from '../gateway/index.js';
import { loadGatewayTls } from '../identity/index.js';
import type { EgressShareSource, GatewayLimits } from '../gateway/index.js';
import type { GatewayTls, GatewayTlsFiles } from '../identity/index.js';
import { WeirError } from '../model/index.js';
import type { Scope } from '../model/index.js';
import { DEFAULT_DECISIONS_MAX_ROWS, DEFAULT_DECISIONS_RETENTION_MS } from './decision-writer.js';
import { parseListen } from './options.js';
import type { ListenAddress, ServeOptions } from './options.js';

/** `--decision-log FILE` and its rotation. */
export interface DecisionLogConfig {
  readonly file: string;
  readonly maxSize?: number;
  readonly keep?: number;
}

/** The stored decisions' window (`--decisions-retention`, `--decisions-max-rows`), checked. */
export interface DecisionStoreConfig {
  readonly retentionMs: number;
  readonly maxRows: number;
  readonly flushMs?: number;
}

/** The longest `--decisions-retention` (the counters outlive the rows, up to 90 days). */
const MAX_DECISIONS_RETENTION_MS = 90 * 86_400_000;
const MIN_DECISIONS_MAX_ROWS = 100;
const MAX_DECISIONS_MAX_ROWS = 100_000_000;

/** The gateway's options, checked. */
export interface GatewayConfig {
  readonly listen: ListenAddress;
  /** The namespace whose attached groups the gateway enforces. */
  readonly scope: Scope;
  /** The TLS files as given (watched for rotation when `tls` is set). */
  readonly tlsFiles: GatewayTlsFiles;
  readonly tls?: GatewayTls;
  /** `--proxy-identity-map`, absolute. */
  readonly identityMapFile?: string;
  /** Debounce of the identity map and TLS file watches. */
  readonly identityWatchDebounceMs?: number;
  readonly limits?: Partial<GatewayLimits>;
  /** Absent: decision lines go to the main log (stdout). */
  readonly decisionLog?: DecisionLogConfig;
  /** Absent where there are no interface counters to read (not Linux). */
  readonly egressShare?: EgressShareSource;
  /** How long and how many of the gateway's decisions the store keeps. */
  readonly decisions: DecisionStoreConfig;
}

/** Refuses the options that need a gateway when there is none. */
function refuseWithoutGateway(opts: ServeOptions): void {
  const given = [
    ...(opts.proxyTlsCertFile !== undefined ? ['--proxy-tls-cert'] : []),
    ...(opts.proxyTlsKeyFile !== undefined ? ['--proxy-tls-key'] : []),
    ...(opts.proxyClientCaFile !== undefined ? ['--proxy-client-ca'] : []),
    ...(opts.proxyIdentityMapFile !== undefined ? ['--proxy-identity-map'] : []),
    ...(opts.decisionsRetentionMs !== undefined ? ['--decisions-retention'] : []),
    ...(opts.decisionsMaxRows !== undefined ? ['--decisions-max-rows'] : []),
  ];
  if (given.length > 0) {
    throw new WeirError('BAD_OPTION', `${given.join(', ')}: no gateway to apply to (--proxy-listen is off)`);
  }
}

/**
 * The namespace the gateway serves, checked like the API checks account IDs and regions. Its
 * account is also the only one whose keys may use the Weir API, gateway or not (docs/security.md
 * "Tenancy").
 */
export function gatewayScope(opts: ServeOptions): Scope {
  const accountId = opts.gatewayAccount ?? '123456789012';
  const region = opts.gatewayRegion ?? 'us-east-1';
  if (!/^\d{12}$/.test(accountId)) {
    throw new WeirError('BAD_OPTION', `--gateway-account must be a 12-digit account ID, got '${accountId}'`);
  }
  // Region names have this shape (as --regions); config.ts checks that the API serves it.
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(region)) {
    throw new WeirError(
      'BAD_OPTION',
      `--gateway-region must be a region name (lower-case letters, digits, dashes) like us-east-1, got '${region}'`,
    );
  }
  return { accountId, region };
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

/** `--decision-log FILE` with its rotation; the rotation flags alone are refused. */
function decisionLogConfig(opts: ServeOptions): DecisionLogConfig | undefined {
  if (opts.decisionLogFile === undefined) {
    if (opts.decisionLogMaxSize !== undefined || opts.decisionLogKeep !== undefined) {
      throw new WeirError(
        'BAD_OPTION',
        '--decision-log-max-size and --decision-log-keep need --decision-log FILE (the decision log goes to stdout otherwise)',
      );
    }
    return undefined;
  }
  return {
    file: opts.decisionLogFile,
    ...(opts.decisionLogMaxSize !== undefined ? { maxSize: opts.decisionLogMaxSize } : {}),
    ...(opts.decisionLogKeep !== undefined ? { keep: opts.decisionLogKeep } : {}),
  };
}

/** `--decisions-retention` and `--decisions-max-rows`, within their bounds. */
function decisionStoreConfig(opts: ServeOptions): DecisionStoreConfig {
  const retentionMs = opts.decisionsRetentionMs ?? DEFAULT_DECISIONS_RETENTION_MS;
  if (retentionMs < 60_000 || retentionMs > MAX_DECISIONS_RETENTION_MS) {
    throw new WeirError(
      'BAD_OPTION',
      `--decisions-retention must be from 1m to 90d (default 7d), got ${retentionMs} ms`,
    );
  }
  const maxRows = opts.decisionsMaxRows ?? DEFAULT_DECISIONS_MAX_ROWS;
  if (!Number.isInteger(maxRows) || maxRows < MIN_DECISIONS_MAX_ROWS || maxRows > MAX_DECISIONS_MAX_ROWS) {
    throw new WeirError(
      'BAD_OPTION',
      `--decisions-max-rows must be an integer from ${MIN_DECISIONS_MAX_ROWS} to ${MAX_DECISIONS_MAX_ROWS} (default ${DEFAULT_DECISIONS_MAX_ROWS}), got ${maxRows}`,
    );
  }
  return {
    retentionMs,
    maxRows,
    ...(opts.decisionsFlushMs !== undefined ? { flushMs: opts.decisionsFlushMs } : {}),
  };
}

/**
 * The gateway's options, checked (the TLS material read and matched); undefined with
 * `--proxy-listen off`.
 * @throws WeirError naming the option at fault.
 */
export function buildGatewayConfig(opts: ServeOptions): GatewayConfig | undefined {
  if (opts.proxyListen === undefined || opts.proxyListen === 'off') {
    refuseWithoutGateway(opts);
    return undefined;
  }
  const tlsFiles: GatewayTlsFiles = {
    ...(opts.proxyTlsCertFile !== undefined ? { certFile: opts.proxyTlsCertFile } : {}),
    ...(opts.proxyTlsKeyFile !== undefined ? { keyFile: opts.proxyTlsKeyFile } : {}),
    ...(opts.proxyClientCaFile !== undefined ? { clientCaFile: opts.proxyClientCaFile } : {}),
  };
  const tls = loadGatewayTls(tlsFiles);
  const listen = parseListen(opts.proxyListen, '--proxy-listen');
  const scope = gatewayScope(opts);
  const egressShare = egressShareSource(opts);
  const decisionLog = decisionLogConfig(opts);
  return {
    listen,
    scope,
    tlsFiles,
    ...(tls !== undefined ? { tls } : {}),
    ...(opts.proxyIdentityMapFile !== undefined
      ? { identityMapFile: resolve(opts.proxyIdentityMapFile) }
      : {}),
    ...(opts.identityWatchDebounceMs !== undefined
      ? { identityWatchDebounceMs: opts.identityWatchDebounceMs }
      : {}),
    ...(opts.proxyLimits !== undefined ? { limits: opts.proxyLimits } : {}),
    ...(decisionLog !== undefined ? { decisionLog } : {}),
    ...(egressShare !== undefined ? { egressShare } : {}),
    decisions: decisionStoreConfig(opts),
  };
}
