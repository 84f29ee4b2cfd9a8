/**
 * @module policy/bundle.test — the canonical bytes a bundle's hash and signature cover, keys and
 * key IDs, and what createBundle refuses.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  contentHashOf,
  createBundle,
  generateSigningKey,
  keyIdOf,
  readPrivateKey,
  readPublicKey,
  signedBytes,
  trustKeys,
  verifyBundle,
} from './bundle.js';

describe('canonicalJson', () => {
  it('sorts keys, drops whitespace, and does not depend on key order', () => {
    expect(canonicalJson({ b: [1, 'x'], a: { d: 'é\n', c: 2 } })).toBe(
      '{"a":{"c":2,"d":"é\\n"},"b":[1,"x"]}',
    );
    expect(canonicalJson({ text: 't', path: 'p' })).toBe(canonicalJson({ path: 'p', text: 't' }));
  });

  it('refuses values with more than one spelling', () => {
    expect(() => canonicalJson(1.5)).toThrow(/safe integers/);
    expect(() => canonicalJson(true)).toThrow(/boolean/);
  });
});

describe('contentHashOf', () => {
  it('is sha256 over the canonical sources and changes with any byte of a path or text', () => {
    const sources = [{ path: 'a.yaml', text: 'x: 1\n' }];
    const hash = contentHashOf(sources);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(contentHashOf([{ path: 'a.yaml', text: 'x: 2\n' }])).not.toBe(hash);
    expect(contentHashOf([{ path: 'b.yaml', text: 'x: 1\n' }])).not.toBe(hash);
    // A path/text boundary cannot be moved without changing the hash.
    expect(contentHashOf([{ path: 'a.yamlx', text: ': 1\n' }])).not.toBe(hash);
  });
});

describe('keys', () => {
  it('generates PEM Ed25519 keys whose ID is the same from either half', () => {
    const k = generateSigningKey();
    expect(k.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(k.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(keyIdOf(readPrivateKey(k.privateKeyPem))).toBe(k.keyId);
    expect(keyIdOf(readPublicKey(k.publicKeyPem))).toBe(k.keyId);
    expect(generateSigningKey().keyId).not.toBe(k.keyId);
  });

  it('refuses other key types and a private key offered as trusted', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => readPrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }))).toThrow(
      'not an Ed25519 key (it is rsa)',
    );
    expect(() => readPublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }))).toThrow(
      'not an Ed25519 key (it is rsa)',
    );
    expect(() => readPublicKey(generateSigningKey().privateKeyPem)).toThrow(/private key/);
    expect(() => readPublicKey('hello')).toThrow('not a PEM public key');
    expect(() => trustKeys([rsa.publicKey])).toThrow(/Ed25519 public keys/);
  });
});

describe('createBundle', () => {
  const key = readPrivateKey(generateSigningKey().privateKeyPem);

  it('sorts sources, derives the version from the time, and signs the canonical bytes', () => {
    const created = new Date('2026-05-01T00:00:00Z');
    const b = createBundle({
      sources: [
        { path: 'z.yaml', text: 'z' },
        { path: 'tests/a.yml', text: 'a' },
      ],
      privateKey: key,
      created,
    });
    expect(b.sources.map((s) => s.path)).toEqual(['tests/a.yml', 'z.yaml']);
    expect(b.version).toBe(created.getTime() / 1000);
    expect(b.created).toBe('2026-05-01T00:00:00.000Z');
    expect(b.contentHash).toBe(contentHashOf(b.sources));
    expect(signedBytes(b).toString()).not.toContain('signature');
    const trusted = trustKeys([createPublicKey(key)]);
    expect(verifyBundle(JSON.stringify(b), trusted)).toEqual({ ok: true, bundle: b });
  });

  it.each([
    [[], 'the bundle holds no policy files'],
    [[{ path: '../etc/a.yaml', text: '' }], "source path '../etc/a.yaml' is not a relative path"],
    [[{ path: '/abs.yaml', text: '' }], 'is not a relative path'],
    [[{ path: 'a\\b.yaml', text: '' }], 'is not a relative path'],
    [[{ path: 'notes.txt', text: '' }], "source path 'notes.txt' is not a .yaml/.yml file"],
    [
      [
        { path: 'a.yaml', text: '1' },
        { path: 'a.yaml', text: '2' },
      ],
      "source path 'a.yaml' appears twice",
    ],
  ])('refuses sources %j', (sources, message) => {
    expect(() => createBundle({ sources, privateKey: key, version: 1 })).toThrow(message);
  });

  it.each([0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1])('refuses version %d', (version) => {
    expect(() => createBundle({ sources: [{ path: 'a.yaml', text: '' }], privateKey: key, version })).toThrow(
      /version must be a positive integer/,
    );
  });
});
