/**
 * @module engine/engine.property.test — property: on random policy sets and random requests the compiled snapshot decides exactly as
 * the naive evaluator does (allow, mode, reason, the rule named, the guardrail hit).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIpv4Cidr, canonicalIpv6Cidr } from '../model/index.js';
import type { Destination, Mode, RegisteredWorkload } from '../policy-types/index.js';
import { compilePolicySet } from './compile.js';
import { NaiveEvaluator } from './naive.js';
import {
  NOW,
  cidr,
  essence,
  fqdn,
  group,
  policy,
  policySet,
  prefixList,
  rule,
  selector,
} from './matcher.suite.js';
import type { DecisionRequest } from './types.js';

const IDENTITIES = [
  'spiffe://a/ns/x/sa/p',
  'spiffe://a/ns/x/sa/q',
  'spiffe://a/ns/y/sa/p',
  'spiffe://a/ns/y/sa/qq',
  'spiffe://b/ns/x/sa/p',
  'sa-payments',
];
const UNKNOWN = ['spiffe://a/ns/z/sa/p', 'spiffe://c', 'sa-search', 'spiffe://a'];
const GLOBS = [
  'spiffe://a/ns/x/sa/*',
  'spiffe://a/**',
  'spiffe://a/ns/*/sa/p',
  'spiffe://*/ns/x/**',
  'spiffe://a/ns/y/sa/q*',
  'sa-*',
  '**',
];
const LABELS = [{ env: 'prod' }, { env: 'dev' }, { team: 't1' }, { env: 'prod', team: 't2' }];

const NAMES = ['example.com', 'api.example.com', 'a.b.example.com', 'stripe.network', 'com', 'b.example.com'];
const HOSTS = [
  ...NAMES,
  'x.api.example.com',
  'm.stripe.network',
  'a.m.stripe.network',
  'other.org',
  'q.b.example.com',
  'api.example.co',
];

const V4_BASES = [
  '10.0.0.0',
  '10.1.2.3',
  '169.254.169.254',
  '169.254.1.1',
  '127.0.0.1',
  '0.0.0.0',
  '8.8.8.8',
  '224.0.0.5',
  '255.255.255.255',
  '192.0.2.200',
];
const V6_BASES = [
  '2001:db8::',
  '2001:db8:0:1::7',
  '::ffff:7f00:1',
  '::ffff:808:808',
  '64:ff9b::a9fe:a9fe',
  'fe80::1',
  '2002:7f00:1::',
  '2001:0:4136:e378:8000:63bf:80ff:fffe',
  '::1',
  'fd00:ec2::254',
  '2606:4700::1111',
];

const v4Cidr = fc
  .tuple(fc.constantFrom(...V4_BASES), fc.integer({ min: 0, max: 32 }))
  .map(([a, l]) => canonicalIpv4Cidr(`${a}/${l}`));
const v6Cidr = fc
  .tuple(fc.constantFrom(...V6_BASES), fc.integer({ min: 0, max: 128 }))
  .map(([a, l]) => canonicalIpv6Cidr(`${a}/${l}`));
const anyCidr = fc.oneof(v4Cidr, v6Cidr);

const destination: fc.Arbitrary<Destination> = fc.oneof(
  fc.tuple(fc.constantFrom('', '*.', '**.'), fc.constantFrom(...NAMES)).map(([w, n]) => fqdn(w + n)),
  anyCidr.map(cidr),
  fc.constantFrom('pl-1', 'pl-2', 'pl-3').map(prefixList),
  fc.constantFrom('sg-1', 'sg-2').map(group),
);

const PORTS = [22, 53, 80, 443, 8080];
const portSpec = fc.oneof(
  fc.constant([] as (number | [number, number])[]),
  fc.array(
    fc.oneof(
      fc.constantFrom(...PORTS),
      fc.constant<[number, number]>([8000, 8100]),
      fc.constant<[number, number]>([1, 1024]),
    ),
    {
      minLength: 1,
      maxLength: 2,
    },
  ),
);

const ruleDraft = (id: string) =>
  fc
    .record({
      to: fc.array(destination, { minLength: 1, maxLength: 3 }),
      ports: portSpec,
      protocol: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp', '-1', '6', '47', 'icmpv6'),
      expires: fc.option(fc.constantFrom(NOW - 86_400_000, NOW - 1, NOW, NOW + 1, NOW + 86_400_000), {
        nil: undefined,
      }),
      owner: fc.option(fc.constantFrom('team-a@example.com', 'team-b@example.com'), { nil: undefined }),
    })
    .map((r) =>
      rule(id, r.to, {
        ports: r.ports,
        protocol: r.protocol,
        ...(r.expires === undefined ? {} : { expires: r.expires }),
        ...(r.owner === undefined ? {} : { owner: r.owner }),
      }),
    );

const workloadSelector = fc.oneof(
  fc.constantFrom(...IDENTITIES).map((id) => selector(id)),
  fc.constantFrom(...GLOBS).map((g) => selector(g)),
  fc.constantFrom(...LABELS).map((l) => selector(undefined, l)),
  fc
    .tuple(fc.constantFrom(...IDENTITIES, ...GLOBS), fc.constantFrom(...LABELS))
    .map(([id, l]) => selector(id, l)),
);

