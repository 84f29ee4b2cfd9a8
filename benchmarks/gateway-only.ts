/**
 * The gateway alone, for benchmarks/gateway.bench.ts (`weir-gw`): the built `createGateway` with
 * the same policy, token check, decision log (pino, asynchronous sonic-boom handed 8 KiB blocks)
 * and metrics as `weir serve`, but none of the rest of `weir serve` in the process (no API
 * server, store, change feed or watchers). Set against `weir`, it shows what the process
 * around the gateway costs per tunnel; set against the Node floor, what the gateway's own path costs.
 *
 * Usage: `node --import tsx benchmarks/gateway-only.ts CHECKOUT POLICY_DIR LOG_FILE IDENTITY [nolog|nometrics|bare]`
 * (without decision log, metrics or both);
 * prints `PORT TOKEN` once listening; exits on SIGTERM.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type * as EngineModule from '../src/engine/index.js';
import type * as DnsModule from '../src/dns/index.js';
import type * as GatewayModule from '../src/gateway/index.js';
import type * as IdentityModule from '../src/identity/index.js';
import type * as SnapshotModule from '../src/snapshot/index.js';

const [checkout, policyDir, logFile, identity, parts] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string | undefined,
];
// Parts knocked out, to see what they cost: `nolog` (decision log at level silent), `nometrics`,
// `bare` (both).
const noLog = parts === 'bare' || parts === 'nolog';
const noMetrics = parts === 'bare' || parts === 'nometrics';
const dist = (m: string): string => pathToFileURL(join(checkout, 'dist', m, 'index.js')).href;
const gw = (await import(dist('gateway'))) as typeof GatewayModule;
const engine = (await import(dist('engine'))) as typeof EngineModule;
// A checkout from before the split (the baseline of a benchmark run) has tokens, the policy
// watcher and the resolver in the gateway itself.
const moduleOr = async (m: string): Promise<unknown> =>
  existsSync(join(checkout, 'dist', m, 'index.js')) ? await import(dist(m)) : gw;
const snapshots = (await moduleOr('snapshot')) as typeof SnapshotModule;
const dns = (await moduleOr('dns')) as typeof DnsModule;
const identityModule = (await moduleOr('identity')) as typeof IdentityModule;

const loaded = snapshots.loadPolicyDir(policyDir);
if (loaded.set === undefined) throw new Error(loaded.errors.join('\n'));
const snapshot = engine.compilePolicySet(loaded.set, { skipUnresolved: true, version: '1' });
const key = Buffer.alloc(32, 7);
// As `weir serve` writes its log: sonic-boom, handed a block at a time.
const dest = gw.bufferLines(pino.destination({ dest: logFile, sync: false, minLength: gw.BLOCK_BYTES }));
setInterval(() => dest.flush(), 100).unref();
const registry = new Registry();
const gateway = gw.createGateway({
  getSnapshot: () => snapshot,
  resolve: dns.createResolver({}),
  connect: (ip, port, onread) => connect({ host: ip, port, onread }),
  now: Date.now,
  newId: gw.randomIds(),
  logger: pino(
    {
      level: noLog ? 'silent' : 'info',
      base: { service: 'weir', component: 'gateway' },
    },
    dest,
  ),
  tokenKey: key,
  ...(noMetrics
    ? {}
    : {
        metrics: gw.createGatewayMetrics(registry, {
          getSnapshot: () => snapshot,
          loadedAt: () => 0,
          now: Date.now,
        }),
      }),
});
const { port } = await gateway.listen('127.0.0.1', 0);
const token = identityModule.issueToken(key, { identity, ttlMs: 3_600_000, now: Date.now() });
// WEIR_GW_HEAP_PROF=FILE: a sampling heap profile of everything allocated (collected objects
// included), written to FILE on SIGTERM, to see where a tunnel's bytes go.
const heapProfile = process.env.WEIR_GW_HEAP_PROF;
const session = heapProfile === undefined ? undefined : new Session();
if (session !== undefined) {
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
process.stdout.write(`${port} ${token}\n`);
process.once('SIGTERM', () => {
  if (session === undefined || heapProfile === undefined) process.exit(0);
  void session.post('HeapProfiler.stopSampling').then(({ profile }) => {
    writeFileSync(heapProfile, JSON.stringify(profile));
    process.exit(0);
  });
});
