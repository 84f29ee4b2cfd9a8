import { describe, expect, it } from 'vitest';
import { loadPolicySources } from '../policy/index.js';
import type { ExceptionRecord } from '../store/index.js';
import {
  approveException,
  buildExceptionRequest,
  denyException,
  exceptionGrant,
  exceptionNotification,
  OnrampError,
  parseExceptionDestination,
  revokeException,
  viewState,
} from './index.js';

const WEB = 'spiffe://prod.example/ns/shop/sa/web';
const PAY = 'spiffe://prod.example/ns/payments/sa/checkout';
const NOW = new Date('2026-12-08T00:00:00.000Z');
const { set } = loadPolicySources([
  {
    file: 'p.yaml',
    text: `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments, owner: pay@example.com }
spec:
  workloads: [{ identity: ${PAY} }]
  rules: []
  exceptions: { approvers: [lead@example.com], maxTtl: 72h }
---
apiVersion: weir.dev/v1
kind: WorkloadRegistry
metadata: { name: registry }
spec:
  workloads: [{ identity: ${PAY}, labels: { dataClass: pci } }]
`,
  },
]);
const dev = { principal: 'dev@example.com', role: 'readonly' } as const;
const lead = { principal: 'lead@example.com', role: 'approver' } as const;
const other = { principal: 'other@example.com', role: 'approver' } as const;

const request = (over: Partial<Parameters<typeof buildExceptionRequest>[0]> = {}) =>
  buildExceptionRequest(
    { identity: WEB, to: ['api.stripe.com:443'], reason: 'incident 42', ...over },
    { set, requester: dev.principal, now: NOW, id: 'exc-0123456789abcdef0' },
  );
const refusal = (fn: () => unknown): { code: string; field?: string; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof OnrampError)
      return {
        code: err.code,
        message: err.message,
        ...(err.field !== undefined ? { field: err.field } : {}),
      };
    throw err;
  }
  throw new Error('not refused');
};

describe('destinations, written as weir check writes them', () => {
  it.each([
    ['api.stripe.com:443', 'api.stripe.com:443/tcp'],
    ['API.Stripe.com.:443/tcp', 'api.stripe.com:443/tcp'],
    ['*.stripe.network:443', '*.stripe.network:443/tcp'],
    ['dns.example:53/udp', 'dns.example:53/udp'],
    ['203.0.113.7:443', '203.0.113.7/32:443/tcp'],
    ['[2001:db8::7]:443', '[2001:db8::7/128]:443/tcp'],
    ['203.0.113.0/24:443', '203.0.113.0/24:443/tcp'],
    ['[2001:DB8::/32]:443/tcp', '[2001:db8::/32]:443/tcp'],
    ['pl-0123456789abcdef0:443', 'pl-0123456789abcdef0:443/tcp'],
    ['ping.example/icmp', 'ping.example/icmp'],
  ])('%s → %s, and the canonical text parses back to itself', (input, text) => {
    const d = parseExceptionDestination(input);
    expect(d.ok && d.value.text).toBe(text);
    const again = parseExceptionDestination(text);
    expect(again.ok && again.value.text).toBe(text);
  });

  it.each([
    ['*', 'every name'],
    ['*:443', 'every name'],
    ['*.com:443', "public suffix 'com'"],
    ['**.co.uk:443', "public suffix 'co.uk'"],
    ['*.github.io:443', "public suffix 'github.io'"],
    ['169.254.169.254:80', 'cloud metadata'],
    ['169.254.0.0/16:80', 'guardrail'],
    ['0.0.0.0/0:443', 'guardrail'],
    ['metadata.google.internal:80', 'cloud metadata'],
    ['localhost:8080', 'loopback'],
    ['[fe80::1]:22', 'link-local'],
    ['[fd00:ec2::254]:80', 'metadata'],
    ['api.stripe.com', 'needs one'],
    ['api.stripe.com:443/all', 'one protocol'],
    ['api.stripe.com:99999', 'not 0-65535'],
    ['ping.example:7/icmp', 'no ports'],
    ['10.0.0.1/8:443', 'host bits'],
    ['2001:db8::1', 'brackets'],
    ['a b:443', 'not a destination'],
  ])('%s is refused (%s)', (input, why) => {
    const d = parseExceptionDestination(input);
    expect(d.ok).toBe(false);
    expect(!d.ok && d.message).toContain(why);
  });
});

