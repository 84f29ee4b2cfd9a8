/**
 * @module cli/serve — the flags of `weir serve` (commander): parsed into `ServeOptions` and handed
 * to `server/`, which checks them into one config, wires the store, API, snapshot sources and
 * gateway, and closes them all on SIGTERM/SIGINT.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { parseSize } from '../gateway/index.js';
import { closeOnSignals, startServer } from '../server/index.js';
import type { ServeOptions } from '../server/index.js';
import { applyConfigFile } from './config-file.js';

/** A size flag: `100MB`, `512KiB`, `1048576` → bytes. */
function size(value: string): number {
  const r = parseSize(value);
  if (!r.ok) throw new InvalidArgumentError(r.problem);
  return r.bytes;
}

/** A list flag: `eth0,eth1` → names. */
function names(value: string): string[] {
  const list = value.split(',').map((n) => n.trim());
  if (list.some((n) => n === ''))
    throw new InvalidArgumentError('must be interface names separated by commas (e.g. eth0,ens5)');
  return list;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be 0 or a positive integer');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** A duration flag: `500ms`, `30s`, `5m`, `24h`, `7d` → ms. */
function duration(value: string): number {
  const m = /^([1-9][0-9]*)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be a number and a unit ms|s|m|h|d (e.g. 30s)');
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

/** The options of `weir serve`, as commander hands them over. */
interface ServeFlags {
  dataDir: string;
  apiListen: string;
  credentials?: string;
  rulesPerGroup: number;
  logLevel: string;
  proxyListen: string;
  policy?: string;
  gatewayAccount: string;
  gatewayRegion: string;
  regions?: string[];
  dnsHosts?: string;
  dnsServer?: string;
  proxyMaxConns?: number;
  proxyMaxConnsPerIdentity?: number;
  proxyMaxPreauthConns?: number;
  proxyMaxPreauthConnsPerSource?: number;
  proxyFdReserve?: number;
  proxyTunnelMaxLifetime?: number;
  proxyIdleTimeout?: number;
  proxyConnectTimeout?: number;
  proxyHeadersTimeout?: number;
  proxyMaxHeaders?: number;
  proxyTlsCert?: string;
  proxyTlsKey?: string;
  proxyClientCa?: string;
  proxyIdentityMap?: string;
  bundlePublicKey: string[];
  bundleAudience?: string;
  proxyUpstreamIdleTimeout?: number;
  proxyUpstreamMaxIdle?: number;
  proxyShareInterfaces?: string[];
  decisionLog?: string;
  decisionLogMaxSize?: number;
  decisionLogKeep?: number;
  apiHost?: string[];
  apiTlsCert?: string;
  apiTlsKey?: string;
  apiHeadersTimeout?: number;
  apiRequestTimeout?: number;
  apiIdleTimeout?: number;
  apiBodyBudget?: number;
  notifyWebhook: string[];
  notifyExpiring?: number;
  breakglassMaxTtl?: number;
  auditReads?: boolean;
  store?: string;
  decisionsRetention?: number;
  decisionsMaxRows?: number;
  consoleSessionTtl?: number;
}

/** A host list flag: `weir.example.com,127.0.0.1:8484` → entries (checked by the server). */
function hostList(value: string, previous: string[] = []): string[] {
  const list = value.split(',').map((n) => n.trim());
  if (list.some((n) => n === ''))
    throw new InvalidArgumentError(
      'must be host names separated by commas (e.g. weir.example.com,127.0.0.1)',
    );
  return [...previous, ...list];
}

/** The flags as `startServer` takes them. */
function serveOptions(o: ServeFlags): ServeOptions {
  return {
    dataDir: o.dataDir,
    apiListen: o.apiListen,
    ...(o.credentials !== undefined ? { credentialsFile: o.credentials } : {}),
    rulesPerGroup: o.rulesPerGroup,
    logLevel: o.logLevel,
    proxyListen: o.proxyListen,
    ...(o.policy !== undefined ? { policyDir: o.policy } : {}),
    gatewayAccount: o.gatewayAccount,
    gatewayRegion: o.gatewayRegion,
    ...(o.regions !== undefined ? { regions: o.regions } : {}),
    ...(o.dnsHosts !== undefined ? { dnsHostsFile: o.dnsHosts } : {}),
    ...(o.proxyTlsCert !== undefined ? { proxyTlsCertFile: o.proxyTlsCert } : {}),
    ...(o.proxyTlsKey !== undefined ? { proxyTlsKeyFile: o.proxyTlsKey } : {}),
    ...(o.proxyClientCa !== undefined ? { proxyClientCaFile: o.proxyClientCa } : {}),
    ...(o.proxyIdentityMap !== undefined ? { proxyIdentityMapFile: o.proxyIdentityMap } : {}),
    bundlePublicKeyFiles: o.bundlePublicKey,
    ...(o.bundleAudience !== undefined ? { bundleAudience: o.bundleAudience } : {}),
    ...(o.dnsServer !== undefined ? { dnsServer: o.dnsServer } : {}),
    ...(o.proxyShareInterfaces !== undefined ? { proxyShareInterfaces: o.proxyShareInterfaces } : {}),
    ...(o.decisionLog !== undefined ? { decisionLogFile: o.decisionLog } : {}),
    ...(o.decisionLogMaxSize !== undefined ? { decisionLogMaxSize: o.decisionLogMaxSize } : {}),
    ...(o.decisionLogKeep !== undefined ? { decisionLogKeep: o.decisionLogKeep } : {}),
    ...(o.apiHost !== undefined ? { apiHosts: o.apiHost } : {}),
    ...(o.apiTlsCert !== undefined ? { apiTlsCertFile: o.apiTlsCert } : {}),
    ...(o.apiTlsKey !== undefined ? { apiTlsKeyFile: o.apiTlsKey } : {}),
    ...(o.apiHeadersTimeout !== undefined ? { apiHeadersTimeoutMs: o.apiHeadersTimeout } : {}),
    ...(o.apiRequestTimeout !== undefined ? { apiRequestTimeoutMs: o.apiRequestTimeout } : {}),
    ...(o.apiIdleTimeout !== undefined ? { apiIdleTimeoutMs: o.apiIdleTimeout } : {}),
    ...(o.apiBodyBudget !== undefined ? { apiBodyBudget: o.apiBodyBudget } : {}),
    notifyWebhooks: o.notifyWebhook,
    ...(o.notifyExpiring !== undefined ? { notifyExpiringMs: o.notifyExpiring } : {}),
    ...(o.breakglassMaxTtl !== undefined ? { breakglassMaxTtlMs: o.breakglassMaxTtl } : {}),
    ...(o.auditReads === true ? { auditReads: true } : {}),
    ...(o.store !== undefined ? { store: o.store } : {}),
    ...(o.decisionsRetention !== undefined ? { decisionsRetentionMs: o.decisionsRetention } : {}),
    ...(o.decisionsMaxRows !== undefined ? { decisionsMaxRows: o.decisionsMaxRows } : {}),
    ...(o.consoleSessionTtl !== undefined ? { consoleSessionTtlMs: o.consoleSessionTtl } : {}),
    proxyLimits: {
      ...(o.proxyMaxConns !== undefined ? { maxConns: o.proxyMaxConns } : {}),
      ...(o.proxyMaxConnsPerIdentity !== undefined
        ? { maxConnsPerIdentity: o.proxyMaxConnsPerIdentity }
        : {}),
      ...(o.proxyMaxPreauthConns !== undefined ? { maxPreauthConns: o.proxyMaxPreauthConns } : {}),
      ...(o.proxyMaxPreauthConnsPerSource !== undefined
        ? { maxPreauthConnsPerSource: o.proxyMaxPreauthConnsPerSource }
        : {}),
      ...(o.proxyFdReserve !== undefined ? { fdReserve: o.proxyFdReserve } : {}),
      ...(o.proxyTunnelMaxLifetime !== undefined ? { tunnelMaxLifetimeMs: o.proxyTunnelMaxLifetime } : {}),
      ...(o.proxyIdleTimeout !== undefined ? { idleTimeoutMs: o.proxyIdleTimeout } : {}),
      ...(o.proxyConnectTimeout !== undefined ? { connectTimeoutMs: o.proxyConnectTimeout } : {}),
      ...(o.proxyHeadersTimeout !== undefined ? { headersTimeoutMs: o.proxyHeadersTimeout } : {}),
      ...(o.proxyMaxHeaders !== undefined ? { maxHeadersCount: o.proxyMaxHeaders } : {}),
      ...(o.proxyUpstreamIdleTimeout !== undefined
        ? { upstreamIdleTimeoutMs: o.proxyUpstreamIdleTimeout }
        : {}),
      ...(o.proxyUpstreamMaxIdle !== undefined ? { maxIdleUpstreams: o.proxyUpstreamMaxIdle } : {}),
    },
  };
}

/** The API listener's flags: names, TLS, timeouts and the body budget. */
function apiEdgeFlags(serve: Command): Command {
  return serve
    .option(
      '--api-host <names>',
      'host names (NAME[:PORT],…) requests must be signed for (default: any)',
      hostList,
    )
    .option('--api-tls-cert <file>', 'the API serves HTTPS: its certificate chain (PEM)')
    .option('--api-tls-key <file>', 'the private key of --api-tls-cert (PEM)')
    .option(
      '--api-headers-timeout <duration>',
      'a client must send its request head within (default 10s)',
      duration,
    )
    .option(
      '--api-request-timeout <duration>',
      'a client must send its whole request within (default 30s)',
      duration,
    )
    .option(
      '--api-idle-timeout <duration>',
      'close an idle keep-alive API connection after (default 65s)',
      duration,
    )
    .option(
      '--api-body-budget <size>',
      'request bodies the API holds at once, all connections together (default 64MiB)',
      size,
    )
    .option(
      '--audit-reads',
      'record reads in the audit trail too (writes are always recorded; docs/audit.md)',
    );
}

/** The gateway's limits and its TLS and identity files. */
function gatewayLimitFlags(serve: Command): Command {
  return serve
    .option('--proxy-max-conns <n>', 'open tunnels and plain requests in total (default 10000)', positiveInt)
    .option(
      '--proxy-max-conns-per-identity <n>',
      'open tunnels and plain requests per identity (default 1000)',
      positiveInt,
    )
    .option(
      '--proxy-max-preauth-conns <n>',
      'connections not yet authenticated, in total (default 1000; fitted to ulimit -n)',
      positiveInt,
    )
    .option(
      '--proxy-max-preauth-conns-per-source <n>',
      'connections not yet authenticated, per source address or IPv6 /64 (default 100)',
      positiveInt,
    )
    .option(
      '--proxy-fd-reserve <n>',
      'file descriptors kept from the gateway for the API, /healthz and the store (default 128)',
      nonNegativeInt,
    )
    .option('--proxy-tunnel-max-lifetime <duration>', 'a tunnel is closed after this (default 24h)', duration)
    .option(
      '--proxy-idle-timeout <duration>',
      'close a tunnel or upstream idle this long (default 5m)',
      duration,
    )
    .option('--proxy-connect-timeout <duration>', 'upstream TCP connect timeout (default 10s)', duration)
    .option(
      '--proxy-headers-timeout <duration>',
      'a client must send its request head within (default 10s)',
      duration,
    )
    .option('--proxy-max-headers <n>', 'header fields per request head (default 100)', positiveInt)
    .option('--proxy-tls-cert <file>', 'the gateway listens with TLS: its certificate (PEM)')
    .option('--proxy-tls-key <file>', 'the private key of --proxy-tls-cert (PEM)')
    .option('--proxy-client-ca <file>', 'CA certificates (PEM) whose client certificates prove identity')
    .option('--proxy-identity-map <file>', 'source address → identity map for legacy hosts (YAML, watched)');
}

/** Registers `weir serve` on the `weir` program. */
export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('Run the control plane (EC2 API on SQLite or PostgreSQL), the console and the gateway.')
    .option('--data-dir <dir>', 'data directory (SQLite store, credentials)', './weir-data')
    .option('--api-listen <host:port>', 'address of the EC2 API', '127.0.0.1:8484');
  apiEdgeFlags(serve)
    .option(
      '--credentials <file>',
      'access keys in AWS shared-credentials format (weir_account_id, weir_role)',
    )
    .option(
      '--rules-per-group <n>',
      'rules per security group per direction (EC2 default 60)',
      positiveInt,
      60,
    )
    .option('--proxy-listen <host:port>', 'address of the egress gateway (off: none)', '127.0.0.1:3128')
    .option(
      '--policy <dir>',
      'policy directory the gateway enforces (watched; without it: the bundle applied through the API)',
    )
    .option(
      '--gateway-account <id>',
      'account whose attached security groups the gateway enforces',
      '123456789012',
    )
    .option('--gateway-region <region>', 'region of the security groups the gateway enforces', 'us-east-1')
    .option(
      '--regions <names>',
      "regions the API serves, comma-separated (default: AWS's region names); others are refused",
      (v: string) => v.split(',').map((r) => r.trim()),
    )
    .option('--dns-hosts <file>', 'static hosts file the gateway resolves from first')
    .option('--dns-server <ip:port>', 'DNS server the gateway asks (default: the system resolver)');
  gatewayLimitFlags(serve)
    .option(
      '--bundle-public-key <file>',
      'Ed25519 public key (PEM) trusted to sign policy bundles applied through the API (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--bundle-audience <name>',
      'take only bundles made for this audience (weir policy bundle --audience NAME); default: only bundles naming none',
    )
    .option(
      '--proxy-upstream-idle-timeout <duration>',
      'close an idle keep-alive upstream connection after (default 4s)',
      duration,
    )
    .option(
      '--proxy-upstream-max-idle <n>',
      'idle keep-alive upstream connections kept (default 256; 0: no reuse)',
      nonNegativeInt,
    )
    .option(
      '--proxy-share-interfaces <names>',
      'interfaces (a,b) whose transmitted bytes weir_gateway_egress_share counts (default: all but lo)',
      names,
    )
    .option('--decision-log <file>', 'write the gateway decision log to this file (default: stdout)')
    .option('--decision-log-max-size <size>', 'rotate the decision log file at this size (e.g. 100MB)', size)
    .option(
      '--decision-log-keep <n>',
      'rotated decision log files kept: FILE.1 … FILE.N (default 5)',
      positiveInt,
    )
    .option(
      '--notify-webhook <url>',
      'POST notifications (JSON with a text field) to this http(s) URL (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--notify-expiring <duration>',
      'notify of policy rules expiring within this, once a day per rule (default 14d)',
      duration,
    )
    .option(
      '--breakglass-max-ttl <duration>',
      'the longest break-glass session (default 1h, at most 4h)',
      duration,
    )
    .option(
      '--decisions-retention <duration>',
      "how long the gateway's decisions stay searchable in the store (default 7d, at most 90d)",
      duration,
    )
    .option(
      '--decisions-max-rows <n>',
      'the most gateway decisions kept in the store; the oldest go first (default 1000000)',
      positiveInt,
    )
    .option(
      '--console-session-ttl <duration>',
      'a console sign-in lasts this long (default 8h, at most 7d; docs/console.md)',
      duration,
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace', 'info')
    // From the environment too: a URL with a password is better kept out of `ps` and shell history.
    .addOption(
      new Option(
        '--store <url>',
        'keep the control plane in PostgreSQL (postgres://USER:PASSWORD@HOST:PORT/DB) instead of SQLite in --data-dir',
      ).env('WEIR_STORE'),
    )
    .option(
      '--config <file>',
      'read these settings from a YAML file (keys: the flag names without dashes); flags given here win',
    )
    // Before the action reads the options: fill what the command line left unset from the file.
    .hook('preAction', (serve) => {
      const file = serve.getOptionValue('config') as string | undefined;
      if (file !== undefined) applyConfigFile(serve, file);
    })
    .action(async (o: ServeFlags) => {
      closeOnSignals(await startServer(serveOptions(o)));
    });
}
