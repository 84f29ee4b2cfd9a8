/**
 * The server side of `npm run bench:reload`: a real `weir serve` (API, store, gateway) in its
 * own process, started with `startServer` so that the benchmark can also ask it, over stdin,
 * for what only the process knows. Usage: `node --import tsx benchmarks/reload-server.ts
 * DATA_DIR [POLICY_DIR]`. Prints one JSON line `{api, proxy}` when listening, then answers one
 * JSON line per command line:
 *   - `attach IDENTITY GROUP_ID`: attaches the group in 123456789012/us-east-1 (the store's
 *     `attachWorkload`, as `weir workload attach` does) → `{"ok":true}`;
 *   - `stats` → `{generation, version, rules, compileMs, readMs}` of the enforced snapshot
 *     (`readMs`: the store read of its rebuild);
 *   - `exit` → closes the server and exits.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { startServer } from '../src/server/index.js';

const [dataDir, policyDir] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: reload-server.ts DATA_DIR [POLICY_DIR]');
const scope = { accountId: '123456789012', region: 'us-east-1' };
const server = await startServer({
  dataDir,
  apiListen: '127.0.0.1:0',
  proxyListen: '127.0.0.1:0',
  ...(policyDir !== undefined ? { policyDir } : {}),
  logger: pino({ level: 'warn' }, pino.destination(2)),
  print: () => undefined,
});
const say = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);
say({ api: server.url, proxy: server.proxyAddress });

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'attach') {
    const [identity = '', groupId = ''] = args;
    await server.store.transaction(scope, (tx) =>
      tx.attachWorkload(scope, { identity, groupId, createdAt: new Date() }),
    );
    say({ ok: true });
  } else if (cmd === 'stats') {
    const src = server.snapshotSource;
    const snap = src?.current();
    say({
      generation: src?.generation(),
      version: snap?.version,
      rules: snap?.stats.rules,
      compileMs: snap?.stats.compileMs,
      readMs: src?.lastRebuild().readMs,
    });
  } else if (cmd === 'exit') {
    break;
  }
}
await server.close();
process.exit(0);
