/**
 * @module store/open-store.test — which driver one `--store` / data-dir string opens, and a URL
 * in a log line without its password (no PostgreSQL needed here: src/store/postgres has those).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPostgresUrl, openStore } from './open-store.js';
import { redactUrl } from './postgres/index.js';

describe('openStore', () => {
  it.each([
    ['postgres://u:p@db:5432/weir', true],
    ['postgresql://db/weir', true],
    ['POSTGRES://db/weir', true],
    ['./weir-data', false],
    ['/var/lib/weir/postgres://x', false],
    ['mysql://db/weir', false],
  ])('%s is a PostgreSQL URL: %s', (target, expected) => {
    expect(isPostgresUrl(target)).toBe(expected);
  });

  it('a data directory opens SQLite in DIR/weir.sqlite, as before --store existed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-open-'));
    try {
      const opened = await openStore(dir);
      expect(opened).toMatchObject({ driver: 'sqlite', description: join(dir, 'weir.sqlite') });
      await opened.store.close();
      expect(await readdir(dir)).toContain('weir.sqlite');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://weir:s3cret@db:5432/weir', 'postgres://weir:***@db:5432/weir'],
    ['postgres://weir@db/weir', 'postgres://weir@db/weir'],
    ['postgres://weir:p%40ss@db/weir?sslmode=require', 'postgres://weir:***@db/weir?sslmode=require'],
    ['not a url s3cret', 'postgres://(unparsable URL)'],
  ])('%s is logged as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });
});
