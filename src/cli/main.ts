/**
 * @module cli/main — the `weir` command.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { parseSize } from '../gateway/index.js';
import { WeirError } from '../model/index.js';
import { startServer } from './serve.js';
import { registerPolicyCommands } from './policy.js';
import { registerCheckCommand } from './check.js';
import { registerTokenCommands } from './token.js';
import { registerWorkloadCommands } from './workload.js';
import { registerAwsCommands } from './ec2-command.js';

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

/** The package's version (dist/cli and src/cli are both two levels below package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}

/** `weir serve`'s flags as commander hands them to the action. */
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
  dnsHosts?: string;
  dnsServer?: string;
  proxyMaxConns?: number;
  proxyMaxConnsPerIdentity?: number;
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
  proxyUpstreamIdleTimeout?: number;
  proxyUpstreamMaxIdle?: number;
  proxyShareInterfaces?: string[];
  decisionLog?: string;
  decisionLogMaxSize?: number;
  decisionLogKeep?: number;
}

/** `weir serve`'s control-plane flags: data, API address, credentials, quota. */
function addControlPlaneOptions(serve: Command): void {
  serve
    .option('--data-dir <dir>', 'data directory (SQLite store, credentials)', './weir-data')
    .option('--api-listen <host:port>', 'address of the EC2 API', '127.0.0.1:8484')
    .option(
      '--credentials <file>',
      'access keys in AWS shared-credentials format (weir_account_id, weir_role)',
    )
    .option(
      '--rules-per-group <n>',
      'rules per security group per direction (EC2 default 60)',
      positiveInt,
      60,
    );
}

/** `weir serve`'s gateway flags: listener, policy source, DNS, limits, TLS and identity, bundles. */
function addGatewayOptions(serve: Command): void {
  serve
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
    .option('--dns-hosts <file>', 'static hosts file the gateway resolves from first')
    .option('--dns-server <ip:port>', 'DNS server the gateway asks (default: the system resolver)')
    .option('--proxy-max-conns <n>', 'open tunnels and plain requests in total (default 10000)', positiveInt)
    .option(
      '--proxy-max-conns-per-identity <n>',
      'open tunnels and plain requests per identity (default 1000)',
      positiveInt,
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
    .option('--proxy-identity-map <file>', 'source address → identity map for legacy hosts (YAML, watched)')
    .option(
      '--bundle-public-key <file>',
      'Ed25519 public key (PEM) trusted to sign policy bundles applied through the API (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
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
    );
}

/** `weir serve`'s decision-log and log-level flags. */
function addLogOptions(serve: Command): void {
  serve
    .option('--decision-log <file>', 'write the gateway decision log to this file (default: stdout)')
    .option('--decision-log-max-size <size>', 'rotate the decision log file at this size (e.g. 100MB)', size)
    .option(
      '--decision-log-keep <n>',
      'rotated decision log files kept: FILE.1 … FILE.N (default 5)',
      positiveInt,
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace', 'info');
}

/** The server's options from `weir serve`'s flags (unset flags leave the server's defaults). */
function serverOptions(o: ServeFlags): Parameters<typeof startServer>[0] {
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
    ...(o.dnsHosts !== undefined ? { dnsHostsFile: o.dnsHosts } : {}),
    ...(o.proxyTlsCert !== undefined ? { proxyTlsCertFile: o.proxyTlsCert } : {}),
    ...(o.proxyTlsKey !== undefined ? { proxyTlsKeyFile: o.proxyTlsKey } : {}),
    ...(o.proxyClientCa !== undefined ? { proxyClientCaFile: o.proxyClientCa } : {}),
    ...(o.proxyIdentityMap !== undefined ? { proxyIdentityMapFile: o.proxyIdentityMap } : {}),
    bundlePublicKeyFiles: o.bundlePublicKey,
    ...(o.dnsServer !== undefined ? { dnsServer: o.dnsServer } : {}),
    ...(o.proxyShareInterfaces !== undefined ? { proxyShareInterfaces: o.proxyShareInterfaces } : {}),
    ...(o.decisionLog !== undefined ? { decisionLogFile: o.decisionLog } : {}),
    ...(o.decisionLogMaxSize !== undefined ? { decisionLogMaxSize: o.decisionLogMaxSize } : {}),
    ...(o.decisionLogKeep !== undefined ? { decisionLogKeep: o.decisionLogKeep } : {}),
    proxyLimits: {
      ...(o.proxyMaxConns !== undefined ? { maxConns: o.proxyMaxConns } : {}),
      ...(o.proxyMaxConnsPerIdentity !== undefined
        ? { maxConnsPerIdentity: o.proxyMaxConnsPerIdentity }
        : {}),
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

/** Starts the server; SIGTERM/SIGINT close it, SIGHUP reopens the decision log. */
async function runServe(o: ServeFlags): Promise<void> {
  const server = await startServer(serverOptions(o));
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`weir: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  // logrotate's `postrotate` sends SIGHUP: the decision log reopens its file.
  process.on('SIGHUP', () => server.reopenLogs());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Adds `weir serve`: the control plane and the egress gateway in one process. */
function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('Run the Weir control plane (EC2 Query API on embedded SQLite) and the egress gateway.');
  addControlPlaneOptions(serve);
  addGatewayOptions(serve);
  addLogOptions(serve);
  serve.action(runServe);
}

/** The `weir` command with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('weir')
    .description('Egress control: an EC2-compatible security-group API, policy as code, and enforcement.')
    .version(packageVersion(), '-V, --version', 'print the version of weir')
    // Options before the command are weir's own (`weir --version`); after it, the command's
    // (`weir policy bundle DIR --version 3`).
    .enablePositionalOptions()
    .showHelpAfterError();

  registerServeCommand(program);
  registerPolicyCommands(program);
  registerCheckCommand(program);
  registerTokenCommands(program);
  registerWorkloadCommands(program);
  registerAwsCommands(program);
  return program;
}

/** Runs `weir` with `argv`; expected failures print one line and exit 2. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Expected failures (bad options, unreadable files) print one line, never a stack trace.
    if (err instanceof WeirError) {
      process.stderr.write(`weir: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
      process.stderr.write(`weir: cannot listen: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await main(process.argv);