describe('a request', () => {
  it('becomes a pending record with canonical destinations, the default TTL 24h, and no expiry yet', () => {
    const r = request({ to: ['api.stripe.com:443', 'API.stripe.com:443'] });
    expect(r).toEqual({
      id: 'exc-0123456789abcdef0',
      identity: WEB,
      destinations: ['api.stripe.com:443/tcp'],
      reason: 'incident 42',
      ttlMs: 86_400_000,
      requester: 'dev@example.com',
      requestedAt: NOW,
      state: 'pending',
    });
    expect(viewState(r, NOW)).toBe('pending');
  });

  it.each([
    [{ ttl: '4s' }, 'ttl', 'minimum, 5s'],
    [{ ttl: '8d' }, 'ttl', 'over the maximum'],
    [{ ttl: 'soon' }, 'ttl', 'not a duration'],
    [{ identity: PAY, ttl: '73h', dataClass: 'pci' }, 'ttl', 'maximum for this workload, 3d'],
    [{ to: ['*.com:443'] }, 'to', 'public suffix'],
    [{ to: ['*'] }, 'to', 'every name'],
    [{ to: ['169.254.169.254:80'] }, 'to', 'only policy files open'],
    [{ to: [] }, 'to', 'at least one'],
    [{ identity: PAY }, 'dataClass', 'handles pci data'],
    [{ identity: PAY, dataClass: 'internal' }, 'dataClass', "is for 'internal'"],
    [{ identity: 'spiffe://prod.example/ns/*/sa/web' }, 'identity', 'one workload identity'],
    [{ reason: '' }, 'reason', 'required'],
    [{ reason: 'two\nlines' }, 'reason', 'one line'],
    [{ window: '2026-12-09T00:00:00Z' }, 'window', 'START/END'],
    [{ window: '2026-12-09T02:00:00Z/2026-12-09T01:00:00Z' }, 'window', 'not after the start'],
    [{ window: '2026-12-01T00:00:00Z/2026-12-02T00:00:00Z' }, 'window', 'already ended'],
    [{ window: '2026-12-09T00:00:00/2026-12-09T01:00:00Z' }, 'window', 'not two timestamps'],
  ])('%j is refused, naming the field %s', (over, field, text) => {
    const r = refusal(() => request(over));
    expect(r.field).toBe(field);
    expect(r.message).toContain(text);
  });

  it('a data class that fits the workload, a change window and a TTL up to the policy maximum are accepted', () => {
    const r = request({
      identity: PAY,
      dataClass: 'PCI',
      ttl: '72h',
      window: '2026-12-09T00:00:00Z/2026-12-09T04:00:00Z',
    });
    expect(r.ttlMs).toBe(72 * 3_600_000);
    expect(r.window).toEqual({
      start: new Date('2026-12-09T00:00:00Z'),
      end: new Date('2026-12-09T04:00:00Z'),
    });
  });
});

