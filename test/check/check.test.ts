/**
 * @module test/check — `weir check` on examples/policies: each kind of decision with its
 * explanation (golden text), the JSON shape, `--resolve` with an injected resolver, usage
 * errors, and the exit codes of a real process (0 allow, 1 deny, 2 usage). Update the goldens
 * with `npx vitest run test/check -u` and review the diff.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import type { CheckFlags, Resolver } from '../../src/cli/check.js';

const POLICY = 'examples/policies';
const GOLDEN = '../fixtures/policies/check-expected';
const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';
const AT = '2026-12-01';

/** `weir check` in process; `at` defaults to AT, and `null` leaves it out (the clock decides). */
async function check(
  flags: Partial<Omit<CheckFlags, 'at'>> & { at?: string | null },
  resolve?: Resolver,
): Promise<{ code: number; out: string }> {
  let out = '';
  const { at = AT, ...rest } = flags;
  const code = await runCheck(
    {
      from: CHECKOUT,
      to: 'api.stripe.com:443',
      policy: POLICY,
      format: 'text',
      // Without a resolver of its own, a test checks by name: the system resolver is not asked.
      ...(resolve === undefined ? { resolve: false } : {}),
      ...rest,
      ...(at !== null ? { at } : {}),
    },
    {
      write: (s) => (out += s),
      now: () => Date.parse('2026-12-01T12:00:00Z'),
      ...(resolve !== undefined ? { resolve } : {}),
    },
  );
  return { code, out };
}

describe('weir check, text', () => {
  it.each([
    ['allow', {}, 0],
    ['no-match', { to: 'api.stripe.com:80' }, 1],
    ['no-match-name', { to: 'example.com:443' }, 1],
    ['expired', { to: 'api.sift.com:443', at: '2027-04-01' }, 1],
    ['guardrail', { to: '169.254.169.254:80' }, 1],
    ['unknown-identity', { from: 'spiffe://prod.example/ns/payments/sa/checkou' }, 1],
    ['report', { from: 'spiffe://prod.example/ns/analytics/sa/events', to: 'example.com:443' }, 0],
    ['ipv6', { from: 'spiffe://prod.example/ns/ci/sa/builder', to: '[fd12:3456:789a::1]:8080' }, 0],
  ] as const)('%s', async (name, flags, code) => {
    const r = await check(flags);
    expect(r.code).toBe(code);
    await expect(r.out).toMatchFileSnapshot(`${GOLDEN}/${name}.text.golden`);
  });

  it('shows the matched rule with file:line, owner and expiry', async () => {
    const { out } = await check({});
    expect(out.split('\n').slice(0, 10)).toEqual([
      'decision:  allow',
      `request:   ${CHECKOUT} -> api.stripe.com:443/tcp`,
      'at:        2026-12-01T00:00:00Z',
      'mode:      enforce',
      'reason:    matched: rule stripe-api of policy payments-checkout allows it',
      `identity:  ${CHECKOUT}`,
      'policy:    payments-checkout',
      'rule:      stripe-api (examples/policies/payments-checkout.yaml:12)',
      'owner:     team-payments@example.com',
      'expires:   2027-06-30',
    ]);
  });

  it('lists the near misses of a denial and why each missed', async () => {
    const { out } = await check({ to: 'api.stripe.com:80' });
    expect(out).toContain(
      'near misses (rules that almost matched, and why not):\n' +
        '  payments-checkout/stripe-api (examples/policies/payments-checkout.yaml:12)\n' +
        '    - port 80 not in 443\n',
    );
  });

  it('decides at the injected now without --at', async () => {
    const { out } = await check({ at: null });
    expect(out).toContain('at:        2026-12-01T12:00:00Z\n');
  });
});

describe('weir check, literal IPv4 spellings', () => {
  it('decides 127.1, 0x7f.1 and 2130706433 as 127.0.0.1, as the gateway does: the guardrail denies', async () => {
    for (const to of ['127.1:80', '0x7f.1:80', '2130706433:80']) {
      const r = await check({ to, format: 'json' });
      expect(r.code, to).toBe(1);
      expect(JSON.parse(r.out)).toMatchObject({
        reason: 'guardrail',
        request: { ip: '127.0.0.1', port: 80 },
      });
    }
  });
});