const policyArb = (name: string) =>
  fc
    .tuple(
      fc.array(workloadSelector, { minLength: 1, maxLength: 2 }),
      fc
        .integer({ min: 0, max: 5 })
        .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => ruleDraft(`r${i}`)))),
      fc.constantFrom<Mode>('enforce', 'enforce', 'report'),
    )
    .map(([ws, rules, mode]) => policy(name, ws, rules, mode));

const setArb = fc
  .tuple(
    fc
      .integer({ min: 1, max: 5 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(`p${i}`)))),
    fc
      .subarray(IDENTITIES)
      .chain((ids) =>
        fc.tuple(
          ...ids.map((identity) =>
            fc.constantFrom(...LABELS).map((labels): RegisteredWorkload => ({ identity, labels })),
          ),
        ),
      ),
    fc.array(fc.array(anyCidr, { maxLength: 3 }), { minLength: 5, maxLength: 5 }),
  )
  .map(([policies, workloads, lists]) => ({
    set: policySet(policies, workloads),
    prefixLists: new Map([
      ['pl-1', lists[0] ?? []],
      ['pl-2', lists[1] ?? []],
      ['pl-3', lists[2] ?? []],
    ]),
    groups: new Map([
      ['sg-1', lists[3] ?? []],
      ['sg-2', lists[4] ?? []],
    ]),
  }));

/** An address near one of the bases (same top bits, random low bits), or a random one. */
const ipArb = fc.oneof(
  fc.constantFrom(...V4_BASES, ...V6_BASES),
  fc
    .tuple(fc.constantFrom(...V4_BASES), fc.integer({ min: 0, max: 255 }))
    .map(([b, x]) => b.replace(/\.\d+$/, `.${x}`)),
  fc
    .tuple(fc.constantFrom(...V6_BASES.filter((b) => !b.endsWith('::'))), fc.integer({ min: 0, max: 0xffff }))
    .map(([b, x]) => b.replace(/:[0-9a-f]*$/, `:${x.toString(16)}`)),
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('not-an-ip', '1.2.3'),
);

const requestArb: fc.Arbitrary<DecisionRequest> = fc
  .record({
    identity: fc.constantFrom(...IDENTITIES, ...UNKNOWN),
    host: fc.option(fc.constantFrom(...HOSTS), { nil: undefined }),
    ip: fc.option(ipArb, { nil: undefined }),
    port: fc.oneof(fc.constantFrom(...PORTS, 8050, 1, 0, 65535), fc.integer({ min: -2, max: 70000 })),
    protocol: fc.constantFrom('tcp', 'tcp', 'udp', 'icmp', 'icmpv6', '6', '17', '47', '-1', 'bogus'),
    nowDelta: fc.constantFrom(0, -2, 2, -86_400_000),
  })
  .map(({ host, ip, nowDelta, ...r }) => ({
    ...r,
    now: NOW + nowDelta,
    ...(host === undefined ? {} : { host }),
    ...(ip === undefined ? {} : { ip }),
  }));

describe('compiled engine ≡ naive evaluator', () => {
  it('decides identically on random policy sets and requests', () => {
    fc.assert(
      fc.property(
        setArb,
        fc.array(requestArb, { minLength: 1, maxLength: 30 }),
        ({ set, prefixLists, groups }, requests) => {
          const opts = { prefixLists, groups, identityCacheSize: 3 };
          // Flat-table sets (the default for sets this small) and tries for every set.
          const snaps = [compilePolicySet(set, opts), compilePolicySet(set, { ...opts, smallSetMax: 0 })];
          const naive = new NaiveEvaluator(set, opts);
          for (const r of requests) {
            const want = essence(naive.decide(r));
            for (const snap of snaps) {
              expect(essence(snap.decide(r)), JSON.stringify(r)).toEqual(want);
              // Again, now served from the identity and decision caches.
              expect(essence(snap.decide(r))).toEqual(want);
              expect(snap.decide(r).matched).toEqual(naive.decide(r).matched);
            }
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('covers every outcome (the generators reach each reason and mode)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        setArb,
        fc.array(requestArb, { minLength: 20, maxLength: 20 }),
        ({ set, prefixLists, groups }, requests) => {
          const snap = compilePolicySet(set, { prefixLists, groups });
          for (const r of requests) {
            const d = snap.decide(r);
            seen.add(`${d.reason}/${d.mode}/${d.allow}`);
          }
        },
      ),
      { numRuns: 400, seed: 42 },
    );
    for (const outcome of [
      'matched/enforce/true',
      'matched/report/true',
      'no-match/enforce/false',
      'no-match/report/true',
      'expired/enforce/false',
      'expired/report/true',
      'guardrail/enforce/false',
      'unknown-identity/enforce/false',
      'error/enforce/false',
    ]) {
      expect(seen).toContain(outcome);
    }
  });
});
