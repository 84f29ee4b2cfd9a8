/**
 * @module cli/decisions-grant.test — `weir decisions` names the grant that allowed a decision:
 * in the table (kind, ID, requester, approver, expiry, reason) and read back from a log file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantText, runDecisions } from './decisions.js';

const GRANT = {
  kind: 'exception',
  id: 'exc-3',
  requester: 'dev@example.com',
  approver: 'lead@example.com',
  reason: 'copy\nlogs',
  expires: '2026-12-09T00:00:00.000Z',
} as const;

describe('weir decisions and grants', () => {
  it('writes the grant on one line, the reason quoted', () => {
    expect(grantText(GRANT)).toBe(
      'exception exc-3 (requested by dev@example.com, approved by lead@example.com, expires 2026-12-09T00:00:00.000Z, reason "copy\\nlogs")',
    );
  });

  it('reads the grant back from a decision log file (table and JSON)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-dg-'));
    try {
      const file = join(dir, 'decisions.log');
      const line = {
        level: 30,
        time: 1,
        msg: 'decision',
        decisionId: 'd-1',
        at: '2026-12-08T12:00:00.000Z',
        identity: 'spiffe://t/a',
        src: '127.0.0.1:1',
        protocol: 'connect',
        host: 'files.example.org',
        port: 443,
        decision: 'allow',
        reason: 'exception',
        grant: GRANT,
      };
      writeFileSync(
        file,
        `${JSON.stringify(line)}\n${JSON.stringify({ ...line, decisionId: 'd-2', grant: { id: 1 } })}\n`,
      );
      let out = '';
      expect(await runDecisions({ file }, { write: (s) => void (out += s) })).toBe(0);
      expect(out).toContain(grantText(GRANT));
      out = '';
      await runDecisions({ file, output: 'json' }, { write: (s) => void (out += s) });
      const [first, second] = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(first?.grant).toEqual(GRANT);
      expect(second?.grant).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