describe('weir check, JSON', () => {
  it('has the decision, the request, the matched rule and no empty fields', async () => {
    const { code, out } = await check({ format: 'json' });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      decision: 'allow',
      allow: true,
      mode: 'enforce',
      reason: 'matched',
      message: 'rule stripe-api of policy payments-checkout allows it',
      identity: CHECKOUT,
      request: { host: 'api.stripe.com', port: 443, protocol: 'tcp', at: '2026-12-01T00:00:00Z' },
      matched: {
        policy: 'payments-checkout',
        ruleId: 'stripe-api',
        file: 'examples/policies/payments-checkout.yaml',
        line: 12,
        owner: 'team-payments@example.com',
        expires: '2027-06-30',
      },
      nearMisses: [],
      resolved: false,
    });
  });

  it('gives a denial its nearest rule, near misses and a hint', async () => {
    const { code, out } = await check({ format: 'json', to: 'api.sift.com:443', at: '2027-04-01' });
    expect(code).toBe(1);
    const j = JSON.parse(out) as Record<string, unknown>;
    expect(j).toMatchObject({
      decision: 'deny',
      allow: false,
      reason: 'expired',
      matched: { ruleId: 'fraud-scoring', owner: 'fraud-ops@example.com', expires: '2027-03-31' },
      nearMisses: [
        {
          policy: 'payments-checkout',
          ruleId: 'fraud-scoring',
          file: 'examples/policies/payments-checkout.yaml',
          line: 25,
          col: 7,
          why: ['expired 2027-03-31 (owner fraud-ops@example.com)'],
        },
        { ruleId: 'stripe-api', why: ['destination api.sift.com is not api.stripe.com, *.stripe.network'] },
      ],
    });
    expect(j.hint).toMatch(/^if it is still needed, fraud-ops@example\.com renews expires: of fraud-scoring/);
  });

  it('says report mode apart: allowed by the gateway, denied by the policy', async () => {
    const { code, out } = await check({
      format: 'json',
      from: 'spiffe://prod.example/ns/analytics/sa/events',
      to: 'example.com:443',
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      decision: 'deny',
      allow: true,
      mode: 'report',
      reason: 'no-match',
    });
  });

  it('leaves out what is unknown', async () => {
    const { out } = await check({ format: 'json', to: '169.254.169.254:80' });
    const j = JSON.parse(out) as Record<string, unknown>;
    expect(j).toMatchObject({ reason: 'guardrail', guardrail: '169.254.169.254/32 cloud metadata (IMDS)' });
    expect(j).not.toHaveProperty('matched');
    expect(JSON.stringify(j)).not.toContain('securityGroupRuleId');
  });
});

describe('weir check, the template of a denial', () => {
  it('JSON carries { command, rule }: the request command for this identity and destination, and the rule', async () => {
    const { out } = await check({ to: 'api.stripe.com:80', format: 'json' });
    const j = JSON.parse(out) as { template: { command: string; rule: string } };
    expect(j.template.command).toBe(
      `weir exception request --identity ${CHECKOUT} --to api.stripe.com:80 --reason '<why you need it>' --ttl 24h`,
    );
    expect(j.template.rule.split('\n').slice(0, 4)).toEqual([
      `# Add under spec.rules of the policy for ${CHECKOUT}:`,
      '- id: api-stripe-com-80',
      '  to: [{ fqdn: api.stripe.com }]',
      '  ports: [80]',
    ]);
  });

  it('an address is asked for as [v6]:port/udp; a guardrail gets a note and no command; an allow gets nothing', async () => {
    const v6 = JSON.parse((await check({ to: '[fd00::53]:53/udp', format: 'json' })).out) as {
      template: { command: string; rule: string };
    };
    expect(v6.template.command).toContain(" --to '[fd00::53]:53/udp' ");
    expect(v6.template.rule).toContain('  to: [{ cidr: "fd00::53/128" }]\n  ports: [53]\n  protocol: udp\n');
    const guard = JSON.parse((await check({ to: '169.254.169.254:80', format: 'json' })).out) as {
      template: Record<string, string>;
    };
    expect(Object.keys(guard.template)).toEqual(['note']);
    const allow = JSON.parse((await check({ format: 'json' })).out) as Record<string, unknown>;
    expect(allow).not.toHaveProperty('template');
    expect((await check({})).out).not.toContain('weir exception request');
  });
});

