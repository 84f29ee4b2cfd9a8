/**
 * @module engine/groups-incremental.test — the control plane compiled part by part: on random
 * policy sets, groups, prefix lists and group members, and after random changes applied one at
 * a time, the `UnionSnapshot` decides as `compileWithControlPlane` over the same input does
 * (allow, mode, reason, guardrail, the rule named, a `no-match`'s nearest rule and what it missed); and
 * a build recompiles only the parts a change reached.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RuleTarget, Scope, SecurityGroup, SecurityGroupRule } from '../model/index.js';
import type { PolicySet } from '../policy-types/index.js';
import { compileWithControlPlane } from './groups.js';
import type { AttachedGroup, ControlPlaneInput } from './groups.js';
import { ControlPlaneCompiler } from './groups-incremental.js';
import type { PrefixListContent } from './groups-incremental.js';
import { NOW, cidr, essence, group, policy, policySet, prefixList, rule, selector } from './matcher.suite.js';
import type { Decision, DecisionRequest } from './types.js';

const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
const IDS = ['spiffe://t/ns/a/sa/a', 'spiffe://t/ns/a/sa/b', 'spiffe://t/ns/b/sa/c'];
const CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '192.0.2.0/24', '0.0.0.0/0', '127.0.0.0/8', '169.254.169.254/32'];
const IPS = ['10.1.2.3', '10.9.9.9', '192.0.2.7', '198.51.100.1', '127.0.0.1', '169.254.169.254'];
const GROUP_IDS = ['sg-0', 'sg-1', 'sg-2', 'sg-3'];

function sg(id: string): SecurityGroup {
  return {
    groupId: id,
    groupName: id,
    description: id,
    vpcId: 'vpc-1',
    ownerId: SCOPE.accountId,
    isDefault: false,
    tags: [],
  };
}

let seq = 0;
const target = fc.oneof(
  fc.constantFrom(...CIDRS).map((c): RuleTarget => ({ kind: 'ipv4', cidr: c })),
  fc.constant<RuleTarget>({ kind: 'prefixList', prefixListId: 'pl-1' }),
  fc.constant<RuleTarget>({ kind: 'group', groupId: 'sg-2', userId: SCOPE.accountId }),
);
const sgRule = (groupId: string) =>
  fc
    .record({ target, proto: fc.constantFrom('tcp', 'udp', '-1'), port: fc.constantFrom(443, 80) })
    .map(({ target: t, proto, port }): SecurityGroupRule => ({
      ruleId: `sgr-${(++seq).toString(16).padStart(8, '0')}`,
      groupId,
      groupOwnerId: SCOPE.accountId,
      direction: 'egress',
      ipProtocol: proto,
      fromPort: proto === '-1' ? -1 : port,
      toPort: proto === '-1' ? -1 : port,
      target: t,
      tags: [],
    }));
const attachedGroup = (groupId: string) =>
  fc.record({
    group: fc.constant(sg(groupId)),
    rules: fc.array(sgRule(groupId), { maxLength: 3 }),
    identities: fc.subarray(IDS),
  });
const listContent = fc
  .subarray(CIDRS.slice(0, 3))
  .map((cidrs): PrefixListContent => ({ id: 'pl-1', name: 'lst', cidrs }));
const members = fc.subarray(['10.1.0.0/16', '198.51.100.0/24']);

const policySetArb = fc
  .array(
    fc.record({
      who: fc.constantFrom(IDS[0] ?? '', 'spiffe://t/ns/a/sa/*'),
      mode: fc.constantFrom('enforce' as const, 'report' as const),
      to: fc.constantFrom(cidr('10.0.0.0/8'), cidr('127.0.0.1/32'), prefixList('lst'), group('sg-2')),
      port: fc.constantFrom(443, 80),
      expired: fc.boolean(),
    }),
    { maxLength: 2 },
  )
  .map((ps) =>
    policySet(
      ps.map((p, i) =>
        policy(
          `p${i}`,
          [selector(p.who)],
          [rule(`r${i}`, [p.to], { ports: [p.port], ...(p.expired ? { expires: NOW - 1000 } : {}) })],
          p.mode,
        ),
      ),
    ),
  );

type Change =
  | { kind: 'group'; group: AttachedGroup }
  | { kind: 'remove'; groupId: string }
  | { kind: 'list'; list: PrefixListContent | undefined }
  | { kind: 'members'; cidrs: string[] }
  | { kind: 'set'; set: PolicySet };
const change: fc.Arbitrary<Change> = fc.oneof(
  fc
    .constantFrom(...GROUP_IDS)
    .chain((id) => attachedGroup(id).map((group): Change => ({ kind: 'group', group }))),
  fc.constantFrom(...GROUP_IDS).map((groupId): Change => ({ kind: 'remove', groupId })),
  fc.option(listContent, { nil: undefined }).map((list): Change => ({ kind: 'list', list })),
  members.map((cidrs): Change => ({ kind: 'members', cidrs })),
  policySetArb.map((set): Change => ({ kind: 'set', set })),
);

/** The same state kept as plain input, for `compileWithControlPlane`. */
function inputOf(
  compiler: ControlPlaneCompiler,
  list: PrefixListContent | undefined,
  sg2: string[],
): ControlPlaneInput {
  return {
    scope: SCOPE,
    groups: compiler.groupIds().map((id) => compiler.group(id) as AttachedGroup),
    prefixLists: list === undefined ? [] : [list],
    groupMembers: new Map([['sg-2', sg2]]),
  };
}

