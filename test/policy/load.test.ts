/**
 * @module test/policy-load — the loader: the ARCHITECTURE.md example as written, error messages
 * with file:line:col, normalisation of a whole set, directory layout (tests/), and the published
 * JSON Schema kept current.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';
import { DECISION_REASONS } from '../../src/engine/index.js';
import {
  formatDiagnostic,
  loadPolicySet,
  loadPolicySources,
  policyJsonSchema,
  TEST_REASONS,
} from '../../src/policy/index.js';

/** The example of ARCHITECTURE.md "Policy files", verbatim (its alignment is part of the test). */
const ARCHITECTURE_EXAMPLE = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: team-payments@example.com }
spec:
  mode: enforce                     # enforce | report (dry run: log would-deny, allow)
  workloads:
    - identity: spiffe://prod.example/ns/payments/sa/checkout
  rules:
    - id: stripe-api
      to: [{ fqdn: api.stripe.com }, { fqdn: "*.stripe.network" }]
      ports: [443]
      protocol: tcp
      justification: Card authorisation
      dataClass: pci
      expires: 2027-06-30
  tests:
    - { from: spiffe://prod.example/ns/payments/sa/checkout, to: "api.stripe.com:443", expect: allow, rule: stripe-api }
`;

const SHARED_ARCHITECTURE = fileURLToPath(new URL('../../../shared/ARCHITECTURE.md', import.meta.url));
const SCHEMA_FILE = 'schemas/egress-policy.schema.json';

function load(text: string, file = 'p.yaml') {
  return loadPolicySources([{ file, text }]);
}

function messages(text: string): string[] {
  return load(text).diagnostics.map(formatDiagnostic);
}

const HEAD = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: p, owner: o@example.com }
spec:
  workloads: [{ identity: spiffe://x/sa/a }]
  rules:
`;

describe('the ARCHITECTURE.md example', () => {
  it.skipIf(!existsSync(SHARED_ARCHITECTURE))('is the block in ARCHITECTURE.md', () => {
    const md = readFileSync(SHARED_ARCHITECTURE, 'utf8');
    expect(md).toContain(`\`\`\`yaml\n${ARCHITECTURE_EXAMPLE}\`\`\``);
  });

  it('is accepted as written and normalised', () => {
    const { set, diagnostics } = load(ARCHITECTURE_EXAMPLE, 'payments.yaml');
    expect(diagnostics).toEqual([]);
    expect(set.policies).toHaveLength(1);
    const p = set.policies[0];
    expect(p).toMatchObject({
      name: 'payments-checkout',
      owner: 'team-payments@example.com',
      mode: 'enforce',
      workloads: [{ identity: { kind: 'exact', value: 'spiffe://prod.example/ns/payments/sa/checkout' } }],
      loc: { file: 'payments.yaml', line: 1, col: 1 },
    });
    expect(p?.rules[0]).toMatchObject({
      id: 'stripe-api',
      policy: 'payments-checkout',
      destinations: [
        { kind: 'fqdn', name: 'api.stripe.com', match: 'exact', loc: { line: 10, col: 12 } },
        { kind: 'fqdn', name: 'stripe.network', match: 'one-label', loc: { line: 10, col: 38 } },
      ],
      ports: [{ from: 443, to: 443 }],
      protocol: 'tcp',
      justification: 'Card authorisation',
      dataClass: 'pci',
      owner: 'team-payments@example.com',
      expires: Date.parse('2027-06-30T23:59:59.999Z'),
      expiresText: '2027-06-30',
      loc: { file: 'payments.yaml', line: 9, col: 7 },
      fieldLocs: { expires: { line: 15, col: 16 } },
    });
    expect(p?.tests).toEqual([
      {
        from: 'spiffe://prod.example/ns/payments/sa/checkout',
        to: 'api.stripe.com:443',
        expect: 'allow',
        rule: 'stripe-api',
        loc: { file: 'payments.yaml', line: 17, col: 7 },
      },
    ]);
  });
});

describe('error messages point at file:line:col with the value and a hint', () => {
  it('YAML syntax errors, each with a hint', () => {
    expect(messages(`${HEAD}    - id: r1\n      to: [{ fqdn: a.example }\n      ports: [443]\n`)).toEqual([
      'p.yaml:9:7: error yaml-syntax: flow sequence in block collection must be sufficiently indented and end with a ]; hint: line entries up with their siblings (spaces only), and close every [ and {',
    ]);
    expect(messages(`${HEAD}    - id: r1\n\t  to: [{ fqdn: a.example }]\n`)).toEqual([
      'p.yaml:8:1: error yaml-syntax: tabs are not allowed as indentation; hint: indent with spaces; YAML does not allow tabs there',
    ]);
    expect(messages(`${HEAD}    - id: r1\n      justification: "C:\\q"\n`)).toEqual([
      'p.yaml:8:25: error yaml-syntax: invalid escape sequence \\q; hint: in double quotes a backslash starts an escape; for a literal backslash use single quotes',
    ]);
  });

  it('duplicate key (YAML)', () => {
    expect(messages(`${HEAD}    - id: r1\n      id: r2\n      to: [{ fqdn: a.example }]\n`)).toEqual([
      "p.yaml:8:7: error yaml-syntax: duplicate key 'id' in one mapping; hint: 'id' is first given at line 7; keep one of the two (merge their values if both are needed)",
    ]);
  });

  it('a name or rule ID its pattern refuses, with the nearest one it accepts', () => {
    const text =
      HEAD.replace('name: p,', 'name: Bad_Name,') + `    - id: Rule One\n      to: [{ fqdn: a.example }]\n`;
    expect(messages(text).map((m) => m.replace(/ must be .* \(got/, ' must be … (got'))).toEqual([
      "p.yaml:3:19: error invalid-value: metadata.name must be … (got 'Bad_Name'); hint: did you mean 'bad_name'?",
      "p.yaml:7:11: error invalid-value: spec.rules[0].id must be … (got 'Rule One'); hint: did you mean 'rule-one'?",
    ]);
  });

  it('an empty value or list says what the field is for', () => {
    expect(messages(`${HEAD}    - id: r1\n      to: []\n      justification: ''\n`)).toEqual([
      "p.yaml:8:11: error invalid-value: spec.rules[0].to must list at least one destination (got '[]'); hint: Destinations: [{fqdn}, {cidr}, {prefixList}, {group}].",
      "p.yaml:9:22: error invalid-value: spec.rules[0].justification must not be empty (got ''); hint: Why this workload needs this destination.",
    ]);
  });

  it('a destination with two kinds, or a selector with neither, gets a hint with examples', () => {
    const m = messages(`${HEAD}    - id: r1\n      to: [{ fqdn: a.example.com, cidr: 10.0.0.0/8 }]\n`);
    expect(m).toHaveLength(1);
    expect(m[0]).toContain('spec.rules[0].to[0] must have exactly one of fqdn, cidr, prefixList, group');
    expect(m[0]).toContain(
      'hint: One destination per list item: fqdn (api.example.com), cidr (10.20.0.0/16)',
    );
    const empty = messages(
      HEAD.replace('[{ identity: spiffe://x/sa/a }]', '[{}]') +
        '    - { id: r1, to: [{ fqdn: a.example }] }\n',
    );
    expect(empty).toHaveLength(1);
    expect(empty[0]).toContain('spec.workloads[0] needs an identity, labels, or both');
    expect(empty[0]).toContain('hint: Which workloads: identity (e.g. spiffe://');
  });

  it('unresolved alias, without a crash', () => {
    expect(messages(`${HEAD}    - id: r1\n      to: *dests\n`)).toEqual([
      'p.yaml:8:11: error yaml-syntax: unresolved alias (the anchor must be set before the alias): dests',
    ]);
  });

  it('unknown key with a did-you-mean hint', () => {
    expect(messages(`${HEAD}    - id: r1\n      to: [{ fqdn: a.example }]\n      prots: [443]\n`)).toEqual([
      "p.yaml:9:7: error unknown-key: unknown key 'prots' in spec.rules[0]; hint: did you mean 'ports'?",
    ]);
    expect(messages(`${HEAD}    - id: r1\n      to: [{ fdqn: a.example }]\n`)).toEqual([
      "p.yaml:8:14: error unknown-key: unknown key 'fdqn' in spec.rules[0].to[0]; hint: did you mean 'fqdn'?",
    ]);
    expect(
      messages(HEAD.replace('metadata:', 'metdata:') + '    - { id: r1, to: [{ fqdn: a.example }] }\n'),
    ).toEqual([
      "p.yaml:3:1: error unknown-key: unknown key 'metdata' at the top level; hint: did you mean 'metadata'?",
    ]);
  });

  it('bad CIDR', () => {
    expect(
      messages(`${HEAD}    - id: r1\n      to: [{ cidr: 10.0.0.300/32 }, { cidr: 10.0.0.1/8 }]\n`),
    ).toEqual([
      "p.yaml:8:20: error invalid-cidr: not an IPv4 or IPv6 CIDR block (got '10.0.0.300/32'); hint: write a.b.c.d/len (len 0-32) or x:y::z/len (len 0-128)",
      "p.yaml:8:45: warning cidr-not-canonical: host bits are set: this block is 10.0.0.0/8 (got '10.0.0.1/8'); hint: write 10.0.0.0/8 for the network, or 10.0.0.1/32 for the single host",
    ]);
  });

  it('bad port range', () => {
    expect(
      messages(
        `${HEAD}    - id: r1\n      to: [{ fqdn: a.example }]\n      ports: [443, "9000-80", 70000, x]\n`,
      ),
    ).toEqual([
      'p.yaml:9:20: error invalid-port: range 9000-80 is reversed (got \'9000-80\'); hint: write "80-9000"',
      "p.yaml:9:31: error invalid-port: port 70000 is out of range (got '70000'); hint: ports are 0-65535",
      'p.yaml:9:38: error invalid-port: not a port or port range (got \'x\'); hint: write 443, or a range in quotes as "8000-8100"',
    ]);
  });

  it('bad wildcard', () => {
    expect(messages(`${HEAD}    - id: r1\n      to: [{ fqdn: "a.*.com" }, { fqdn: "*foo.com" }]\n`)).toEqual([
      "p.yaml:8:20: error invalid-wildcard: only the leftmost label may be a wildcard (got 'a.*.com'); hint: use *.example.com (one label) or **.example.com (any depth)",
      'p.yaml:8:41: error invalid-wildcard: wildcard "*foo" is not a whole label (got \'*foo.com\'); hint: use *.com (one label) or **.com (any depth)',
    ]);
  });

  it('bad expiry', () => {
    expect(
      messages(
        `${HEAD}    - { id: r1, to: [{ fqdn: a.example }], expires: 2027-02-30 }\n    - { id: r2, to: [{ fqdn: b.example }], expires: "2027-06-30 12:00" }\n`,
      ),
    ).toEqual([
      "p.yaml:7:53: error invalid-date: no such date (got '2027-02-30'); hint: write a real calendar date as YYYY-MM-DD",
      "p.yaml:8:53: error invalid-date: not a date or timestamp (got '2027-06-30 12:00'); hint: write YYYY-MM-DD (e.g. 2027-06-30) or an ISO 8601 timestamp such as 2027-06-30T12:00:00Z",
    ]);
  });

  it('duplicate rule id', () => {
    expect(
      messages(
        `${HEAD}    - { id: r1, to: [{ fqdn: a.example }] }\n    - { id: r1, to: [{ fqdn: b.example }] }\n`,
      ),
    ).toEqual([
      "p.yaml:8:13: error duplicate-rule-id: rule ID 'r1' is already used in policy 'p'; hint: see line 7; give each rule of a policy its own id",
    ]);
  });

  it('duplicate policy names across files', () => {
    const doc = `${HEAD}    - { id: r1, to: [{ fqdn: a.example }] }\n`;
    const { diagnostics, set } = loadPolicySources([
      { file: 'a.yaml', text: doc },
      { file: 'b.yaml', text: doc },
    ]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      "b.yaml:3:19: error duplicate-policy: policy 'p' is already defined; hint: see a.yaml:1; rename one of them or merge their rules",
    ]);
    expect(set.policies).toHaveLength(1);
  });

  it('wrong types, enums and kinds', () => {
    expect(
      messages(
        `apiVersion: weir.dev/v1\nkind: EgressPolicy\nmetadata: { name: p, labels: { tier: 1 } }\nspec:\n  mode: Enforce\n  workloads: [{ identity: a }]\n  rules: { id: r1 }\n`,
      ),
    ).toEqual([
      "p.yaml:3:38: error invalid-type: metadata.labels.tier must be a string, not a number (got '1'); hint: quote it: '1'",
      "p.yaml:5:9: error invalid-value: spec.mode must be one of enforce, report (got 'Enforce'); hint: did you mean 'enforce'?",
      'p.yaml:7:10: error invalid-type: spec.rules must be a list, not a mapping (got \'{"id":"r1"}\')',
    ]);
    expect(messages('apiVersion: weir.dev/v2\nkind: EgressPolicy\n')).toEqual([
      "p.yaml:1:13: error unknown-kind: apiVersion must be weir.dev/v1 (got 'weir.dev/v2'); hint: write apiVersion: weir.dev/v1",
    ]);
    expect(messages('apiVersion: weir.dev/v1\nkind: Egresspolicy\n')).toEqual([
      "p.yaml:2:7: error unknown-kind: unknown kind; expected EgressPolicy, WorkloadRegistry, EgressPolicyTest (got 'Egresspolicy'); hint: did you mean 'EgressPolicy'?",
    ]);
    expect(messages('- just\n- a list\n')).toEqual([
      'p.yaml:1:1: error invalid-type: a document must be a mapping, not a list; hint: start it with apiVersion: weir.dev/v1 and kind: EgressPolicy',
    ]);
  });

  it('keeps going after the first error in a rule', () => {
    const codes = load(
      `${HEAD}    - id: r1\n      to: [{ fqdn: "a.*.com" }, { cidr: 1.2.3.4 }]\n      ports: ["2-1"]\n      protocol: tcpp\n      expires: soon\n      portz: 1\n`,
    ).diagnostics.map((d) => d.code);
    expect(codes).toEqual([
      'invalid-wildcard',
      'invalid-cidr',
      'invalid-port',
      'invalid-protocol',
      'invalid-date',
      'unknown-key',
    ]);
  });

  it('leaves rules with errors out of the set', () => {
    const { set } = load(
      `${HEAD}    - { id: ok, to: [{ fqdn: a.example }] }\n    - { id: bad, to: [{ cidr: nope }] }\n`,
    );
    expect(set.policies[0]?.rules.map((r) => r.id)).toEqual(['ok']);
  });
});

describe('normalisation of a whole set', () => {
  const { set, diagnostics, files } = loadPolicySet('test/fixtures/policies/good');
  const policy = (name: string) => set.policies.find((p) => p.name === name);
  const rule = (p: string, id: string) => policy(p)?.rules.find((r) => r.id === id);

  it('loads every file, tests/ included, without diagnostics', () => {
    expect(diagnostics).toEqual([]);
    expect(files).toEqual([
      'test/fixtures/policies/good/batch.yaml',
      'test/fixtures/policies/good/registry.yml',
      'test/fixtures/policies/good/shop.yaml',
      'test/fixtures/policies/good/tests/cases.yaml',
    ]);
    expect(set.policies.map((p) => p.name)).toEqual(['batch-nightly', 'shop-frontend', 'shop-cart']);
    expect(set.workloads.map((w) => w.identity)).toEqual([
      'spiffe://staging.example/ns/shop/sa/frontend',
      'spiffe://staging.example/ns/shop/sa/cart',
      'system:serviceaccount:batch:nightly',
    ]);
  });

  it('normalises names: case, trailing dot, IDNA', () => {
    expect(
      rule('shop-frontend', 'cdn-assets')?.destinations.map((d) => d.kind === 'fqdn' && [d.name, d.match]),
    ).toEqual([
      ['assets.example-cdn.net', 'exact'],
      ['img.example-cdn.net', 'one-label'],
    ]);
    expect(rule('shop-frontend', 'bookshop-partner')?.destinations[0]).toMatchObject({
      name: 'xn--bcher-kva.example',
    });
  });

  it('canonicalises CIDRs, ports, protocols and expiry', () => {
    expect(rule('batch-nightly', 'ping-monitor')).toMatchObject({
      destinations: [
        { kind: 'cidr', family: 4, cidr: '192.0.2.0/24' },
        { kind: 'cidr', family: 6, cidr: '2001:db8::/64' },
      ],
      ports: [],
      protocol: 'icmp',
    });
    expect(rule('shop-cart', 'sessions')?.ports).toEqual([
      { from: 6379, to: 6380 },
      { from: 26379, to: 26379 },
    ]);
    expect(rule('shop-frontend', 'cdn-assets')).toMatchObject({
      ports: [
        { from: 443, to: 443 },
        { from: 8443, to: 8443 },
      ],
      expires: Date.parse('2027-01-31T18:00:00Z'),
      expiresText: '2027-01-31T18:00:00Z',
    });
    expect(rule('shop-cart', 'tax-service')).toMatchObject({
      protocol: 'tcp',
      owner: 'finance-eng@example.com',
      destinations: [{ kind: 'prefixList', ref: 'tax-partners' }],
    });
    expect(rule('shop-cart', 'sessions')?.owner).toBe('team-shop@example.com');
  });

  it('reads modes, selectors and tests', () => {
    expect(policy('shop-cart')).toMatchObject({
      mode: 'report',
      workloads: [
        {
          identity: { kind: 'glob', value: 'spiffe://staging.example/ns/shop/**' },
          labels: { dataClass: 'pii' },
        },
      ],
    });
    expect(policy('shop-frontend')?.mode).toBe('enforce');
    expect(policy('shop-frontend')?.tests.map((t) => t.to)).toEqual([
      'a.img.example-cdn.net:443',
      'a.b.img.example-cdn.net:443',
    ]);
    expect(set.tests?.map((t) => [t.rule, t.at])).toEqual([
      ['sftp-upload', undefined],
      ['ping-monitor', undefined],
      ['bookshop-partner', Date.parse('2026-07-01T00:00:00Z')],
    ]);
  });
});

describe('directories', () => {
  it('reports a missing path instead of throwing', () => {
    expect(loadPolicySet('test/fixtures/policies/nope').diagnostics.map(formatDiagnostic)).toEqual([
      'test/fixtures/policies/nope:1:1: error io: cannot read: no such file or directory',
    ]);
  });

  it('reports a directory without policy files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-policy-'));
    expect(loadPolicySet(dir).diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['io', 'no policy files (*.yaml, *.yml) here'],
    ]);
  });

  it('skips hidden directories and non-YAML files; only tests/ documents may be tests', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-policy-'));
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'team', 'tests'), { recursive: true });
    writeFileSync(join(dir, '.git', 'x.yaml'), 'not: [valid');
    writeFileSync(join(dir, 'README.md'), '# not a policy');
    writeFileSync(join(dir, 'team', 'p.yml'), `${HEAD}    - { id: r1, to: [{ fqdn: a.example }] }\n`);
    writeFileSync(
      join(dir, 'team', 'tests', 't.yaml'),
      'apiVersion: weir.dev/v1\nkind: EgressPolicyTest\nmetadata: { name: t }\nspec:\n  policy: p\n  cases: [{ from: spiffe://x/sa/a, to: a.example, expect: allow }]\n',
    );
    const { set, diagnostics, files } = loadPolicySet(dir);
    expect(diagnostics).toEqual([]);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['team/p.yml', 'team/tests/t.yaml']);
    expect(set.policies[0]?.tests).toHaveLength(1);
  });
});

describe('the published JSON Schema', () => {
  it('is current in schemas/egress-policy.schema.json (vitest -u rewrites it)', async () => {
    // Formatted as `prettier --check .` expects, so the committed file passes both checks.
    const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
    const text = await prettier.format(JSON.stringify(policyJsonSchema()), { ...options, parser: 'json' });
    await expect(text).toMatchFileSnapshot(`../../${SCHEMA_FILE}`);
  });

  it('lists the decision reasons of the engine', () => {
    expect([...TEST_REASONS]).toEqual([...DECISION_REASONS]);
  });
});
