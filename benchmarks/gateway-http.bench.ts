/**
 * `npm run bench:gateway-http` — plain-HTTP requests through Weir's egress gateway with upstream
 * keep-alive reuse (the default) and without it (`--proxy-upstream-max-idle 0`), against direct
 * requests, with one and the same client and upstream, in one run, over loopback only.
 *
 * Processes: the upstream (a Node HTTP server on 127.0.0.1 answering 32 bytes), two `weir serve`
 * (a policy allowing 127.0.0.0/8 on the upstream port for one identity, a token from `weir token
 * issue`, decision log to a file). The client runs in this process with a keep-alive agent.
 * Workloads: N sequential GETs on one client connection (req/s, p50/p99 per request) and N GETs
 * from 8 concurrent client connections (req/s). `--quick`: a tenth of the counts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine, freePort, startChild, stopChildren, waitForPort } from './processes.js';

const QUICK = process.argv.includes('--quick');
const N = QUICK ? 300 : 3_000;
const WARMUP = QUICK ? 50 : 300;
const WORKERS = 8;
const IDENTITY = 'spiffe://bench/ns/bench/sa/http';
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'src', 'cli', 'main.ts');

const UPSTREAM = `
const http = require('node:http');
const body = Buffer.alloc(32, 120);
const server = http.createServer((req, res) => { req.resume(); res.end(body); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

interface Target {
  readonly name: string;
  get(agent: Agent): Promise<void>;
}

function target(name: string, upstreamPort: number, proxy?: { port: number; token: string }): Target {
  const url = `http://127.0.0.1:${upstreamPort}/x`;
  return {
    name,
    get: (agent) =>
      new Promise((res, rej) => {
        const req = request(
          proxy === undefined
            ? { host: '127.0.0.1', port: upstreamPort, path: '/x', agent }
            : {
                host: '127.0.0.1',
                port: proxy.port,
                path: url,
                agent,
                headers: {
                  Host: `127.0.0.1:${upstreamPort}`,
                  'Proxy-Authorization': `Bearer ${proxy.token}`,
                },
              },
          (r) => {
            if (r.statusCode !== 200) rej(new Error(`${name}: HTTP ${r.statusCode}`));
            r.resume();
            r.once('end', () => res());
          },
        );
        req.once('error', rej);
        req.end();
      }),
  };
}

async function sequential(t: Target): Promise<{ rps: number; p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < WARMUP; i++) await t.get(agent);
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await t.get(agent);
    lat.push(performance.now() - s);
  }
  const rps = N / ((performance.now() - t0) / 1000);
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps, p50: lat[Math.floor(N * 0.5)] ?? 0, p99: lat[Math.floor(N * 0.99)] ?? 0 };
}

async function concurrent(t: Target): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: WORKERS });
  let left = N;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (left-- > 0) await t.get(agent);
    }),
  );
  agent.destroy();
  return N / ((performance.now() - t0) / 1000);
}

async function startWeir(dir: string, name: string, extra: string[]): Promise<number> {
  const data = join(dir, name);
  const port = await freePort();
  const c = startChild(process.execPath, [
    '--import',
    'tsx',
    cli,
    'serve',
    '--data-dir',
    data,
    '--api-listen',
    `127.0.0.1:${await freePort()}`,
    '--proxy-listen',
    `127.0.0.1:${port}`,
    '--policy',
    join(dir, 'policies'),
    '--decision-log',
    join(data, 'decisions.log'),
    ...extra,
  ]);
  c.stdout?.resume();
  await waitForPort(port, name, c);
  return port;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-http-'));
  try {
    const upstream = startChild(process.execPath, ['-e', UPSTREAM]);
    const upstreamPort = Number(await firstLine(upstream));
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'bench.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: bench, owner: bench@example.com }
spec:
  workloads: [{ identity: '${IDENTITY}' }]
  rules:
    - id: upstream
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${upstreamPort}]
`,
    );
    const reusePort = await startWeir(dir, 'reuse', []);
    const freshPort = await startWeir(dir, 'fresh', ['--proxy-upstream-max-idle', '0']);
    const tokenOf = async (data: string): Promise<string> => {
      const c = startChild(process.execPath, [
        '--import',
        'tsx',
        cli,
        'token',
        'issue',
        '--identity',
        IDENTITY,
        '--ttl',
        '1h',
        '--data-dir',
        join(dir, data),
      ]);
      return firstLine(c);
    };
    const targets = [
      target('direct', upstreamPort),
      target('weir, upstream reuse', upstreamPort, { port: reusePort, token: await tokenOf('reuse') }),
      target('weir, no reuse', upstreamPort, { port: freshPort, token: await tokenOf('fresh') }),
    ];
    const rows: string[] = [];
    const seq: number[] = [];
    const conc: number[] = [];
    for (const t of targets) {
      const s = await sequential(t);
      const c = await concurrent(t);
      seq.push(s.rps);
      conc.push(c);
      rows.push(
        `| ${t.name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(3)} | ${s.p99.toFixed(3)} | ${c.toFixed(0)} |`,
      );
    }
    process.stdout.write(
      `plain HTTP, ${N} GETs each (${QUICK ? 'quick' : 'full'})\n` +
        '| target | sequential req/s | p50 ms | p99 ms | 8 connections req/s |\n|---|---|---|---|---|\n' +
        `${rows.join('\n')}\n` +
        `reuse / no reuse: sequential ${((seq[1] ?? 0) / (seq[2] ?? 1)).toFixed(2)}x, ` +
        `8 connections ${((conc[1] ?? 0) / (conc[2] ?? 1)).toFixed(2)}x; ` +
        `weir with reuse / direct: sequential ${((seq[1] ?? 0) / (seq[0] ?? 1)).toFixed(2)}\n`,
    );
  } finally {
    await stopChildren(1_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
