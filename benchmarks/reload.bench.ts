/**
 * `npm run bench:reload` — how long from an API write to its enforcement at the gateway, on one
 * node, over loopback only. Target (issue 5): p99 < 100 ms.
 *
 * Processes: an upstream echo server (127.0.0.1), and `weir serve` with its gateway
 * (`benchmarks/reload-server.ts`, a real server in its own process). The client (@aws-sdk/
 * client-ec2, signed with the server's admin key, and raw CONNECTs) runs here.
 *
 * Setup: the store is seeded with G groups of R egress rules each (distinct /24s, tcp 443),
 * each group attached to 5 identities, so every snapshot enforces G×R control-plane rules; one
 * more group (its default allow-all rule revoked) is attached to the benchmark identity. Rebuilds
 * are incremental: a write to the benchmark group re-reads and recompiles that group only, so
 * the figures show whether the delay still grows with the size of the store.
 *
 * Loop, N times (the delay of each is the time from sending the write to the first CONNECT
 * through the gateway that shows its effect; CONNECTs back to back, each well under 1 ms):
 *   - "rule added": AuthorizeSecurityGroupEgress tcp/PORT to 127.0.0.1/32, then CONNECT until 200;
 *   - "rule revoked": RevokeSecurityGroupEgress by the rule's ID, then CONNECT until 403.
 * Reported: p50/p95/p99/max of the delay, of the API call alone (ack), and CONNECTs per change.
 *
 * Baseline, measured the same way in the same run: `weir serve --policy DIR`, the policy file
 * rewritten to add the rule, then to remove it (file watch, 100 ms debounce).
 *
 * Options: `--quick` (N = 40, G = 4), `--groups=G` (default 20), `--rules=R` (50), `--n=N` (200). Every child process is
 * ended at the end; every wait is bounded.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { parseCredentialsFile } from '../src/api/index.js';
import { runTokenIssue } from '../src/cli/token.js';

const QUICK = process.argv.includes('--quick');
const arg = (name: string, def: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : Number(a.slice(name.length + 3));
};
const N = arg('n', QUICK ? 40 : 200);
const GROUPS = arg('groups', QUICK ? 4 : 20);
const RULES = arg('rules', 50);
const IDENTITIES_PER_GROUP = 5;
const IDENTITY = 'spiffe://bench/ns/bench/sa/reload';
const MAX_WAIT_MS = 10_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

interface ServerProc {
  readonly api: string;
  readonly proxy: string;
  readonly dataDir: string;
  command(line: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

async function startWeir(dataDir: string, policyDir?: string): Promise<ServerProc> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'benchmarks', 'reload-server.ts'),
      dataDir,
      ...(policyDir ? [policyDir] : []),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done === true) throw new Error('weir serve exited');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const hello = await next();
  return {
    api: String(hello.api),
    proxy: String(hello.proxy),
    dataDir,
    command: async (line) => {
      child.stdin!.write(`${line}\n`);
      return next();
    },
    stop: async () => {
      child.stdin!.write('exit\n');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function ec2Client(server: ServerProc): EC2Client {
  const file = join(server.dataDir, 'credentials');
  const key = parseCredentialsFile(readFileSync(file, 'utf8'), file)[0]!;
  return new EC2Client({
    endpoint: server.api,
    region: 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1,
  });
}

/**
 * One CONNECT through the gateway; the status code. An open tunnel carries one byte there and
 * back before it is closed: a client that closes a tunnel before sending anything leaves it
 * half-open at the gateway (reported to the gateway's owner), which would pile up here.
 */
function connectStatus(proxy: string, port: number, token: string): Promise<number> {
  const i = proxy.lastIndexOf(':');
  return new Promise((res, rej) => {
    const s = connect({ host: proxy.slice(0, i), port: Number(proxy.slice(i + 1)), noDelay: true });
    s.once('error', rej);
    s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nProxy-Authorization: Bearer ${token}\r\n\r\n`);
    let buf = '';
    const onHead = (c: Buffer): void => {
      buf += c.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = Number(buf.split(' ')[1]);
      if (status !== 200) {
        s.destroy();
        return res(status);
      }
      s.off('data', onHead);
      s.once('data', () => {
        s.destroy();
        res(status);
      });
      s.write('p');
    };
    s.on('data', onHead);
  });
}

/** CONNECTs back to back until the status is `want`; how many it took. */
async function until(proxy: string, port: number, token: string, want: number): Promise<number> {
  const t0 = performance.now();
  for (let tries = 1; ; tries++) {
    const got = await connectStatus(proxy, port, token);
    if (got === want) return tries;
    if (performance.now() - t0 > MAX_WAIT_MS) {
      throw new Error(`no ${want} within ${MAX_WAIT_MS} ms (last ${got}, ${tries} CONNECTs)`);
    }
  }
}

interface Sample {
  readonly delay: number;
  readonly ack: number;
  readonly tries: number;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function summary(name: string, samples: readonly Sample[]): Record<string, string | number> {
  const d = samples.map((s) => s.delay).sort((a, b) => a - b);
  const a = samples.map((s) => s.ack).sort((x, y) => x - y);
  const f = (x: number): string => x.toFixed(2);
  return {
    case: name,
    n: d.length,
    'p50 ms': f(pct(d, 50)),
    'p95 ms': f(pct(d, 95)),
    'p99 ms': f(pct(d, 99)),
    'max ms': f(d[d.length - 1] ?? NaN),
    'ack p50 ms': f(pct(a, 50)),
    'ack p99 ms': f(pct(a, 99)),
    'CONNECTs/change': (samples.reduce((s, x) => s + x.tries, 0) / samples.length).toFixed(2),
  };
}

async function seed(server: ServerProc, ec2: EC2Client): Promise<void> {
  for (let g = 0; g < GROUPS; g++) {
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `seed-${g}`, Description: 'bench seed' }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: Array.from({ length: RULES }, (_, r) => ({
              CidrIp: `10.${Math.floor(g / 4) % 256}.${(g % 4) * 64 + (r % 64)}.0/24`,
            })),
          },
        ],
      }),
    );
    for (let i = 0; i < IDENTITIES_PER_GROUP; i++) {
      await server.command(
        `attach spiffe://bench/ns/seed/sa/w${(g * IDENTITIES_PER_GROUP + i) % 1000} ${GroupId}`,
      );
    }
  }
}

