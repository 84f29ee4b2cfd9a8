/**
 * @module test/check-hostile — `weir check --policy examples/policies` on generated arguments:
 * every spelling of a destination (names, IP literals in every form, ports, protocols, junk),
 * identities and times. Each call either answers (exit 0 or 1, with an explanation that names the
 * identity) or refuses with a usage error naming the flag; nothing else is thrown.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { WeirError } from '../../src/model/index.js';

const POLICY = new URL('../../examples/policies', import.meta.url).pathname;
const NOW = Date.parse('2026-06-01T00:00:00Z');

const anyText = fc.string({
  unit: fc.integer({ min: 0, max: 0x3000 }).map((c) => String.fromCharCode(c)),
  maxLength: 30,
});

const host = fc.oneof(
  fc.domain(),
  fc.constantFrom(
    'api.stripe.com',
    'API.Stripe.com.',
    'registry.npmjs.org',
    'bücher.example',
    'xn--bcher-kva.example',
    '127.0.0.1',
    '127.1',
    '0x7f.1',
    '017700000001',
    '2130706433',
    '169.254.169.254',
    '[::1]',
    '[::ffff:169.254.169.254]',
    '[fe80::1%eth0]',
    '[64:ff9b::a9fe:a9fe]',
    '[2002:a9fe:a9fe::]',
    '::1',
    '10.0.0.1/8',
    '',
    '.',
    '*',
    '*.example.com',
    '[',
    ']',
    'a..b',
    '-a.example',
    'a'.repeat(300),
  ),
  fc.ipV4(),
  fc.ipV6().map((a) => `[${a}]`),
  anyText,
);
const port = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('443', '80', '5432', '22') },
  fc.integer({ min: 0, max: 70_000 }).map(String),
  fc.constantFrom('', 'https', '-1', '443x', '1e3'),
);
const proto = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('tcp', 'udp') },
  fc.constantFrom('icmp', 'TCP', '-1', 'all', '6', '', 'sctp'),
  anyText,
);
const to = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(host, fc.option(port, { freq: 8 }), fc.option(proto, { freq: 2 }))
      .map(([h, p, pr]) => `${h}${p === null ? '' : `:${p}`}${pr === null ? '' : `/${pr}`}`),
  },
  anyText,
);
const from = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'spiffe://prod.example/ns/payments/sa/checkout',
      'spiffe://prod.example/ns/ci/sa/builder',
      'spiffe://prod.example/ns/analytics/sa/etl',
    ),
  },
  fc.constantFrom(
    'spiffe://prod.example/ns/payments/sa/checkout',
    'spiffe://prod.example/ns/ci/sa/builder',
    'spiffe://prod.example/ns/nobody/sa/none',
    'system:serviceaccount:payments:checkout',
    'spiffe://prod.example/ns/*/sa/x',
    'a b',
    '',
  ),
  anyText,
);
const at = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  fc.oneof(
    fc.constantFrom(
      '2026-06-01',
      '2026-02-30',
      '2026-06-01T00:00:00Z',
      '2026-06-01T25:00:00Z',
      'yesterday',
      '',
      '1e12',
      '2026-06-01T00:00:00',
    ),
    anyText,
  ),
);

describe('weir check on generated arguments', () => {
  test('answers with an explanation, or refuses with a usage error naming the flag', async () => {
    await fc.assert(
      fc.asyncProperty(
        from,
        to,
        at,
        fc.oneof({ weight: 8, arbitrary: fc.constantFrom('text', 'json') }, fc.constant('yaml')),
        async (f, t, a, format) => {
          let out = '';
          try {
            const code = await runCheck(
              { from: f, to: t, policy: POLICY, format, ...(a === null ? {} : { at: a }) },
              { write: (s) => (out += s), now: () => NOW, resolve: () => Promise.resolve([]) },
            );
            expect([0, 1]).toContain(code);
            if (format === 'json') {
              const body = JSON.parse(out) as { decisions?: unknown[] };
              expect(JSON.stringify(body)).toContain(JSON.stringify(f).slice(1, -1));
            } else expect(out).toContain(f);
          } catch (err) {
            expect(err, String(err)).toBeInstanceOf(WeirError);
            const message = (err as Error).message;
            expect(message, message).toMatch(/^--(from|to|at|format)\b/);
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});
