/**
 * Red team: bundles carried no audience, so a bundle signed for staging applied in production
 * whenever both trust the same signing key (one release key per organisation is common). A
 * bundle names its audience inside what is signed (`weir policy bundle --audience NAME`), and a
 * server started with `--bundle-audience NAME` takes only bundles for NAME; a server without it
 * takes only bundles that name no audience.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createBundle,
  generateSigningKey,
  openBundle,
  readBundleSources,
  readPrivateKey,
  serializeBundle,
  trustKeys,
} from '../../src/policy/bundle.js';
import { startServer } from '../../src/server/index.js';
import { weirCall } from '../helpers/weir-call.js';

const POLICIES = join(import.meta.dirname, '../../examples/policies');
const NOW = Date.parse('2026-12-01T00:00:00Z');
const signer = generateSigningKey();
const privateKey = readPrivateKey(signer.privateKeyPem);
const trusted = trustKeys([signer.publicKeyPem]);
const { sources } = readBundleSources(POLICIES);
const made = (version: number, audience?: string): string =>
  serializeBundle(
    createBundle({ sources, privateKey, version, ...(audience !== undefined ? { audience } : {}) }),
  );

describe('the audience is signed and checked', () => {
  const staging = made(10, 'staging');

  it('a bundle for staging is refused by prod and by a server with no audience; staging takes it', () => {
    expect(openBundle(staging, trusted, { now: NOW, audience: 'prod' })).toMatchObject({
      ok: false,
      code: 'wrong-audience',
      reason: "the bundle is for audience 'staging', this server is 'prod' (--bundle-audience)",
    });
    expect(openBundle(staging, trusted, { now: NOW })).toMatchObject({ ok: false, code: 'wrong-audience' });
    expect(openBundle(staging, trusted, { now: NOW, audience: 'staging' })).toMatchObject({ ok: true });
  });

  it('a bundle with no audience is refused by a server that has one', () => {
    expect(openBundle(made(11), trusted, { now: NOW, audience: 'prod' })).toMatchObject({
      ok: false,
      code: 'wrong-audience',
    });
    expect(openBundle(made(11), trusted, { now: NOW })).toMatchObject({ ok: true });
  });

  it('rewriting the audience (or removing it) breaks the signature', () => {
    const o = JSON.parse(staging) as Record<string, unknown>;
    const renamed = JSON.stringify({ ...o, audience: 'prod' });
    expect(openBundle(renamed, trusted, { now: NOW, audience: 'prod' })).toMatchObject({
      ok: false,
      code: 'signature-invalid',
    });
    const { audience: _gone, ...stripped } = o;
    expect(openBundle(JSON.stringify(stripped), trusted, { now: NOW })).toMatchObject({
      ok: false,
      code: 'signature-invalid',
    });
  });

  it('an audience that is not a plain name is refused when made and when read', () => {
    expect(() => createBundle({ sources, privateKey, version: 1, audience: 'prod env' })).toThrow(/audience/);
    const o = JSON.parse(staging) as Record<string, unknown>;
    expect(openBundle(JSON.stringify({ ...o, audience: 7 }), trusted, { now: NOW })).toMatchObject({
      ok: false,
      code: 'malformed',
    });
  });
});

describe('weir serve --bundle-audience', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-audience-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the API refuses a bundle for another audience with a clear error and applies one for its own', async () => {
    const pub = join(dir, 'weir-policy.pub');
    writeFileSync(pub, signer.publicKeyPem);
    const server = await startServer({
      dataDir: join(dir, 'data'),
      apiListen: '127.0.0.1:0',
      proxyListen: 'off',
      logger: pino({ level: 'silent' }),
      print: () => undefined,
      bundlePublicKeyFiles: [pub],
      bundleAudience: 'prod',
    });
    try {
      const refused = await weirCall(server, {
        method: 'PUT',
        resource: 'bundle',
        raw: Buffer.from(made(20, 'staging')),
      });
      expect(refused).toEqual({
        error: {
          code: 'InvalidBundle',
          message: expect.stringContaining(
            "wrong-audience: the bundle is for audience 'staging', this server is 'prod' (--bundle-audience); the bundle in force stays",
          ),
        },
      });
      const applied = await weirCall(server, {
        method: 'PUT',
        resource: 'bundle',
        raw: Buffer.from(made(21, 'prod')),
      });
      expect(applied).toMatchObject({ version: '21', audience: 'prod' });
    } finally {
      await server.close();
    }
  });
});