async function apiLoop(server: ServerProc, ec2: EC2Client, port: number, token: string): Promise<Sample[][]> {
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: 'bench', Description: 'bench' }),
  );
  await ec2.send(
    new RevokeSecurityGroupEgressCommand({
      GroupId,
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
  await server.command(`attach ${IDENTITY} ${GroupId}`);
  const added: Sample[] = [];
  const revoked: Sample[] = [];
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    const out = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '127.0.0.1/32' }] },
        ],
      }),
    );
    let ack = performance.now() - t0;
    let tries = await until(server.proxy, port, token, 200);
    added.push({ delay: performance.now() - t0, ack, tries });
    const ruleId = out.SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? '';
    t0 = performance.now();
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, SecurityGroupRuleIds: [ruleId] }));
    ack = performance.now() - t0;
    tries = await until(server.proxy, port, token, 403);
    revoked.push({ delay: performance.now() - t0, ack, tries });
  }
  return [added, revoked];
}

const policyYaml = (port: number): string => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: bench, owner: bench@example.com }
spec:
  workloads: [{ identity: '${IDENTITY}' }]
  rules:
    - id: upstream
      to: [{ cidr: 127.0.0.1/32 }]
      ports: [${port}]
      justification: bench
`;

async function dirLoop(
  server: ServerProc,
  policyFile: string,
  port: number,
  token: string,
): Promise<Sample[][]> {
  const added: Sample[] = [];
  const revoked: Sample[] = [];
  const closed = port === 1 ? 2 : port - 1;
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    writeFileSync(policyFile, policyYaml(port));
    let ack = performance.now() - t0;
    let tries = await until(server.proxy, port, token, 200);
    added.push({ delay: performance.now() - t0, ack, tries });
    t0 = performance.now();
    writeFileSync(policyFile, policyYaml(closed));
    ack = performance.now() - t0;
    tries = await until(server.proxy, port, token, 403);
    revoked.push({ delay: performance.now() - t0, ack, tries });
  }
  return [added, revoked];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-reload-'));
  const upstream = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  try {
    console.log(
      `bench:reload ${new Date().toISOString()} node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); ` +
        `N=${N}, seed ${GROUPS} groups × ${RULES} rules, ${IDENTITIES_PER_GROUP} identities each`,
    );
    const apiServer = await startWeir(join(dir, 'api'));
    const ec2 = ec2Client(apiServer);
    const token = runTokenIssue({ identity: IDENTITY, ttl: '1h', dataDir: join(dir, 'api') });
    const s0 = performance.now();
    await seed(apiServer, ec2);
    const seeded = await apiServer.command('stats');
    console.log(
      `seeded in ${((performance.now() - s0) / 1000).toFixed(1)} s; snapshot: ${String(seeded.rules)} rules, ` +
        `store read ${Number(seeded.readMs).toFixed(2)} ms + compile ${Number(seeded.compileMs).toFixed(2)} ms, ` +
        `generation ${String(seeded.generation)}`,
    );
    const [apiAdded = [], apiRevoked = []] = await apiLoop(apiServer, ec2, port, token);
    const after = await apiServer.command('stats');
    console.log(
      `after the loop: ${String(after.rules)} rules, store read ${Number(after.readMs).toFixed(2)} ms + ` +
        `compile ${Number(after.compileMs).toFixed(2)} ms, ` +
        `generation ${String(after.generation)} (${String(after.version)})`,
    );
    ec2.destroy();
    await apiServer.stop();

    const policyDir = join(dir, 'policies');
    mkdirSync(policyDir);
    const policyFile = join(policyDir, 'bench.yaml');
    writeFileSync(policyFile, policyYaml(port === 1 ? 2 : port - 1));
    const dirServer = await startWeir(join(dir, 'dir'), policyDir);
    const dirToken = runTokenIssue({ identity: IDENTITY, ttl: '1h', dataDir: join(dir, 'dir') });
    const [dirAdded = [], dirRevoked = []] = await dirLoop(dirServer, policyFile, port, dirToken);
    await dirServer.stop();

    const rows = [
      summary('API: rule added', apiAdded),
      summary('API: rule revoked', apiRevoked),
      summary('--policy DIR: rule added (baseline)', dirAdded),
      summary('--policy DIR: rule removed (baseline)', dirRevoked),
    ];
    console.table(rows);
    const p99 = (s: Sample[]): number =>
      pct(
        s.map((x) => x.delay).sort((a, b) => a - b),
        99,
      );
    console.log(
      `p99 ratio baseline/API: added ${(p99(dirAdded) / p99(apiAdded)).toFixed(1)}×, ` +
        `revoked ${(p99(dirRevoked) / p99(apiRevoked)).toFixed(1)}×; target p99 < 100 ms: ` +
        `${Math.max(p99(apiAdded), p99(apiRevoked)) < 100 ? 'met' : 'NOT met'}`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
