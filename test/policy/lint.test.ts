/**
 * @module test/policy-lint — golden tests of `weir policy lint` output on the fixture corpus:
 * each file (or directory) under bad/ exercises one diagnostic code and has its expected text
 * output; the whole bad/ set has JSON and SARIF goldens; good/ and examples/ lint clean. Update
 * the goldens with `npx vitest run test/policy-lint -u` and review the diff.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DIAGNOSTIC_CODES,
  destinationCovers,
  formatJson,
  formatSarif,
  formatText,
  lintPolicySet,
  loadPolicySet,
  loadPolicySources,
  ruleCovers,
} from '../../src/policy/index.js';
import type { Destination, DiagnosticCode, LintReport, PolicyRule } from '../../src/policy/index.js';

const FIXTURES = 'test/fixtures/policies';
/** The clock of every golden: findings about expiry must not depend on when CI runs. */
const NOW = Date.parse('2026-06-01T00:00:00Z');

function lint(paths: string | string[], now = NOW): LintReport {
  const { set, diagnostics } = loadPolicySet(paths);
  return lintPolicySet(set, diagnostics, { now });
}

const BAD_CASES = readdirSync(`${FIXTURES}/bad`)
  .map((name) => name.replace(/\.ya?ml$/, ''))
  .sort();

/** Codes that no file can exhibit (a path that cannot be read); tested in policy-load. */
const NOT_IN_CORPUS: readonly DiagnosticCode[] = ['io'];

describe('bad/: one code per case', () => {
  it('covers every diagnostic code', () => {
    const codes = Object.keys(DIAGNOSTIC_CODES).filter((c) => !NOT_IN_CORPUS.includes(c as DiagnosticCode));
    expect(BAD_CASES).toEqual(codes.sort());
  });

  it.each(BAD_CASES)('%s', async (name) => {
    const file = readdirSync(`${FIXTURES}/bad`).find((f) => f.replace(/\.ya?ml$/, '') === name) ?? name;
    const report = lint(`${FIXTURES}/bad/${file}`);
    expect(new Set(report.diagnostics.map((d) => d.code))).toEqual(new Set([name]));
    const severity = DIAGNOSTIC_CODES[name as DiagnosticCode].severity;
    expect(report.diagnostics.every((d) => d.severity === severity)).toBe(true);
    await expect(formatText(report)).toMatchFileSnapshot(
      `../fixtures/policies/expected/bad/${name}.text.golden`,
    );
  });

  it('whole set as JSON', async () => {
    await expect(formatJson(lint(`${FIXTURES}/bad`))).toMatchFileSnapshot(
      '../fixtures/policies/expected/bad.json.golden',
    );
  });

  it('whole set as SARIF 2.1.0', async () => {
    const text = formatSarif(lint(`${FIXTURES}/bad`));
    await expect(text).toMatchFileSnapshot('../fixtures/policies/expected/bad.sarif.golden');
    const sarif = JSON.parse(text) as {
      version: string;
      runs: {
        tool: { driver: { rules: { id: string }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
          }[];
        }[];
      }[];
    };
    const run = sarif.runs[0];
    expect(sarif.version).toBe('2.1.0');
    for (const r of run?.results ?? []) {
      expect(run?.tool.driver.rules[r.ruleIndex]?.id).toBe(r.ruleId);
      expect(['error', 'warning']).toContain(r.level);
      expect(r.locations[0]?.physicalLocation.artifactLocation.uri).toMatch(
        /^test\/fixtures\/policies\/bad\//,
      );
      expect(r.locations[0]?.physicalLocation.region.startLine).toBeGreaterThan(0);
    }
  });
});

describe('good/ and examples/', () => {
  it('good/ lints clean (text, JSON, SARIF goldens)', async () => {
    const report = lint(`${FIXTURES}/good`);
    expect(report.diagnostics).toEqual([]);
    await expect(formatText(report)).toMatchFileSnapshot('../fixtures/policies/expected/good.text.golden');
    await expect(formatJson(report)).toMatchFileSnapshot('../fixtures/policies/expected/good.json.golden');
    await expect(formatSarif(report)).toMatchFileSnapshot('../fixtures/policies/expected/good.sarif.golden');
  });

  it('examples/policies lints clean', () => {
    expect(lint('examples/policies', Date.parse('2026-12-01T00:00:00Z')).diagnostics).toEqual([]);
  });
});

