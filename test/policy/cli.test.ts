/**
 * @module test/policy-cli — `weir policy lint` and `weir policy schema` as a user runs them:
 * a real process, its exit code, stdout and stderr (never a stack trace).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function weir(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const NOW = ['--now', '2026-06-01'];

describe('weir policy lint', () => {
  it('exits 0 on a clean set', () => {
    const r = weir('policy', 'lint', 'test/fixtures/policies/good', ...NOW);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toBe('0 errors, 0 warnings (3 policies, 7 rules, 3 registered workloads, 6 tests)\n');
  });

  it('exits 0 with warnings only', () => {
    const r = weir('policy', 'lint', 'test/fixtures/policies/bad/wide-cidr.yaml', ...NOW);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('warning wide-cidr: 0.0.0.0/0 is the whole IPv4 internet');
  });

  it('exits 1 on errors, printing file:line:col, code, message and hint', () => {
    const r = weir('policy', 'lint', 'test/fixtures/policies/bad/expired.yaml', ...NOW);
    expect(r).toMatchObject({ status: 1, stderr: '' });
    expect(r.stdout.split('\n')).toEqual([
      "test/fixtures/policies/bad/expired.yaml:13:16: error expired: rule 'r1' expired on 2026-01-31 (owner team-fixtures@example.com); it no longer allows anything",
      '  hint: renew it with a later expires: if it is still needed, or delete it',
      '1 error, 0 warnings (1 policy, 1 rule, 0 registered workloads, 0 tests)',
      '',
    ]);
  });

  it('exits 1 on a YAML syntax error, without a stack trace', () => {
    const r = weir('policy', 'lint', 'test/fixtures/policies/bad/yaml-syntax.yaml');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      "yaml-syntax.yaml:14:7: error yaml-syntax: duplicate key 'ports' in one mapping",
    );
    expect(r.stderr).toBe('');
  });

  it('takes several paths and writes JSON and SARIF', () => {
    const json = weir(
      'policy',
      'lint',
      '--format',
      'json',
      ...NOW,
      'examples/policies',
      'test/fixtures/policies/bad/expired.yaml',
    );
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ errors: 1, warnings: 0, stats: { policies: 4 } });
    const sarif = weir('policy', 'lint', '--format', 'sarif', ...NOW, 'test/fixtures/policies/good');
    expect(sarif.status).toBe(0);
    expect(JSON.parse(sarif.stdout)).toMatchObject({ version: '2.1.0', runs: [{ results: [] }] });
  });

  it('lints the examples clean', () => {
    const r = weir('policy', 'lint', 'examples/policies', '--now', '2026-12-01');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([
    [['--format', 'xml'], "weir: --format must be one of text, json, sarif (got 'xml')\n"],
    [['--now', 'yesterday'], "weir: --now: not a date or timestamp (got 'yesterday')\n"],
  ])('exits 2 on a bad option %j', (flags, stderr) => {
    const r = weir('policy', 'lint', 'test/fixtures/policies/good', ...flags);
    expect(r).toMatchObject({ status: 2, stdout: '', stderr });
  });

  it('exits 2 on a usage error', () => {
    const r = weir('policy', 'lint');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: missing required argument 'paths'");
  });

  it('exits 2 on a missing path', () => {
    const r = weir('policy', 'lint', 'test/fixtures/policies/nope');
    expect(r).toMatchObject({
      status: 2,
      stdout: '',
      stderr: 'weir: test/fixtures/policies/nope: no such file or directory\n',
    });
  });
});

describe('weir policy schema', () => {
  it('prints the JSON Schema', () => {
    const r = weir('policy', 'schema');
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      $schema: string;
      anyOf: unknown[];
      definitions: Record<string, unknown>;
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.anyOf).toHaveLength(3);
    expect(Object.keys(schema.definitions)).toEqual(
      expect.arrayContaining(['Metadata', 'Rule', 'Destination', 'WorkloadSelector', 'TestCase']),
    );
  });
});
