/**
 * @module engine/groups.test — security groups attached to identities, compiled with a policy
 * set: rule shapes (protocols, port ranges, `-1`, ICMP, IPv4/IPv6, prefix lists, group
 * references), union with policies, the default allow-all rule against guardrails, and what a
 * decision names.
 */
import { describe, expect, it } from 'vitest';
import type { Scope, SecurityGroup, SecurityGroupRule, RuleTarget } from '../model/index.js';
import type { PolicySet } from '../policy-types/index.js';
import { compileWithControlPlane, groupPolicies, ruleLocation } from './groups.js';
import type { AttachedGroup, ControlPlaneInput } from './groups.js';
import { cidr, policy, policySet, rule, selector } from './matcher.suite.js';

const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
const APP = 'spiffe://prod.example/ns/payments/sa/checkout';
const OTHER = 'spiffe://prod.example/ns/ci/sa/builder';
const NOW = Date.parse('2026-11-23T12:00:00Z');

function sg(id: string, name = 'checkout'): SecurityGroup {
  return {
    groupId: id,
    groupName: name,
    description: name,
    vpcId: 'vpc-1',
    ownerId: SCOPE.accountId,
    isDefault: false,
    tags: [],
  };
}

let ruleSeq = 0;
function sgr(
  groupId: string,
  ipProtocol: string,
  fromPort: number,
  toPort: number,
  target: RuleTarget,
  extra: Partial<SecurityGroupRule> = {},
): SecurityGroupRule {
  ruleSeq++;
  return {
    ruleId: `sgr-${ruleSeq.toString(16).padStart(17, '0')}`,
    groupId,
    groupOwnerId: SCOPE.accountId,
    direction: 'egress',
    ipProtocol,
    fromPort,
    toPort,
    target,
    tags: [],
    ...extra,
  };
}

const v4 = (c: string): RuleTarget => ({ kind: 'ipv4', cidr: c });
const v6 = (c: string): RuleTarget => ({ kind: 'ipv6', cidr: c });

function input(groups: AttachedGroup[], more: Partial<ControlPlaneInput> = {}): ControlPlaneInput {
  return { scope: SCOPE, groups, prefixLists: [], ...more };
}

const EMPTY: PolicySet = { policies: [], workloads: [] };

function ask(
  snap: ReturnType<typeof compileWithControlPlane>,
  to: { ip?: string; host?: string; port?: number; protocol?: string; identity?: string },
) {
  return snap.decide({
    identity: to.identity ?? APP,
    ...(to.ip !== undefined ? { ip: to.ip } : {}),
    ...(to.host !== undefined ? { host: to.host } : {}),
    port: to.port ?? 443,
    protocol: to.protocol ?? 'tcp',
    now: NOW,
  });
}

