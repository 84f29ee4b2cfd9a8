/**
 * @module benchmarks/pg-write-lock — why the PostgreSQL store takes one advisory lock per write
 * transaction rather than running SERIALIZABLE with retry (src/store/postgres/store.ts): 400
 * transactions of an API write's shape (read the audit chain's tip, count a group's rules, insert
 * a rule, append a chain record) from two pools, as two nodes, with each strategy; prints
 * transactions per second and how many attempts had to run again.
 *
 *   node benchmarks/pg-write-lock.mjs "$(scripts/postgres.sh start /tmp/pg 17175)" [writers per pool]
 *
 * It creates and drops two tables of its own (b_audit, b_rules) in the database it is given.
 */
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import pg from 'pg';

const [url, perPool = '4'] = process.argv.slice(2);
if (url === undefined) {
  console.error('usage: node benchmarks/pg-write-lock.mjs POSTGRES_URL [writers per pool]');
  process.exit(2);
}
const C = Number(perPool);
const N = 400;

async function run(mode) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP TABLE IF EXISTS b_audit, b_rules;
    CREATE TABLE b_audit (seq bigint PRIMARY KEY, prev text, hash text);
    CREATE TABLE b_rules (id serial PRIMARY KEY, grp text, k text, UNIQUE (grp, k))`);
  const pools = [
    new pg.Pool({ connectionString: url, max: C }),
    new pg.Pool({ connectionString: url, max: C }),
  ];
  let retries = 0;
  let next = 0;
  const one = async (pool, i) => {
    for (;;) {
      const c = await pool.connect();
      try {
        if (mode === 'lock') await c.query('BEGIN; SELECT pg_advisory_xact_lock(1, 2)');
        else await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        const tip = (await c.query('SELECT seq, hash FROM b_audit ORDER BY seq DESC LIMIT 1')).rows[0];
        await c.query('SELECT count(*) FROM b_rules WHERE grp = $1', [`g${i % 10}`]);
        await c.query('INSERT INTO b_rules (grp, k) VALUES ($1, $2)', [`g${i % 10}`, `k${i}`]);
        const seq = (tip ? Number(tip.seq) : 0) + 1;
        await c.query('INSERT INTO b_audit VALUES ($1, $2, $3)', [seq, tip?.hash ?? 'genesis', `h${seq}`]);
        await c.query('COMMIT');
        return;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        // Serialization failure, deadlock, or two writers taking one place in the chain.
        if (['40001', '40P01', '23505'].includes(e.code)) {
          retries++;
          continue;
        }
        throw e;
      } finally {
        c.release();
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 2 * C }, async (_, w) => {
      for (let i = next++; i < N; i = next++) await one(pools[w % 2], i);
    }),
  );
  const ms = performance.now() - t0;
  console.log(
    `${mode.padEnd(12)} ${2 * C} writers: ${N} transactions in ${ms.toFixed(0)} ms = ${((N / ms) * 1000).toFixed(0)} tx/s, ${retries} retries`,
  );
  await Promise.all(pools.map((p) => p.end()));
  await admin.query('DROP TABLE b_audit, b_rules');
  await admin.end();
}

await run('lock');
await run('serializable');
