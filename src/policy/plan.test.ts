/**
 * @module policy/plan.test — the pure half of plan/apply: rule expansion, descriptions within
 * EC2's charset, identity, and the diff.
 */
import { describe, expect, it } from 'vitest';
import { isValidRuleDescription } from '../model/index.js';
import { loadPolicySources } from './load.js';
import {
  canonicalProtocol,
  desiredState,
  diffRules,
  diffState,
  formatPlanText,
  ruleIdentity,
  sanitizeDescription,
} from './plan.js';
import type { CurrentRule, DesiredRule } from './plan.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');

function set(rules: string, mode = 'enforce') {
  const text = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: p1, owner: o@example.com }
spec:
  mode: ${mode}
  workloads: [{ identity: spiffe://x/a }]
  rules:
${rules}`;
  const loaded = loadPolicySources([{ file: 'p.yaml', text }]);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.set;
}

describe('sanitizeDescription', () => {
  it('keeps allowed text, maps & to and, drops quotes, collapses the rest', () => {
    expect(sanitizeDescription('weir:a Card auth & capture "3DS" — EU <only>')).toBe(
      'weir:a Card auth and capture 3DS EU only',
    );
  });
  it('always yields a valid EC2 rule description, at most 255 characters', () => {
    const long = sanitizeDescription(`weir:x ${'émoji 🎉 ~`^%|\\ '.repeat(80)}`);
    expect(long.startsWith('weir:x emoji emoji')).toBe(true);
    expect(long.length).toBeLessThanOrEqual(255);
    expect(long.endsWith('...')).toBe(true);
    expect(isValidRuleDescription(long)).toBe(true);
  });
});

describe('desiredState', () => {
  it('expands destinations × port ranges, with ports per protocol', () => {
    const s =
      set(`    - { id: web, to: [{ cidr: 10.0.0.0/8 }, { cidr: '2001:db8::/32' }], ports: [80, '8000-8010'], justification: j, expires: 2027-01-01 }
    - { id: any-tcp, to: [{ cidr: 10.1.0.0/16 }], protocol: tcp, justification: j, expires: 2027-01-01 }
    - { id: ping, to: [{ cidr: 10.2.0.0/16 }], protocol: icmp, justification: j, expires: 2027-01-01 }
    - { id: all, to: [{ prefixList: pl-0123456789abcdef0 }, { group: sg-0123456789abcdef0 }], protocol: all, justification: j, expires: 2027-01-01 }`);
    const d = desiredState(s, { now: NOW });
    const rules = d.groups[0]!.rules.map(
      (r) => `${r.policyRule} ${r.protocol} ${r.fromPort}:${r.toPort} ${JSON.stringify(r.target)}`,
    );
    expect(rules).toEqual([
      'web tcp 80:80 {"kind":"ipv4","cidr":"10.0.0.0/8"}',
      'web tcp 8000:8010 {"kind":"ipv4","cidr":"10.0.0.0/8"}',
      'web tcp 80:80 {"kind":"ipv6","cidr":"2001:db8::/32"}',
      'web tcp 8000:8010 {"kind":"ipv6","cidr":"2001:db8::/32"}',
      'any-tcp tcp 0:65535 {"kind":"ipv4","cidr":"10.1.0.0/16"}',
      'ping icmp -1:-1 {"kind":"ipv4","cidr":"10.2.0.0/16"}',
      'all -1 -1:-1 {"kind":"prefixList","id":"pl-0123456789abcdef0"}',
      'all -1 -1:-1 {"kind":"group","id":"sg-0123456789abcdef0"}',
    ]);
    expect(d.groups[0]).toMatchObject({
      name: 'weir-p1',
      tags: { 'weir:policy': 'p1', 'weir:owner': 'o@example.com', 'weir:managed': 'true' },
    });
  });

  it('skips FQDNs, expired rules, unresolved names and duplicates, each with a note', () => {
    const s =
      set(`    - { id: a, to: [{ fqdn: '*.example.com' }, { cidr: 10.0.0.0/8 }], ports: [443], justification: j, expires: 2027-01-01 }
    - { id: b, to: [{ cidr: 10.0.0.0/8 }], ports: [443], justification: j, expires: 2027-01-01 }
    - { id: c, to: [{ cidr: 10.9.0.0/16 }], ports: [443], justification: j, expires: 2026-06-01 }
    - { id: d, to: [{ prefixList: corp-ranges }, { prefixList: named }], ports: [443], justification: j, expires: 2027-01-01 }`);
    const d = desiredState(s, { now: NOW, refs: new Map([['prefixList:named', 'pl-0aaaaaaaaaaaaaaaa']]) });
    expect(d.notes).toEqual([
      'p1/a: fqdn *.example.com skipped: a prefix list cannot enumerate the names of a wildcard; the gateway enforces it by name',
      'p1/b: tcp 443 -> 10.0.0.0/8 duplicates rule a; kept a',
      'p1/c: expired 2026-06-01; not applied',
      'p1/d: prefixList corp-ranges not found; skipped',
    ]);
    expect(d.groups[0]!.rules.map((r) => r.policyRule)).toEqual(['a', 'd']);
  });

  it('report mode keeps allow-all egress', () => {
    const d = desiredState(
      set(
        `    - { id: a, to: [{ cidr: 10.0.0.0/8 }], ports: [443], justification: j, expires: 2027-01-01 }`,
        'report',
      ),
      { now: NOW },
    );
    expect(d.groups[0]!.rules.filter((r) => r.protocol === '-1').map((r) => r.policyRule)).toEqual([
      'report-mode',
      'report-mode',
    ]);
    expect(d.notes).toContain('p1: mode report: allow-all egress kept');
  });
});

describe('diff', () => {
  const desired: DesiredRule = {
    protocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    target: { kind: 'ipv4', cidr: '10.0.0.0/8' },
    description: 'weir:a j',
    tags: { 'weir:rule-id': 'a', 'weir:owner': 'o' },
    policyRule: 'a',
  };
  const current = (over: Partial<CurrentRule> = {}): CurrentRule => ({
    ...desired,
    ruleId: 'sgr-1',
    tags: { 'weir:rule-id': 'a', 'weir:owner': 'o', team: 'x' },
    ...over,
  });

  it('identity ignores intent and reads protocol numbers as names', () => {
    expect(canonicalProtocol('6')).toBe('tcp');
    expect(ruleIdentity({ ...desired, protocol: '6' })).toBe(ruleIdentity(current({ description: 'other' })));
    expect(ruleIdentity({ ...desired, protocol: '-1', fromPort: 0 })).toBe(
      ruleIdentity({ ...desired, protocol: '-1', fromPort: -1, toPort: -1 }),
    );
  });

  it('matches by identity, changes only drifted intent, leaves foreign tags alone', () => {
    expect(diffRules([desired], [current()])).toEqual({ add: [], change: [], revoke: [] });
    const drift = diffRules(
      [desired],
      [current({ description: 'old', tags: { 'weir:owner': 'p', 'weir:x': '1' } })],
    );
    expect(drift.change).toHaveLength(1);
    expect(drift.change[0]).toMatchObject({
      description: 'weir:a j',
      setTags: { 'weir:rule-id': 'a', 'weir:owner': 'o' },
      deleteTags: ['weir:x'],
    });
    const moved = diffRules([{ ...desired, fromPort: 444, toPort: 444 }], [current()]);
    expect([moved.add.length, moved.change.length, moved.revoke.length]).toEqual([1, 0, 1]);
  });

  it('a new group revokes the allow-all defaults EC2 adds (both families in an IPv6 VPC)', () => {
    const d = desiredState(
      set(`    - { id: a, to: [{ cidr: 10.0.0.0/8 }], ports: [443], justification: j, expires: 2027-01-01 }`),
      { now: NOW },
    );
    const plan = diffState(d, [], { vpcId: 'vpc-1', vpcHasIpv6: true });
    expect(plan.summary).toEqual({ add: 2, change: 0, revoke: 2 });
    expect(formatPlanText(plan)).toBe(
      [
        '+ sg weir-p1 (new, in vpc-1)',
        '  + egress tcp 443 -> 10.0.0.0/8 (a)',
        '  - egress all -> 0.0.0.0/0 (default allow-all)',
        '  - egress all -> ::/0 (default allow-all)',
        '',
        'Plan: 2 to add, 0 to change, 2 to revoke.',
        '',
      ].join('\n'),
    );
  });
});

describe('stale FQDN lists', () => {
  const managed = [
    { listName: 'weir-fqdn-old.example-ipv4', id: 'pl-old4', fqdn: 'old.example' },
    { listName: 'weir-fqdn-kept.example-ipv4', id: 'pl-kept4', fqdn: 'kept.example' },
  ];
  const ruleTo = (ruleId: string, id: string): CurrentRule => ({
    ruleId,
    protocol: 'tcp',
    fromPort: 443,
    toPort: 443,
    target: { kind: 'prefixList', id },
    description: '',
    tags: {},
  });
  const d = desiredState(
    set(`    - { id: a, to: [{ cidr: 10.0.0.0/8 }], ports: [443], justification: j, expires: 2027-01-01 }`),
    { now: NOW },
  );
  const orphan = {
    groupId: 'sg-orphan',
    name: 'weir-gone',
    tags: { 'weir:managed': 'true', 'weir:policy': 'gone' },
    rules: [ruleTo('sgr-2', 'pl-kept4')],
  };
  const mine = {
    groupId: 'sg-p1',
    name: 'weir-p1',
    tags: {},
    rules: [ruleTo('sgr-1', 'pl-old4')],
  };

  it('deletes lists no policy names; keeps, with a note, one an orphaned group still uses', () => {
    const plan = diffState(d, [mine, orphan], { vpcId: 'vpc-1', managedLists: managed });
    expect(plan.deleteLists.map((l) => l.id)).toEqual(['pl-old4']);
    expect(plan.notes).toContain(
      'pl weir-fqdn-kept.example-ipv4 (pl-kept4): no policy names kept.example any more, but weir-gone still references it; kept',
    );
    // The rule to the stale list is revoked (before the list goes), and the deletion counts.
    expect(plan.groups.find((g) => g.name === 'weir-p1')?.revoke.map((r) => r.ruleId)).toEqual(['sgr-1']);
    expect(plan.summary.revoke).toBe(2);
    expect(formatPlanText(plan)).toContain(
      '- pl weir-fqdn-old.example-ipv4 (pl-old4, no policy names old.example; deleted after the groups)\n',
    );
  });

  it('with --prune the orphaned group goes, and its list with it', () => {
    const plan = diffState(d, [mine, orphan], { vpcId: 'vpc-1', managedLists: managed, prune: true });
    expect(plan.deleteLists.map((l) => l.id)).toEqual(['pl-old4', 'pl-kept4']);
  });

  it('a list the set still names is not touched', () => {
    const plan = diffState({ ...d, fqdnLists: [{ ...managed[0]!, family: 'ipv4' }] }, [], {
      vpcId: 'vpc-1',
      managedLists: [managed[0]!],
    });
    expect(plan.deleteLists).toEqual([]);
  });
});