describe('docs/policy-lint.md', () => {
  it('documents every code with an example and a fix', () => {
    const doc = readFileSync('docs/policy-lint.md', 'utf8');
    for (const code of Object.keys(DIAGNOSTIC_CODES)) {
      const section = doc.split(/^### /m).find((s) => s.startsWith(`\`${code}\``));
      expect(section, code).toBeDefined();
      expect(section, code).toMatch(/```yaml|```text/);
      expect(section, code).toMatch(/\*\*Fix/);
    }
  });
});

describe('expiry depends on the injected clock', () => {
  const text = (expires: string) =>
    `apiVersion: weir.dev/v1\nkind: EgressPolicy\nmetadata: { name: p, owner: o@example.com }\nspec:\n  workloads: [{ identity: a }]\n  rules:\n    - { id: r, to: [{ fqdn: a.example }], ports: [443], justification: j, expires: ${expires} }\n`;
  const codes = (expires: string, now: string) => {
    const { set, diagnostics } = loadPolicySources([{ file: 'p.yaml', text: text(expires) }]);
    return lintPolicySet(set, diagnostics, { now: Date.parse(now) }).diagnostics.map((d) => d.code);
  };

  it.each([
    ['2026-06-30', '2026-06-01T00:00:00Z', []],
    ['2026-06-14', '2026-06-01T00:00:00Z', ['expiring-soon']],
    ['2026-06-15', '2026-06-01T00:00:00Z', []],
    ['2026-06-01', '2026-06-01T23:59:59Z', ['expiring-soon']],
    ['2026-06-01', '2026-06-02T00:00:00Z', ['expired']],
    ['2026-06-01T12:00:00Z', '2026-06-01T12:00:01Z', ['expired']],
  ])('expires %s at %s → %j', (expires, now, expected) => {
    expect(codes(expires, now)).toEqual(expected);
  });
});

describe('coverage (shadowing and duplicates)', () => {
  const loc = { file: 'f', line: 1, col: 1 };
  const fqdn = (name: string, match: 'exact' | 'one-label' | 'any-depth' = 'exact'): Destination => ({
    kind: 'fqdn',
    name,
    match,
    loc,
  });
  const cidr = (c: string): Destination => ({ kind: 'cidr', family: c.includes(':') ? 6 : 4, cidr: c, loc });

  it.each([
    [fqdn('a.example.com'), fqdn('a.example.com'), true],
    [fqdn('a.example.com'), fqdn('b.example.com'), false],
    [fqdn('example.com', 'one-label'), fqdn('a.example.com'), true],
    [fqdn('example.com', 'one-label'), fqdn('a.b.example.com'), false],
    [fqdn('example.com', 'one-label'), fqdn('example.com'), false],
    [fqdn('example.com', 'any-depth'), fqdn('a.b.example.com'), true],
    [fqdn('example.com', 'any-depth'), fqdn('example.com'), false],
    [fqdn('example.com', 'any-depth'), fqdn('example.com', 'one-label'), true],
    [fqdn('example.com', 'any-depth'), fqdn('b.example.com', 'any-depth'), true],
    [fqdn('b.example.com', 'any-depth'), fqdn('example.com', 'any-depth'), false],
    [fqdn('example.com', 'one-label'), fqdn('example.com', 'any-depth'), false],
    [fqdn('ample.com', 'any-depth'), fqdn('a.example.com'), false],
    [cidr('10.0.0.0/8'), cidr('10.1.0.0/16'), true],
    [cidr('10.1.0.0/16'), cidr('10.0.0.0/8'), false],
    [cidr('10.0.0.0/8'), cidr('11.0.0.0/16'), false],
    [cidr('2001:db8::/32'), cidr('2001:db8:1::/48'), true],
    [cidr('0.0.0.0/0'), cidr('::/0'), false],
    [{ kind: 'group', ref: 'sg-1', loc }, { kind: 'group', ref: 'sg-1', loc }, true],
    [{ kind: 'prefixList', ref: 'pl-1', loc }, { kind: 'group', ref: 'pl-1', loc }, false],
  ] as const)('%j covers %j: %s', (a, b, expected) => {
    expect(destinationCovers(a, b)).toBe(expected);
  });

  const rule = (over: Partial<PolicyRule>): PolicyRule => ({
    id: 'r',
    policy: 'p',
    destinations: [fqdn('a.example.com')],
    ports: [{ from: 443, to: 443 }],
    protocol: 'tcp',
    loc,
    ...over,
  });

  it.each([
    ['same rule', rule({}), rule({}), true],
    ['all protocols cover tcp', rule({ protocol: '-1', ports: [] }), rule({}), true],
    ['udp does not cover tcp', rule({ protocol: 'udp' }), rule({}), false],
    ['port range covers port', rule({ ports: [{ from: 400, to: 500 }] }), rule({}), true],
    ['port does not cover all ports', rule({}), rule({ ports: [] }), false],
    [
      'ports are moot for icmp',
      rule({ protocol: 'icmp', ports: [] }),
      rule({ protocol: 'icmp', ports: [{ from: 8, to: 8 }] }),
      true,
    ],
    ['an expiring rule does not cover a lasting one', rule({ expires: 1 }), rule({}), false],
    ['a lasting rule covers an expiring one', rule({}), rule({ expires: 1 }), true],
    [
      'every destination must be covered',
      rule({}),
      rule({ destinations: [fqdn('a.example.com'), fqdn('b.example.com')] }),
      false,
    ],
  ])('%s', (_name, a, b, expected) => {
    expect(ruleCovers(a, b)).toBe(expected);
  });
});
