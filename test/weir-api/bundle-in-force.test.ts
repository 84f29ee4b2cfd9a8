/**
 * Item 19: a bundle applied to a server running `--policy DIR` was accepted and silently
 * ignored. `--policy DIR` wins (the operator named it on the command line); ApplyBundle there is
 * refused with an error naming `--policy`, and `weir policy bundle show` prints the bundle in
 * force (version, hash, key, audience, when applied), or says what is enforced instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { runPolicyBundleShow } from '../../src/cli/policy-bundle.js';
import {
  createBundle,
  generateSigningKey,
  readBundleSources,
  readPrivateKey,
  serializeBundle,
} from '../../src/policy/bundle.js';
import { startServer } from '../../src/server/index.js';
import type { ServeOptions } from '../../src/server/index.js';
import { weirCall } from '../helpers/weir-call.js';

const POLICIES = join(import.meta.dirname, '../../examples/policies');
const signer = generateSigningKey();
const privateKey = readPrivateKey(signer.privateKeyPem);
const { sources } = readBundleSources(POLICIES);
const bundle = (version: number, audience?: string): Buffer =>
  Buffer.from(
    serializeBundle(
      createBundle({ sources, privateKey, version, ...(audience !== undefined ? { audience } : {}) }),
    ),
  );
const dir = mkdtempSync(join(tmpdir(), 'weir-in-force-'));
const pub = join(dir, 'weir-policy.pub');
writeFileSync(pub, signer.publicKeyPem);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (name: string, extra: Partial<ServeOptions> = {}) =>
  startServer({
    dataDir: join(dir, name),
    apiListen: '127.0.0.1:0',
    proxyListen: 'off',
    logger: pino({ level: 'silent' }),
    print: () => undefined,
    bundlePublicKeyFiles: [pub],
    ...extra,
  });

/** `weir policy bundle show` against `server`, its text output. */
async function show(server: Awaited<ReturnType<typeof start>>, output?: string): Promise<string> {
  const key = [...server.keys.keys()][0]!;
  let out = '';
  await runPolicyBundleShow({ ...(output !== undefined ? { output } : {}) }, (s) => (out += s), {
    endpoint: new URL(server.url),
    region: 'us-east-1',
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
  });
  return out;
}

describe('a bundle and --policy DIR', () => {
  it('a server running --policy refuses ApplyBundle, naming --policy; show says what is enforced', async () => {
    const server = await start('dir', { policyDir: POLICIES });
    try {
      const refused = await weirCall(server, { method: 'PUT', resource: 'bundle', raw: bundle(5) });
      expect(refused).toMatchObject({ error: { code: 'IncorrectState' } });
      const message = (refused.error as { message: string }).message;
      expect(message).toContain(`--policy ${POLICIES}`);
      expect(message).toContain('would not take effect');
      expect(await weirCall(server, { method: 'GET', resource: 'bundle' })).toMatchObject({
        inForce: false,
        policyDir: POLICIES,
      });
      expect(await show(server)).toBe(
        `no bundle in force: this server enforces --policy ${POLICIES} (a bundle applied there would not take effect)\n`,
      );
    } finally {
      await server.close();
    }
  });

  it('without --policy, show prints the bundle in force: version, hash, key, audience, when applied', async () => {
    const server = await start('bundle', { bundleAudience: 'prod' });
    try {
      const applied = await weirCall(server, { method: 'PUT', resource: 'bundle', raw: bundle(7, 'prod') });
      expect(applied).toMatchObject({ version: '7' });
      const got = await weirCall(server, { method: 'GET', resource: 'bundle' });
      expect(got).toMatchObject({
        inForce: true,
        version: '7',
        hash: applied.hash,
        keyId: applied.keyId,
        audience: 'prod',
        appliedAt: applied.appliedAt,
      });
      const text = await show(server);
      expect(text.split('\n')).toEqual([
        'bundle in force: version 7',
        `hash:     ${String(applied.hash)}`,
        `key:      ${String(applied.keyId)}`,
        'audience: prod',
        `created:  ${String(applied.created)}`,
        `applied:  ${String(applied.appliedAt)}`,
        '',
      ]);
      expect(JSON.parse(await show(server, 'json'))).toMatchObject({
        inForce: true,
        version: '7',
        audience: 'prod',
      });
    } finally {
      await server.close();
    }
  });

  it('a stored bundle this server no longer takes (audience changed at restart) is shown as not in force', async () => {
    const first = await start('restart', { bundleAudience: 'prod' });
    await weirCall(first, { method: 'PUT', resource: 'bundle', raw: bundle(9, 'prod') });
    await first.close();
    const second = await start('restart', { bundleAudience: 'staging' });
    try {
      expect(await weirCall(second, { method: 'GET', resource: 'bundle' })).toMatchObject({
        inForce: false,
        version: '9',
        problem: expect.stringContaining('wrong-audience'),
      });
      expect(await show(second)).toMatch(
        /^no bundle in force: the stored bundle \(version 9\) does not verify here: wrong-audience/,
      );
    } finally {
      await second.close();
    }
  });
});