const requests: DecisionRequest[] = [];
for (const identity of [...IDS, 'spiffe://t/ns/z/sa/unknown'])
  for (const ip of IPS)
    for (const port of [443, 80])
      for (const protocol of ['tcp', 'udp']) requests.push({ identity, ip, port, protocol, now: NOW });

/** What both must agree on: everything, a `no-match`'s nearest rule included. */
function agreed(d: Decision): Record<string, unknown> {
  return essence(d);
}

describe('the control plane compiled part by part', () => {
  it('decides as one compile of the same input, after every change', () => {
    fc.assert(
      fc.property(
        fc.tuple(...GROUP_IDS.map(attachedGroup)),
        fc.option(listContent, { nil: undefined }),
        members,
        policySetArb,
        fc.array(change, { maxLength: 4 }),
        (groups, list0, members0, set0, changes) => {
          const compiler = new ControlPlaneCompiler(SCOPE);
          let list = list0;
          let sg2 = members0;
          let set = set0;
          for (const g of groups) compiler.putGroup(g);
          if (list !== undefined) compiler.putPrefixList(list);
          compiler.setGroupMembers(new Map([['sg-2', sg2]]));
          const check = (): void => {
            const union = compiler.build(set, 'v');
            const whole = compileWithControlPlane(set, inputOf(compiler, list, sg2), { version: 'v' });
            for (const r of requests) expect(agreed(union.decide(r))).toEqual(agreed(whole.decide(r)));
            expect(union.stats.rules).toBe(whole.stats.rules);
          };
          check();
          for (const c of changes) {
            if (c.kind === 'group') compiler.putGroup(c.group);
            else if (c.kind === 'remove') compiler.removeGroup(c.groupId);
            else if (c.kind === 'list') {
              list = c.list;
              if (list === undefined) compiler.removePrefixList('pl-1');
              else compiler.putPrefixList(list);
            } else if (c.kind === 'members') {
              sg2 = c.cidrs;
              compiler.setGroupMembers(new Map([['sg-2', sg2]]));
            } else set = c.set;
            check();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('recompiles only the parts a change reaches', () => {
    const compiler = new ControlPlaneCompiler(SCOPE);
    const g = (id: string, t: RuleTarget, identity: string): AttachedGroup => ({
      group: sg(id),
      rules: [
        {
          ruleId: `sgr-${id}`,
          groupId: id,
          groupOwnerId: SCOPE.accountId,
          direction: 'egress',
          ipProtocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          target: t,
          tags: [],
        },
      ],
      identities: [identity],
    });
    compiler.putGroup(g('sg-0', { kind: 'ipv4', cidr: '10.0.0.0/8' }, IDS[0] ?? ''));
    compiler.putGroup(g('sg-1', { kind: 'prefixList', prefixListId: 'pl-1' }, IDS[1] ?? ''));
    compiler.putGroup(g('sg-3', { kind: 'group', groupId: 'sg-2', userId: SCOPE.accountId }, IDS[2] ?? ''));
    compiler.putPrefixList({ id: 'pl-1', name: 'lst', cidrs: ['192.0.2.0/24'] });
    const set = policySet([
      policy('p', [selector(IDS[0])], [rule('r', [prefixList('lst')], { ports: [443] })]),
    ]);
    compiler.build(set, 'v1');
    const parts = (): unknown[] => ['sg-0', 'sg-1', 'sg-3'].map((id) => compiler.compiledGroup(id));
    let before = parts();
    // The same list content again changes nothing.
    compiler.putPrefixList({ id: 'pl-1', name: 'lst', cidrs: ['192.0.2.0/24'] });
    compiler.build(set, 'v2');
    expect(parts()).toEqual(before);
    // The list's entries: its referencing group (and the set, by name) only.
    compiler.putPrefixList({ id: 'pl-1', name: 'lst', cidrs: ['198.51.100.0/24'] });
    const snap = compiler.build(set, 'v3');
    let after = parts();
    expect([after[0] === before[0], after[1] === before[1], after[2] === before[2]]).toEqual([
      true,
      false,
      true,
    ]);
    expect(
      snap.decide({ identity: IDS[0] ?? '', ip: '198.51.100.1', port: 443, protocol: 'tcp', now: NOW }),
    ).toMatchObject({
      allow: true,
      matched: { policy: 'p', ruleId: 'r' },
    });
    // sg-2's members: the group referencing sg-2 only.
    before = after;
    compiler.setGroupMembers(new Map([['sg-2', ['10.1.0.0/16']]]));
    compiler.build(set, 'v4');
    after = parts();
    expect([after[0] === before[0], after[1] === before[1], after[2] === before[2]]).toEqual([
      true,
      true,
      false,
    ]);
    // A part that does not compile keeps nothing; the next build tries again.
    before = after;
    const bad = g('sg-0', { kind: 'ipv4', cidr: 'not-a-cidr' }, IDS[0] ?? '');
    compiler.putGroup(bad);
    expect(() => compiler.build(set, 'v5')).toThrow(/not an IPv4 CIDR/);
    compiler.putGroup(g('sg-0', { kind: 'ipv4', cidr: '10.2.0.0/16' }, IDS[0] ?? ''));
    compiler.build(set, 'v6');
    after = parts();
    expect([after[0] === before[0], after[1] === before[1], after[2] === before[2]]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('a report-mode policy dry-runs only for identities with no group attached', () => {
    const compiler = new ControlPlaneCompiler(SCOPE);
    const set = policySet([
      policy('dry', [selector('spiffe://t/ns/a/sa/*')], [rule('r', [cidr('10.0.0.0/8')])], 'report'),
    ]);
    compiler.putGroup({ group: sg('sg-0'), rules: [], identities: [IDS[0] ?? ''] });
    const snap = compiler.build(set, 'v');
    const ask = (identity: string): Decision =>
      snap.decide({ identity, ip: '192.0.2.1', port: 443, protocol: 'tcp', now: NOW }, true);
    expect(ask(IDS[1] ?? '')).toMatchObject({ allow: true, mode: 'report', reason: 'no-match' });
    expect(ask(IDS[0] ?? '')).toMatchObject({ allow: false, mode: 'enforce', reason: 'no-match' });
    expect(ask(IDS[0] ?? '').evalNs).toBeGreaterThan(0);
    expect(
      snap.explain({ identity: IDS[0] ?? '', ip: '192.0.2.1', port: 443, protocol: 'tcp', now: NOW })
        .nearMisses,
    ).toHaveLength(1);
  });
});
