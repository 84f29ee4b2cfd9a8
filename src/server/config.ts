/**
 * @module server/config — the options of `weir serve` (`ServeOptions`, one per flag) checked
 * into one `ServerConfig` before anything is opened, watched or listened on: each problem is a
 * `WeirError` (`BAD_OPTION`) naming the flag, so `weir serve` prints one line and exits 2. Files
 * the options name are read here, once (the hosts file, the bundle keys, the TLS material).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AWS_REGIONS, REGION_NAME } from '../api/index.js';
import { loadDnsSettings } from '../dns/index.js';
import type { DnsSettings } from '../dns/index.js';
import { WeirError } from '../model/index.js';
import { parseWebhookUrls } from '../notify/index.js';
import { isPostgresUrl } from '../store/index.js';
import type { Webhook } from '../notify/index.js';
import {
  BREAKGLASS_DEFAULT_MAX_TTL_MS,
  BREAKGLASS_MAX_TTL_LIMIT_MS,
  BREAKGLASS_MIN_TTL_MS,
  formatBreakglassDuration,
} from '../onramp/index.js';
import { audienceProblem, readPublicKey, trustKeys } from '../policy/index.js';
import type { TrustedKeys } from '../policy/index.js';
import { buildApiListenConfig } from './config-api.js';
import type { ApiListenConfig } from './config-api.js';
import { buildGatewayConfig, gatewayScope } from './config-gateway.js';
import type { GatewayConfig } from './config-gateway.js';
import type { ListenAddress, ServeOptions } from './options.js';

/** Where the policy set comes from: a directory (`--policy`), else the bundle applied through the API. */
export type PolicyConfig =
  { readonly kind: 'dir'; readonly dir: string; readonly debounceMs?: number } | { readonly kind: 'bundle' };

/** `weir serve`'s options, checked. */
export interface ServerConfig {
  /** Absolute. */
  readonly dataDir: string;
  /** `--store`: the PostgreSQL database (a `postgres://` URL); absent: SQLite in the data dir. */
  readonly storeUrl?: string;
  readonly api: ListenAddress;
  /** The API listener: hosts, TLS, timeouts, body budget (`api.listen` is `api` above). */
  readonly apiListener: ApiListenConfig;
  /** `--credentials FILE` (absolute, exists); absent: `DATA/credentials`, created on first start. */
  readonly credentialsFile?: string;
  readonly rulesPerGroup?: number;
  /** The longest break-glass session, ms (`--breakglass-max-ttl`, checked: at most 4 h). */
  readonly breakglassMaxTtlMs: number;
  /** The regions the API serves: `--regions`, else AWS's region names. */
  readonly regions: readonly string[];
  readonly logLevel: string;
  /** The keys of `--bundle-public-key`, read. */
  readonly bundleKeys: TrustedKeys;
  /** `--bundle-audience`: bundles must name it; absent: only bundles that name no audience. */
  readonly bundleAudience?: string;
  readonly policy: PolicyConfig;
  /** The resolver's settings, shared by the gateway and the API's `check` with `resolve`. */
  readonly dns: DnsSettings;
  /** Absent with `--proxy-listen off`. */
  readonly gateway?: GatewayConfig;
  /**
   * The account whose groups the gateway enforces (`--gateway-account`), with or without a
   * gateway: the only account whose keys may use the Weir API (api/weir/tenancy).
   */
  readonly account: string;
  /** Webhook notifications (`--notify-webhook`, `--notify-expiring`). */
  readonly notify: NotifyConfig;
  /** `--audit-reads`: reads are recorded in the audit trail too. */
  readonly auditReads: boolean;
  /** The gateway's region: the namespace the console acts in. */
  readonly region: string;
  /** `--console-session-ttl` (ms), checked. */
  readonly consoleSessionTtlMs: number;
  /** How often audit digests are signed (ms). */
  readonly auditDigestIntervalMs?: number;
}

/** `--notify-webhook` URLs, checked, and `--notify-expiring`. */
export interface NotifyConfig {
  /** In flag order; empty: no delivery and no scans. */
  readonly webhooks: readonly Webhook[];
  /** Tell of policy rules expiring within this (ms). */
  readonly expiringMs: number;
}

/** `--notify-expiring`'s default: two weeks' notice. */
export const DEFAULT_NOTIFY_EXPIRING_MS = 14 * 86_400_000;

/**
 * `--breakglass-max-ttl`, checked: from 5 s to 4 h. An emergency session longer than a shift's
 * incident is a standing grant that skipped review: that is what exceptions are for.
 */
function breakglassMaxTtl(ms: number | undefined): number {
  if (ms === undefined) return BREAKGLASS_DEFAULT_MAX_TTL_MS;
  if (ms > BREAKGLASS_MAX_TTL_LIMIT_MS || ms < BREAKGLASS_MIN_TTL_MS) {
    throw new WeirError(
      'BAD_OPTION',
      `--breakglass-max-ttl: ${formatBreakglassDuration(ms)} is ${ms < BREAKGLASS_MIN_TTL_MS ? 'under 5s' : 'over the limit of 4h'}; ` +
        'give a duration from 5s to 4h (default 1h); longer access is an exception (weir exception request), approved and reviewed',
    );
  }
  return ms;
}

/** `--console-session-ttl`'s default: a working day. */
export const DEFAULT_CONSOLE_SESSION_TTL_MS = 8 * 3_600_000;

