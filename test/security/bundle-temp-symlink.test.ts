/**
 * Red team: `weir policy bundle -o OUT` wrote through `.<pid>.weir-bundle.tmp` beside OUT. Anyone
 * who can write that directory (a shared /tmp, a CI workspace) plants a symlink at the name
 * (pids are guessable) and the bundler writes the bundle through it into a file of the
 * victim's choosing. Temporaries must be created exclusively, under a name nobody can guess.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPolicyBundle, runPolicyKeygen } from '../../src/cli/policy-bundle.js';

const POLICIES = join(import.meta.dirname, '../../examples/policies');
const dir = mkdtempSync(join(tmpdir(), 'weir-bundle-tmp-'));
const key = join(dir, 'keys/weir-policy.key');

beforeAll(() => {
  runPolicyKeygen({ out: join(dir, 'keys') }, () => undefined);
});

describe('weir policy bundle writes its temporary file safely', () => {
  it('a symlink planted at the old predictable temporary name is not followed', () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    // The name the old code picked in this process.
    const planted = join(dir, `.${process.pid}.weir-bundle.tmp`);
    symlinkSync(victim, planted);
    const code = runPolicyBundle(
      POLICIES,
      { output: join(dir, 'bundle.json'), key, now: '2026-12-01', version: '3' },
      () => undefined,
    );
    expect(code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8'))).toMatchObject({ version: 3 });
  });

  it('leaves no temporary file behind, and a symlink at the output itself is replaced, not followed', () => {
    const sub = mkdtempSync(join(dir, 'sub-'));
    const victim = join(dir, 'victim2.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(sub, 'bundle.json'));
    expect(
      runPolicyBundle(
        POLICIES,
        { output: join(sub, 'bundle.json'), key, now: '2026-12-01', version: '4' },
        () => undefined,
      ),
    ).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(sub, 'bundle.json')).isFile()).toBe(true);
    expect(readdirSync(sub)).toEqual(['bundle.json']);
  });
});
