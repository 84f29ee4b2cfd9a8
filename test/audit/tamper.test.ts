/**
 * Issue 16, audit trail: records edited, deleted, inserted, reordered, or the tail cut behind
 * the last digest, with the sqlite3 command-line tool on a real server's store, make `weir audit
 * verify` exit 1 and name the first bad record; the untouched store verifies (exit 0). The
 * digest written at shutdown (SIGTERM) verifies with a copy of the public key kept elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServe } from '../helpers/serve-process.js';
import { probe, requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEIR = join(ROOT, 'bin/weir.js');
const haveSqlite3 = requireTool('sqlite3', probe('sqlite3', ['-version']));
const dir = mkdtempSync(join(tmpdir(), 'weir-audit-tamper-'));
const dataDir = join(dir, 'data');
/** The public key, copied away from the data dir as docs/audit.md tells operators to. */
const publicKey = join(dir, 'audit-signing.pub');

const weir = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [WEIR, ...args], {
    encoding: 'utf8',
    env: { ...process.env, WEIR_DATA_DIR: dataDir, ...env },
    timeout: 120_000,
  });

let n = 0;
/** A copy of the stopped server's store with `sql` run on it by the sqlite3 tool; its dir. */
function tampered(sql: string): string {
  const copy = join(dir, `copy-${n++}`);
  spawnSync('mkdir', ['-p', copy]);
  copyFileSync(join(dataDir, 'weir.sqlite'), join(copy, 'weir.sqlite'));
  // Whoever edits the file can drop the append-only triggers first: the chain is what tells.
  const run = spawnSync('sqlite3', [join(copy, 'weir.sqlite')], {
    input: `DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;\n${sql}\n`,
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return copy;
}

const verify = (data: string) => weir(['audit', 'verify', '--data-dir', data, '--public-key', publicKey]);

describe.runIf(haveSqlite3)('audit verify against tampering (sqlite3)', () => {
  beforeAll(async () => {
    const serve = await spawnServe(dataDir, []);
    try {
      for (const name of ['web', 'db', 'cache']) {
        const r = weir(['ec2', 'create-security-group', '--group-name', name, '--description', name]);
        expect(r.stderr).toBe('');
      }
      // A failed write is recorded too: 5 records in all.
      expect(weir(['ec2', 'delete-security-group', '--group-id', 'sg-0123456789abcdef0']).status).not.toBe(0);
      expect(
        weir(['token', 'issue', '--identity', 'spiffe://prod.example/ns/a/sa/b', '--ttl', '1h']).status,
      ).toBe(0);
    } finally {
      serve.child.kill('SIGTERM');
      expect(await serve.exit).toBe(0);
    }
    copyFileSync(join(dataDir, 'audit-signing.pub'), publicKey);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the untouched store verifies: every record signed by the digest written at shutdown', () => {
    const r = weir(['audit', 'verify', '--data-dir', dataDir, '--public-key', publicKey, '--output', 'json']);
    expect(r.status).toBe(0);
    const v = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(v).toMatchObject({ ok: true, records: 5, lastSeq: 5, unsigned: 0 });
    expect((v.lastDigest as Record<string, unknown>).lastSeq).toBe(5);
    // Reading wrote nothing: the data dir's store is byte for byte what the server left.
    const before = readFileSync(join(dataDir, 'weir.sqlite'));
    expect(weir(['audit', 'log', '--data-dir', dataDir]).status).toBe(0);
    expect(readFileSync(join(dataDir, 'weir.sqlite')).equals(before)).toBe(true);
  });

  it.each([
    [
      'a field of the record edited',
      `UPDATE audit_records SET event = json_set(event, '$.eventName', 'DescribeSecurityGroups') WHERE seq = 2;`,
      /record seq 2 \(eventID [0-9a-f-]{36}\): .*edited/,
    ],
    [
      'a query column edited',
      `UPDATE audit_records SET principal = 'mallory' WHERE seq = 3;`,
      /record seq 3 \(eventID [0-9a-f-]{36}\): the principal column \(mallory\) differs/,
    ],
    [
      'a record deleted',
      `DELETE FROM audit_records WHERE seq = 3;`,
      /record seq 3: record seq 3 is missing \(deleted\)/,
    ],
    [
      'a record inserted (the later ones moved up)',
      `UPDATE audit_records SET seq = seq + 100 WHERE seq >= 3;
       UPDATE audit_records SET seq = seq - 99 WHERE seq >= 103;
       INSERT INTO audit_records (seq, prev_hash, hash, event, event_time, event_name, principal, event_id)
         SELECT 3, prev_hash, hash, event, event_time, event_name, principal, event_id FROM audit_records WHERE seq = 2;`,
      /record seq 3 \(eventID [0-9a-f-]{36}\): the record does not match its hash/,
    ],
    [
      'two records reordered (seqs swapped)',
      `UPDATE audit_records SET seq = -2 WHERE seq = 2;
       UPDATE audit_records SET seq = 2 WHERE seq = 3;
       UPDATE audit_records SET seq = 3 WHERE seq = -2;`,
      /record seq 2 \(eventID [0-9a-f-]{36}\): the record does not match its hash: it was edited, or moved/,
    ],
    [
      'the tail cut behind the last digest',
      `DELETE FROM audit_records WHERE seq >= 4;`,
      /record seq 4: the tail was cut: digest 1 .* signed the chain up to seq 5, but the records end at seq 3/,
    ],
  ])('%s: exit 1, naming the first bad record', (_what, sql, named) => {
    const r = verify(tampered(sql));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^audit trail NOT intact: /);
    expect(r.stdout).toMatch(named);
    expect(r.status).toBe(1);
  });
});