/**
 * `--console-session-ttl`, checked: from 1 s to 7 days. A sign-in that outlives a week is a
 * standing credential in a browser; shorter ones are for tests and kiosks.
 */
function consoleSessionTtl(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_CONSOLE_SESSION_TTL_MS;
  if (ms < 1000 || ms > 7 * 86_400_000) {
    throw new WeirError(
      'BAD_OPTION',
      `--console-session-ttl: give a duration from 1s to 7d (default 8h), got ${ms} ms`,
    );
  }
  return ms;
}

/** The levels `--log-level` takes: pino's, from the most to the least severe, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `--log-level`, checked here so that pino never sees an unknown level (it throws a stack trace). */
function checkLogLevel(level: string | undefined): string {
  if (level === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new WeirError(
      'BAD_OPTION',
      `--log-level: '${level}' is not a level; use one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return level;
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
 * `--regions`, checked: names of the region shape, at least one; the gateway's region must be
 * among them, or the gateway would enforce a namespace no client can write to.
 */
function servedRegions(opts: ServeOptions, gateway: GatewayConfig | undefined): readonly string[] {
  const regions = opts.regions === undefined ? AWS_REGIONS : [...new Set(opts.regions)];
  const bad = regions.find((r) => !REGION_NAME.test(r));
  if (bad !== undefined || regions.length === 0) {
    throw new WeirError(
      'BAD_OPTION',
      `--regions must be region names (lower-case letters, digits, dashes) separated by commas, like us-east-1,eu-west-1; got '${bad ?? ''}'`,
    );
  }
  if (gateway !== undefined && !regions.includes(gateway.scope.region)) {
    throw new WeirError(
      'BAD_OPTION',
      `--gateway-region ${gateway.scope.region} is not among the regions served (--regions ${regions.join(',')}): add it, or choose one of them`,
    );
  }
  return regions;
}

/**
 * Checks every option of `weir serve`, reading the files they name, and returns the one config
 * the server is wired from. Nothing is opened, watched or listened on yet, so a bad option
 * leaves nothing behind.
 * @throws WeirError (`BAD_OPTION`) naming the flag at fault.
 */
export function buildServerConfig(opts: ServeOptions): ServerConfig {
  const logLevel = checkLogLevel(opts.logLevel);
  const apiListener = buildApiListenConfig(opts);
  const api = apiListener.listen;
  let credentialsFile: string | undefined;
  if (opts.credentialsFile !== undefined) {
    credentialsFile = resolve(opts.credentialsFile);
    if (!existsSync(credentialsFile)) {
      throw new WeirError('BAD_OPTION', `--credentials: file ${credentialsFile} does not exist`);
    }
  }
  const bundleKeys = loadBundleKeys(opts.bundlePublicKeyFiles ?? []);
  if (opts.bundleAudience !== undefined) {
    const bad = audienceProblem(opts.bundleAudience);
    if (bad !== undefined) throw new WeirError('BAD_OPTION', `--bundle-audience: ${bad}`);
  }
  const gateway = buildGatewayConfig(opts);
  const regions = servedRegions(opts, gateway);
  const dns = loadDnsSettings({
    ...(opts.dnsHostsFile !== undefined ? { hostsFile: opts.dnsHostsFile } : {}),
    ...(opts.dnsServer !== undefined ? { server: opts.dnsServer } : {}),
  });
  const policy: PolicyConfig =
    opts.policyDir === undefined
      ? { kind: 'bundle' }
      : {
          kind: 'dir',
          dir: resolve(opts.policyDir),
          ...(opts.policyDebounceMs !== undefined ? { debounceMs: opts.policyDebounceMs } : {}),
        };
  return {
    dataDir: resolve(opts.dataDir),
    ...(opts.store !== undefined ? { storeUrl: checkStoreUrl(opts.store) } : {}),
    api,
    apiListener,
    ...(credentialsFile !== undefined ? { credentialsFile } : {}),
    ...(opts.rulesPerGroup !== undefined ? { rulesPerGroup: opts.rulesPerGroup } : {}),
    breakglassMaxTtlMs: breakglassMaxTtl(opts.breakglassMaxTtlMs),
    regions,
    logLevel,
    bundleKeys,
    ...(opts.bundleAudience !== undefined ? { bundleAudience: opts.bundleAudience } : {}),
    policy,
    dns,
    ...(gateway !== undefined ? { gateway } : {}),
    account: gateway?.scope.accountId ?? gatewayScope(opts).accountId,
    notify: {
      webhooks: parseWebhookUrls(opts.notifyWebhooks ?? []),
      expiringMs: opts.notifyExpiringMs ?? DEFAULT_NOTIFY_EXPIRING_MS,
    },
    auditReads: opts.auditReads === true,
    region: gateway?.scope.region ?? gatewayScope(opts).region,
    consoleSessionTtlMs: consoleSessionTtl(opts.consoleSessionTtlMs),
    ...(opts.auditDigestIntervalMs !== undefined
      ? { auditDigestIntervalMs: opts.auditDigestIntervalMs }
      : {}),
  };
}

/**
 * `--store`: a PostgreSQL URL, checked before anything opens (a typo must not fall back to SQLite
 * and leave a node on a store of its own). The message never repeats the value: it may hold a password.
 */
function checkStoreUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || !isPostgresUrl(value) || url.hostname === '') {
    throw new WeirError(
      'BAD_OPTION',
      '--store (or WEIR_STORE) must be a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE; without it the store is SQLite in --data-dir',
    );
  }
  return value;
}