describe('security groups as engine input', () => {
  it('a tcp port range allows exactly its ports, to its CIDR, for the attached identity only', () => {
    const r = sgr('sg-1', 'tcp', 443, 445, v4('192.0.2.0/24'), { description: 'card auth' });
    const snap = compileWithControlPlane(
      EMPTY,
      input([{ group: sg('sg-1'), rules: [r], identities: [APP] }]),
    );
    const d = ask(snap, { ip: '192.0.2.7', port: 444 });
    expect(d).toMatchObject({ allow: true, reason: 'matched', mode: 'enforce' });
    expect(d.matched).toEqual({
      policy: 'sg-1/checkout',
      file: ruleLocation(SCOPE, r.ruleId).file,
      line: 0,
      ruleId: r.ruleId,
      securityGroupRuleId: r.ruleId,
    });
    expect(d.matched?.file).toBe(`arn:aws:ec2:us-east-1:123456789012:security-group-rule/${r.ruleId}`);
    expect(ask(snap, { ip: '192.0.2.7', port: 446 })).toMatchObject({ allow: false, reason: 'no-match' });
    expect(ask(snap, { ip: '198.51.100.1', port: 443 })).toMatchObject({ allow: false });
    expect(ask(snap, { ip: '192.0.2.7', port: 443, protocol: 'udp' })).toMatchObject({ allow: false });
    expect(ask(snap, { ip: '192.0.2.7', identity: OTHER })).toMatchObject({
      allow: false,
      reason: 'unknown-identity',
    });
  });

  it('protocol -1 allows every protocol and port; another number allows that protocol only', () => {
    const all = sgr('sg-1', '-1', -1, -1, v4('10.0.0.0/8'));
    const gre = sgr('sg-1', '47', -1, -1, v4('172.16.0.0/12'));
    const snap = compileWithControlPlane(
      EMPTY,
      input([{ group: sg('sg-1'), rules: [all, gre], identities: [APP] }]),
    );
    expect(ask(snap, { ip: '10.1.2.3', port: 1, protocol: 'udp' }).allow).toBe(true);
    expect(ask(snap, { ip: '10.1.2.3', port: 65535 }).allow).toBe(true);
    expect(ask(snap, { ip: '172.16.0.1', port: 0, protocol: '47' }).allow).toBe(true);
    expect(ask(snap, { ip: '172.16.0.1', port: 443 }).allow).toBe(false);
  });

  it('ICMP rules match ICMP (type and code are not narrowed by the engine), not TCP', () => {
    const ping = sgr('sg-1', 'icmp', 8, -1, v4('192.0.2.0/24'));
    const ping6 = sgr('sg-1', 'icmpv6', -1, -1, v6('2001:db8::/32'));
    const snap = compileWithControlPlane(
      EMPTY,
      input([{ group: sg('sg-1'), rules: [ping, ping6], identities: [APP] }]),
    );
    expect(ask(snap, { ip: '192.0.2.1', port: 0, protocol: 'icmp' }).allow).toBe(true);
    expect(ask(snap, { ip: '2001:db8::1', port: 0, protocol: 'icmpv6' }).allow).toBe(true);
    expect(ask(snap, { ip: '192.0.2.1', port: 8 }).allow).toBe(false);
  });

  it('IPv6 CIDRs match IPv6 addresses only', () => {
    const r = sgr('sg-1', 'tcp', 443, 443, v6('2001:db8::/32'));
    const snap = compileWithControlPlane(
      EMPTY,
      input([{ group: sg('sg-1'), rules: [r], identities: [APP] }]),
    );
    expect(ask(snap, { ip: '2001:db8::5' }).allow).toBe(true);
    expect(ask(snap, { ip: '2001:db9::5' }).allow).toBe(false);
  });

  it('the default allow-all rule allows everything but the guardrails', () => {
    const rules = [sgr('sg-1', '-1', -1, -1, v4('0.0.0.0/0')), sgr('sg-1', '-1', -1, -1, v6('::/0'))];
    const snap = compileWithControlPlane(EMPTY, input([{ group: sg('sg-1'), rules, identities: [APP] }]));
    expect(ask(snap, { ip: '203.0.113.9', port: 25 }).allow).toBe(true);
    expect(ask(snap, { ip: '2001:db8::1', port: 25 }).allow).toBe(true);
    expect(ask(snap, { ip: '169.254.169.254', port: 80 })).toMatchObject({
      allow: false,
      reason: 'guardrail',
    });
    expect(ask(snap, { ip: '127.0.0.1', port: 80 })).toMatchObject({ allow: false, reason: 'guardrail' });
  });

  it('a rule naming a guarded range explicitly opens it, as a policy rule would', () => {
    const r = sgr('sg-1', 'tcp', 8080, 8080, v4('127.0.0.0/8'));
    const snap = compileWithControlPlane(
      EMPTY,
      input([{ group: sg('sg-1'), rules: [r], identities: [APP] }]),
    );
    expect(ask(snap, { ip: '127.0.0.1', port: 8080 }).allow).toBe(true);
  });

  it('prefix-list references resolve to the current entries, by ID', () => {
    const r = sgr('sg-1', 'tcp', 443, 443, { kind: 'prefixList', prefixListId: 'pl-1' });
    const groups = [{ group: sg('sg-1'), rules: [r], identities: [APP] }];
    const before = compileWithControlPlane(
      EMPTY,
      input(groups, { prefixLists: [{ id: 'pl-1', name: 'vendors', cidrs: ['192.0.2.0/24'] }] }),
    );
    expect(ask(before, { ip: '192.0.2.1' }).allow).toBe(true);
    expect(ask(before, { ip: '198.51.100.1' }).allow).toBe(false);
    const after = compileWithControlPlane(
      EMPTY,
      input(groups, { prefixLists: [{ id: 'pl-1', name: 'vendors', cidrs: ['198.51.100.0/24'] }] }),
    );
    expect(ask(after, { ip: '192.0.2.1' }).allow).toBe(false);
    expect(ask(after, { ip: '198.51.100.1' }).allow).toBe(true);
  });

  it('a policy file may name a control-plane prefix list by ID or by name', () => {
    const set = policySet([
      policy(
        'p',
        [selector(OTHER)],
        [rule('by-name', [{ kind: 'prefixList', ref: 'vendors', loc: { file: 'f', line: 1, col: 1 } }])],
      ),
    ]);
    const snap = compileWithControlPlane(
      set,
      input([], { prefixLists: [{ id: 'pl-1', name: 'vendors', cidrs: ['192.0.2.0/24'] }] }),
    );
    expect(ask(snap, { ip: '192.0.2.1', identity: OTHER }).allow).toBe(true);
  });

  it('group references resolve to member addresses when known, else match nothing', () => {
    const r = sgr('sg-1', 'tcp', 5432, 5432, { kind: 'group', groupId: 'sg-db', userId: SCOPE.accountId });
    const groups = [{ group: sg('sg-1'), rules: [r], identities: [APP] }];
    const unknown = compileWithControlPlane(EMPTY, input(groups));
    expect(ask(unknown, { ip: '10.0.5.5', port: 5432 }).allow).toBe(false);
    expect(unknown.stats.unresolved).toEqual(['group:sg-db']);
    const known = compileWithControlPlane(
      EMPTY,
      input(groups, { groupMembers: new Map([['sg-db', ['10.0.5.5/32']]]) }),
    );
    expect(ask(known, { ip: '10.0.5.5', port: 5432 }).allow).toBe(true);
    expect(ask(known, { ip: '10.0.5.6', port: 5432 }).allow).toBe(false);
  });

  it('a reference to a prefix list the namespace no longer holds matches nothing', () => {
    const r = sgr('sg-1', 'tcp', 443, 443, { kind: 'prefixList', prefixListId: 'pl-gone' });
    const snap = compileWithControlPlane(
      EMPTY,
      input([{ group: sg('sg-1'), rules: [r], identities: [APP] }]),
    );
    expect(ask(snap, { ip: '192.0.2.1' }).allow).toBe(false);
  });

  it('union: allowed when any policy or any attached group allows', () => {
    const set = policySet([
      policy('pol', [selector(APP)], [rule('web', [cidr('192.0.2.0/24')], { ports: [443] })]),
    ]);
    const a = sgr('sg-a', 'tcp', 5432, 5432, v4('10.0.0.0/8'));
    const b = sgr('sg-b', 'udp', 53, 53, v4('10.0.0.2/32'));
    const snap = compileWithControlPlane(
      set,
      input([
        { group: sg('sg-a', 'db'), rules: [a], identities: [APP] },
        { group: sg('sg-b', 'dns'), rules: [b], identities: [APP, OTHER] },
      ]),
    );
    expect(ask(snap, { ip: '192.0.2.1' }).matched?.policy).toBe('pol');
    expect(ask(snap, { ip: '10.9.9.9', port: 5432 }).matched?.policy).toBe('sg-a/db');
    expect(ask(snap, { ip: '10.0.0.2', port: 53, protocol: 'udp' }).matched?.policy).toBe('sg-b/dns');
    expect(ask(snap, { ip: '10.0.0.2', port: 53, protocol: 'udp', identity: OTHER }).allow).toBe(true);
    expect(ask(snap, { ip: '10.9.9.9', port: 5432, identity: OTHER }).allow).toBe(false);
    expect(ask(snap, { ip: '198.51.100.1' })).toMatchObject({ allow: false, reason: 'no-match' });
  });

  it('an attached group enforces even when the identity’s policy is in report mode', () => {
    const set = policySet([policy('dry', [selector(APP)], [rule('web', [cidr('192.0.2.0/24')])], 'report')]);
    const r = sgr('sg-1', 'tcp', 443, 443, v4('10.0.0.0/8'));
    const snap = compileWithControlPlane(set, input([{ group: sg('sg-1'), rules: [r], identities: [APP] }]));
    expect(ask(snap, { ip: '198.51.100.1' })).toMatchObject({ allow: false, mode: 'enforce' });
  });

  it('leaves out groups attached to nobody, ingress rules, and duplicate identities', () => {
    const egress = sgr('sg-1', 'tcp', 443, 443, v4('10.0.0.0/8'));
    const ingress = sgr('sg-1', 'tcp', 22, 22, v4('10.0.0.0/8'), { direction: 'ingress' });
    const policies = groupPolicies(
      input([
        { group: sg('sg-1'), rules: [egress, ingress], identities: [APP, APP] },
        { group: sg('sg-2', 'idle'), rules: [egress], identities: [] },
      ]),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.rules.map((r) => r.id)).toEqual([egress.ruleId]);
    expect(policies[0]?.workloads).toHaveLength(1);
    expect(policies[0]?.mode).toBe('enforce');
  });

  it('a group with no egress rule denies (attached, nothing allowed)', () => {
    const snap = compileWithControlPlane(EMPTY, input([{ group: sg('sg-1'), rules: [], identities: [APP] }]));
    expect(ask(snap, { ip: '192.0.2.1' })).toMatchObject({ allow: false, reason: 'no-match' });
  });
});