describe('decisions', () => {
  const later = new Date(NOW.getTime() + 60_000);

  it('approval sets decidedBy and expires = approval + TTL; the approver may shorten the TTL only', () => {
    const a = approveException(request(), other, { set, now: later, comment: 'ok' });
    expect(a).toMatchObject({
      state: 'approved',
      decidedBy: 'other@example.com',
      decidedAt: later,
      comment: 'ok',
    });
    expect(a.expires).toEqual(new Date(later.getTime() + 86_400_000));
    const short = approveException(request(), other, { set, now: later, ttl: '1h' });
    expect(short.expires).toEqual(new Date(later.getTime() + 3_600_000));
    expect(refusal(() => approveException(request(), other, { set, now: later, ttl: '48h' }))).toMatchObject({
      code: 'InvalidParameterValue',
      field: 'ttl',
    });
  });

  it('two-person rule: the requester never approves their own request, whatever their role', () => {
    const mine = buildExceptionRequest(
      { identity: WEB, to: ['api.stripe.com:443'], reason: 'r' },
      { set, requester: lead.principal, now: NOW },
    );
    const r = refusal(() => approveException(mine, lead, { set, now: later }));
    expect(r.code).toBe('UnauthorizedOperation');
    expect(r.message).toContain('two-person rule');
  });

  it('only an approver the workload’s policies list may approve or deny; a readonly key never', () => {
    const pay = request({ identity: PAY, dataClass: 'pci' });
    expect(refusal(() => approveException(pay, other, { set, now: later })).message).toContain(
      "policy 'payments' allows only lead@example.com",
    );
    expect(refusal(() => denyException(pay, other, { set, now: later, reason: 'no' })).code).toBe(
      'UnauthorizedOperation',
    );
    expect(approveException(pay, lead, { set, now: later }).state).toBe('approved');
    const ro = { principal: 'ro@example.com', role: 'readonly' } as const;
    expect(refusal(() => approveException(request(), ro, { set, now: later })).code).toBe(
      'UnauthorizedOperation',
    );
  });

  it('states: only pending is approved or denied; expired is derived from time; revoke needs a reason', () => {
    const a = approveException(request({ ttl: '5s' }), other, { set, now: later });
    expect(viewState(a, new Date(later.getTime() + 4_999))).toBe('active');
    expect(viewState(a, new Date(later.getTime() + 5_000))).toBe('expired');
    expect(refusal(() => approveException(a, other, { set, now: later })).code).toBe('IncorrectState');
    expect(refusal(() => denyException(a, other, { set, now: later, reason: 'x' })).code).toBe(
      'IncorrectState',
    );
    expect(
      refusal(() => revokeException(a, other, { now: new Date(later.getTime() + 5_000), reason: 'x' })).code,
    ).toBe('IncorrectState');
    expect(refusal(() => revokeException(a, other, { now: later, reason: '' })).field).toBe('reason');
    expect(refusal(() => denyException(request(), other, { set, now: later, reason: '' })).field).toBe(
      'reason',
    );
    const d = denyException(request(), other, { set, now: later, reason: 'use the proxy' });
    expect(d).toMatchObject({ state: 'denied', comment: 'use the proxy' });
  });

  it('the requester may withdraw their own request; another readonly key may not', () => {
    expect(revokeException(request(), dev, { now: later, reason: 'not needed' }).state).toBe('revoked');
    const ro = { principal: 'ro@example.com', role: 'readonly' } as const;
    expect(refusal(() => revokeException(request(), ro, { now: later, reason: 'x' })).code).toBe(
      'UnauthorizedOperation',
    );
  });
});

describe('grants and notifications', () => {
  it('a grant runs from max(approval, window start) to min(expires, window end), with one rule per destination', () => {
    const r = request({
      to: ['api.stripe.com:443', '203.0.113.0/24:8443'],
      window: '2026-12-08T06:00:00Z/2026-12-08T08:00:00Z',
      ttl: '2h',
    });
    const a: ExceptionRecord = approveException(r, other, { set, now: new Date('2026-12-08T05:30:00Z') });
    const g = exceptionGrant(a);
    expect(g).toMatchObject({
      kind: 'exception',
      id: r.id,
      identity: WEB,
      everything: false,
      from: Date.parse('2026-12-08T06:00:00Z'),
      until: Date.parse('2026-12-08T07:30:00Z'),
      requester: 'dev@example.com',
      approver: 'other@example.com',
      reason: 'incident 42',
      expires: Date.parse('2026-12-08T07:30:00Z'),
    });
    expect(g?.rules.map((x) => [x.policy, x.id, x.protocol, x.ports, x.destinations[0]?.kind])).toEqual([
      [`exception/${r.id}`, r.id, 'tcp', [{ from: 443, to: 443 }], 'fqdn'],
      [`exception/${r.id}`, r.id, 'tcp', [{ from: 8443, to: 8443 }], 'cidr'],
    ]);
    expect(exceptionGrant(r)).toBeUndefined();
  });

  it('a notification has one line of text and the fields', () => {
    const n = exceptionNotification('requested', request(), NOW);
    expect(n.event).toBe('exception.requested');
    expect(n.text).toContain('dev@example.com requested exception exc-0123456789abcdef0');
    expect(n.fields).toMatchObject({
      exception: 'exc-0123456789abcdef0',
      identity: WEB,
      requester: 'dev@example.com',
    });
  });

  it("a notification names the exception as 'exception': a webhook body's own 'id' is the notice's number", () => {
    for (const event of ['requested', 'approved', 'denied', 'revoked'] as const) {
      const fields = exceptionNotification(event, request(), NOW).fields;
      // notificationBody (src/notify) drops a field named text, event, at or id: an ID there
      // would never reach a receiver.
      expect(Object.keys(fields).filter((k) => ['text', 'event', 'at', 'id'].includes(k))).toEqual([]);
      expect(fields.exception).toBe('exc-0123456789abcdef0');
    }
  });
});
