/**
 * @module server/options — the options of `weir serve` as given, one per flag (`ServeOptions`),
 * and the `HOST:PORT` parser of its listen flags. `buildServerConfig` checks them.
 */
import type { Logger } from 'pino';
import type { GatewayLimits, InterfaceCountersReader } from '../gateway/index.js';
import { WeirError } from '../model/index.js';

/** The options of `weir serve`, one per flag (and what tests pass in place of the process's I/O). */
export interface ServeOptions {
  readonly dataDir: string;
  /** `HOST:PORT`; port 0 picks a free port. */
  readonly apiListen: string;
  readonly credentialsFile?: string;
  readonly rulesPerGroup?: number;
  /** `--breakglass-max-ttl` in ms (default 1 h, at most 4 h). */
  readonly breakglassMaxTtlMs?: number;
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
  /** `--regions`: the regions the API serves (default: AWS's region names). */
  readonly regions?: readonly string[];
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
  /** `--bundle-audience`: the audience a bundle must name to be taken; absent: bundles that name none. */
  readonly bundleAudience?: string;
  /** `--api-host`: the host names (`NAME[:PORT]`) requests must be signed for; absent: any. */
  readonly apiHosts?: readonly string[];
  /** `--api-tls-cert`: the API serves HTTPS (needs `apiTlsKeyFile`). */
  readonly apiTlsCertFile?: string;
  /** `--api-tls-key`. */
  readonly apiTlsKeyFile?: string;
  /** `--api-headers-timeout` (ms, default 10 s). */
  readonly apiHeadersTimeoutMs?: number;
  /** `--api-request-timeout` (ms, default 30 s). */
  readonly apiRequestTimeoutMs?: number;
  /** `--api-idle-timeout`: idle keep-alive connections (ms, default 65 s). */
  readonly apiIdleTimeoutMs?: number;
  /** `--api-body-budget`: bytes of request bodies held at once (default 64 MiB). */
  readonly apiBodyBudget?: number;
  /** `--notify-webhook` (repeatable): URLs notifications are POSTed to; absent: none sent. */
  readonly notifyWebhooks?: readonly string[];
  /** `--notify-expiring` (ms, default 14 days): tell of policy rules expiring within this. */
  readonly notifyExpiringMs?: number;
  /** `--audit-reads`: record reads in the audit trail too (writes are always recorded). */
  readonly auditReads?: boolean;
  /** `--console-session-ttl` (ms, default 8 h, at most 7 days): how long a console sign-in lasts. */
  readonly consoleSessionTtlMs?: number;
  /** How often audit digests are signed while records are added (ms, default 5 min); tests shorten it. */
  readonly auditDigestIntervalMs?: number;
  /** `--store` (or `WEIR_STORE`): a `postgres://` URL; absent: SQLite in the data dir. */
  readonly store?: string;
  /** `--decisions-retention` (ms, default 7 days): how long the gateway's decisions stay searchable. */
  readonly decisionsRetentionMs?: number;
  /** `--decisions-max-rows` (default 1,000,000): the most decisions stored. */
  readonly decisionsMaxRows?: number;
  /** Between two batches of decisions written to the store (ms, default 250); tests shorten it. */
  readonly decisionsFlushMs?: number;
}

/** A `HOST:PORT` to listen on. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Splits `HOST:PORT` (IPv6 as `[::1]:8484`). */
export function parseListen(value: string, option: string): ListenAddress {
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