describe('weir check resolves as the gateway does (the default)', () => {
  const fake: Resolver = async (host) => {
    if (host === 'db.payments.internal') return ['10.20.0.5', '10.99.0.1'];
    if (host === 'api.stripe.com') return ['203.0.113.7', '169.254.169.254'];
    if (host === 'api.sift.com') return ['169.254.169.254'];
    throw Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' });
  };

  it('says deny on its first line where the gateway denies: a name allowed by name, only at a guarded address', async () => {
    const { code, out } = await check({ to: 'api.sift.com:443' }, fake);
    expect(code).toBe(1);
    expect(out.split('\n').slice(0, 3)).toEqual([
      'decision:  deny',
      'resolved:  api.sift.com -> 169.254.169.254 (as the gateway resolves; each address is decided)',
      'denied:    169.254.169.254: guardrail',
    ]);
  });

  it('allows where the gateway allows, naming the address it never connects to and why', async () => {
    const { code, out } = await check({ to: 'api.stripe.com:443' }, fake);
    expect(code).toBe(0);
    await expect(out).toMatchFileSnapshot(`${GOLDEN}/resolve.text.golden`);
    expect(out.split('\n')[0]).toBe('decision:  allow');
    expect(out).toContain(
      'denied:    169.254.169.254: guardrail; the gateway never connects to it (203.0.113.7 is allowed)\n',
    );
  });

  it('--resolve is accepted and changes nothing', async () => {
    expect(await check({ to: 'api.stripe.com:443', resolve: true }, fake)).toEqual(
      await check({ to: 'api.stripe.com:443' }, fake),
    );
  });

  it('reports the final decision and each address in JSON', async () => {
    const { code, out } = await check({ to: 'db.payments.internal:5432', format: 'json' }, fake);
    expect(code).toBe(0);
    const j = JSON.parse(out) as {
      decision: string;
      reason: string;
      request: { ip: string };
      denied: { ip: string; reason: string }[];
      addresses: { request: { ip: string }; reason: string }[];
    };
    expect([j.decision, j.reason, j.request.ip]).toEqual(['allow', 'matched', '10.20.0.5']);
    expect(j.denied).toEqual([{ ip: '10.99.0.1', reason: 'no-match' }]);
    expect(j.addresses.map((a) => [a.request.ip, a.reason])).toEqual([
      ['10.20.0.5', 'matched'],
      ['10.99.0.1', 'no-match'],
    ]);
  });

  it('a name denied at a guarded address: the note names that address, and no command', async () => {
    const { out } = await check({ to: 'api.sift.com:443', format: 'json' }, fake);
    const j = JSON.parse(out) as { template: Record<string, string> };
    expect(Object.keys(j.template)).toEqual(['note']);
    expect(j.template.note).toContain('to: [{ cidr: 169.254.169.254/32 }]');
  });

  it('a name that does not resolve (a 502 at the gateway, not a policy denial) gets no template', async () => {
    const { out } = await check({ to: 'nowhere.example:443' }, fake);
    expect(out).not.toContain('weir exception request');
    expect(
      JSON.parse((await check({ to: 'nowhere.example:443', format: 'json' }, fake)).out),
    ).not.toHaveProperty('template');
  });

  it('denies a name that does not resolve, as the gateway (502), and shows the check by name', async () => {
    const { code, out } = await check({ to: 'nowhere.example:443' }, fake);
    expect(code).toBe(1);
    expect(out.split('\n').slice(0, 2)).toEqual([
      'decision:  deny (nowhere.example does not resolve (ENOTFOUND): the gateway answers 502 dns-failure)',
      'request:   spiffe://prod.example/ns/payments/sa/checkout -> nowhere.example:443/tcp',
    ]);
  });

  it('--no-resolve checks the name only, and says so', async () => {
    const never: Resolver = () => Promise.reject(new Error('must not resolve'));
    const { code, out } = await check({ to: 'api.sift.com:443', resolve: false }, never);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('decision:  allow');
    expect(out).toContain('note:      checked by name only (--no-resolve)');
    expect((await check({ to: '10.20.0.5:5432' }, never)).code).toBe(0);
  });
});

describe('weir check, usage errors', () => {
  it.each([
    [{ to: 'api.stripe.com' }, '--to api.stripe.com: no port: tcp needs one; write e.g. api.stripe.com:443'],
    [{ to: 'api.stripe.com:443/sctp' }, '--to api.stripe.com:443/sctp: unknown protocol "sctp"'],
    [{ from: 'spiffe://prod.example/ns/payments/sa/*' }, '--from is one workload identity, not a pattern'],
    [{ at: 'tomorrow' }, "--at: not a date or timestamp (got 'tomorrow')"],
    [{ format: 'yaml' }, "--format must be one of text, json (got 'yaml')"],
    [{ policy: 'no/such/dir' }, '--policy no/such/dir: no such file or directory'],
  ])('%j', async (flags, message) => {
    await expect(check(flags)).rejects.toThrow(message);
  });

  it('refuses a policy set that does not load, listing its errors', async () => {
    await expect(check({ policy: 'test/fixtures/policies/bad/invalid-port.yaml' })).rejects.toThrow(
      /does not load .*\n.*invalid-port\.yaml:11:20: error invalid-port: range 9000-80 is reversed/,
    );
  });
});

describe('weir check as a process', () => {
  const weir = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'check', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  const base = ['--from', CHECKOUT, '--policy', POLICY, '--at', AT, '--no-resolve'];

  it('exits 0 on allow and 1 on deny', () => {
    expect(weir(...base, '--to', 'api.stripe.com:443')).toMatchObject({ status: 0, stderr: '' });
    const deny = weir(...base, '--to', 'api.stripe.com:80');
    expect(deny).toMatchObject({ status: 1, stderr: '' });
    expect(deny.stdout.split('\n')[0]).toBe('decision:  deny');
  });

  it('exits 2 on a usage error, with one line and no stack trace', () => {
    const missing = weir('--from', CHECKOUT, '--policy', POLICY);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("error: required option '--to <target>' not specified");
    const bad = weir(...base, '--to', 'api.stripe.com');
    expect(bad).toMatchObject({
      status: 2,
      stdout: '',
      stderr: 'weir: --to api.stripe.com: no port: tcp needs one; write e.g. api.stripe.com:443\n',
    });
  });
});
