/**
 * @module test/policy-bundle-cli — `weir policy keygen|bundle|verify`: a real process for the
 * main path and its exit codes, in process for every verification reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPolicyBundle, runPolicyKeygen, runPolicyVerify } from '../../src/cli/policy-bundle.js';
import { WeirError } from '../../src/model/index.js';

function weir(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function run(f: (write: (s: string) => void) => number): { code: number; out: string } {
  let out = '';
  const code = f((s) => (out += s));
  return { code, out };
}

const NOW = '2026-12-01';
const dir = mkdtempSync(join(tmpdir(), 'weir-bundle-'));
const keys = join(dir, 'keys');
const key = join(keys, 'weir-policy.key');
const pub = join(keys, 'weir-policy.pub');
const file = join(dir, 'policy.bundle.json');

describe('weir policy keygen, bundle, verify (processes)', () => {
  it('round-trips with exit codes 0, 0, 0, then 1 on a rollback and 2 on a bad call', () => {
    const k = weir('policy', 'keygen', '--out', keys);
    expect(k).toMatchObject({ status: 0, stderr: '' });
    expect(k.stdout).toMatch(
      /^wrote .*weir-policy.key \(private: keep it secret\) and .*weir-policy.pub\nkeyId: sha256:[0-9a-f]{64}\n$/,
    );
    expect(statSync(key).mode & 0o777).toBe(0o600);

    const b = weir(
      'policy',
      'bundle',
      'examples/policies',
      '-o',
      file,
      '--key',
      key,
      '--version',
      '7',
      '--now',
      NOW,
    );
    expect(b).toMatchObject({ status: 0, stderr: '' });
    expect(b.stdout).toMatch(
      /^wrote .*policy.bundle.json: version 7, 5 files, sha256:[0-9a-f]{64}, key sha256:/,
    );

    const v = weir('policy', 'verify', file, '--pub', pub, '--now', NOW);
    expect(v).toMatchObject({ status: 0, stderr: '' });
    const keyId = /keyId: (\S+)/.exec(k.stdout)?.[1];
    expect(v.stdout.split('\n')).toEqual([
      `${file}: valid`,
      expect.stringMatching(/^version: 7 \(created \d{4}-\d\d-\d\dT[\d:.]+Z\)$/),
      expect.stringMatching(/^contentHash: sha256:[0-9a-f]{64}$/),
      `keyId: ${keyId}`,
      'audience: (none)',
      'files (5):',
      '  analytics.yaml',
      '  ci-builder.yaml',
      '  payments-checkout.yaml',
      '  registry.yaml',
      '  tests/payments-checkout.yaml',
      '',
    ]);

    const old = weir('policy', 'verify', file, '--pub', pub, '--current', '7', '--now', NOW);
    expect(old).toMatchObject({
      status: 1,
      stderr: '',
      stdout: `${file}: invalid: version 7 is not newer than the current version 7 (replay or rollback)\n`,
    });

    const usage = weir('policy', 'verify', file);
    expect(usage).toMatchObject({ status: 2, stdout: '', stderr: 'weir: --pub is required\n' });
  });

  it("weir --version prints the package's version; after a command, --version is that command's", () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(weir('--version')).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
    // `policy bundle --version` is the bundle's version: it is parsed (and here refused), not weir's.
    expect(
      weir('policy', 'bundle', 'nowhere', '-o', 'x.json', '--key', 'k', '--version', 'x').stderr,
    ).toMatch(/--version must be a positive integer/);
  });

  it('exits 1 without writing a bundle when the set has lint errors', () => {
    const out = join(dir, 'bad.json');
    const r = weir('policy', 'bundle', 'test/fixtures/policies/bad', '-o', out, '--key', key, '--now', NOW);
    expect(r).toMatchObject({ status: 1, stderr: '' });
    expect(r.stdout).toContain('test/fixtures/policies/bad/expired.yaml:13:16: error expired: ');
    expect(r.stdout).toMatch(
      /\n\d+ errors, \d+ warnings \(.*\)\nnot bundled: a bundle never holds a policy set with errors\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('runPolicyVerify reasons (in process)', () => {
  const valid = () => readFileSync(file, 'utf8');
  const verifyText = (text: string, flags: { current?: string } = {}) => {
    const f = join(dir, 'candidate.json');
    writeFileSync(f, text);
    return run((w) => runPolicyVerify(f, { pub: [pub], now: NOW, ...flags }, w));
  };

  beforeAll(() => {
    expect(existsSync(file)).toBe(true);
  });

  it.each<[string, (t: string) => string, RegExp]>([
    ['bad JSON', (t) => t.slice(0, t.length / 2), /invalid: not a bundle: bad JSON/],
    [
      'unknown format',
      (t) => t.replace('weir.bundle/v1', 'weir.bundle/v0'),
      /invalid: unknown format "weir.bundle\/v0"/,
    ],
    [
      'hash mismatch',
      // A port in a source's text: a bare '443' could also be inside the random key's hex ID.
      (t) => t.replace('ports: [443]', 'ports: [444]'),
      /invalid: hash mismatch: the sources hash to sha256:/,
    ],
    [
      'signature invalid',
      (t) => t.replace('"version": 7', '"version": 8'),
      /invalid: signature invalid: not signed by key/,
    ],
    [
      'unknown key',
      (t) => t.replace(/"keyId": "sha256:[0-9a-f]{64}"/, `"keyId": "sha256:${'0'.repeat(64)}"`),
      /invalid: unknown key sha256:0{64}/,
    ],
  ])('%s: exit 1 with the reason', (_name, edit, reason) => {
    const r = verifyText(edit(valid()));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(reason);
    expect(r.out.split('\n')).toHaveLength(2);
  });

  it('passes --current when the bundle is newer', () => {
    expect(verifyText(valid(), { current: '6' }).code).toBe(0);
    expect(verifyText(valid(), { current: '8' })).toMatchObject({
      code: 1,
      out: expect.stringContaining('not newer'),
    });
  });

  it('trusts any of several --pub keys', () => {
    const other = join(dir, 'other');
    run((w) => runPolicyKeygen({ out: other }, w));
    const r = run((w) => runPolicyVerify(file, { pub: [join(other, 'weir-policy.pub'), pub], now: NOW }, w));
    expect(r.code).toBe(0);
    const only = run((w) => runPolicyVerify(file, { pub: [join(other, 'weir-policy.pub')], now: NOW }, w));
    expect(only).toMatchObject({ code: 1, out: expect.stringContaining('invalid: unknown key sha256:') });
  });
});

describe('usage errors throw WeirError (exit 2)', () => {
  it.each<[string, () => number, RegExp]>([
    [
      'keygen over an existing key',
      () => runPolicyKeygen({ out: keys }, () => {}),
      /weir-policy.key exists; refusing to overwrite it/,
    ],
    [
      'bundle a missing directory',
      () => runPolicyBundle('nope', { output: file, key }, () => {}),
      /nope: no such file or directory/,
    ],
    [
      'bundle a file',
      () => runPolicyBundle('package.json', { output: file, key }, () => {}),
      /package.json: not a directory/,
    ],
    [
      'bundle with a public key',
      () => runPolicyBundle('examples/policies', { output: file, key: pub }, () => {}),
      /--key .*: not a PEM private key/,
    ],
    [
      'bundle with a bad --version',
      () => runPolicyBundle('examples/policies', { output: file, key, version: '1e3' }, () => {}),
      /--version must be a positive integer \(got '1e3'\)/,
    ],
    [
      'verify with a private key as --pub',
      () => runPolicyVerify(file, { pub: [key] }, () => {}),
      /this is a private key; give the .pub file/,
    ],
    [
      'verify a missing file',
      () => runPolicyVerify('nope.json', { pub: [pub] }, () => {}),
      /nope.json: cannot read/,
    ],
    [
      'verify with a bad --current',
      () => runPolicyVerify(file, { pub: [pub], current: '-1' }, () => {}),
      /--current must be a positive integer/,
    ],
  ])('%s', (_name, f, message) => {
    expect(f).toThrow(WeirError);
    expect(f).toThrow(message);
  });

  it('bundle derives the version from the time when --version is absent', () => {
    const out = join(dir, 'derived.json');
    const before = Math.floor(Date.now() / 1000);
    const r = run((w) => runPolicyBundle('examples/policies', { output: out, key, now: NOW }, w));
    expect(r.code).toBe(0);
    const version = (JSON.parse(readFileSync(out, 'utf8')) as { version: number }).version;
    expect(version).toBeGreaterThanOrEqual(before);
    expect(version).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});
