/**
 * @module test/server/log-level — `weir serve --log-level`: an unknown level is a usage error
 * naming the allowed levels (exit 2, one line, no stack trace), and the JSON log lines carry the
 * level by name and exactly one `service` key, the API's request lines included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { serveArgv, spawnServe } from '../helpers/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'weir-log-level-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One unsigned POST to the API, which answers (an error) and logs an `api request` line. */
function unsignedPost(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('Action=DescribeSecurityGroups&Version=2016-11-15');
  });
}

describe('weir serve --log-level', () => {
  test('an unknown level exits 2 with one line naming the allowed levels', () => {
    const r = spawnSync(process.execPath, serveArgv(join(dir, 'bad'), ['--log-level', 'verbose']), {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "weir: --log-level: 'verbose' is not a level; use one of fatal, error, warn, info, debug, trace, silent\n",
    );
    expect(r.stdout).toBe('');
  });

  test('log lines name their level and carry one service key', { timeout: 120_000 }, async () => {
    const serve = await spawnServe(join(dir, 'good'), ['--log-level', 'info']);
    try {
      const api = serve.logLines().find((l) => l.msg === 'weir API listening');
      expect(api).toBeDefined();
      expect(await unsignedPost(String(api!.url))).toBe(400);
      for (let i = 0; i < 600 && !serve.lines.some((l) => l.includes('"api request"')); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exit;
    }
    const requestLine = serve.lines.find((l) => l.includes('"api request"'));
    expect(requestLine).toBeDefined();
    for (const line of serve.lines) {
      expect(line.match(/"service":/g), line).toHaveLength(1);
      expect(JSON.parse(line)).toMatchObject({ service: 'weir' });
      expect(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).toContain(JSON.parse(line).level);
    }
    expect(JSON.parse(requestLine!)).toMatchObject({ level: 'info', service: 'weir', api: 'ec2' });
  });
});
