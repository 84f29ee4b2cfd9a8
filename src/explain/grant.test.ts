/**
 * @module explain/grant.test — `weir check` on a decision a grant allowed names the grant: ID,
 * requester, approver, reason and expiry, in the text and the JSON.
 */
import { describe, expect, it } from 'vitest';
import { compileGrants, compilePolicySet, withGrants } from '../engine/index.js';
import type { Grant } from '../policy-types/index.js';
import { explanationJson, formatExplanation, grantSentence } from './explain.js';

const ID = 'spiffe://t/ns/a/sa/app';
const NOW = Date.UTC(2026, 11, 8, 12);
const LOC = { file: 'exc-7', line: 0, col: 0 };
const g: Grant = {
  kind: 'exception',
  id: 'exc-7',
  identity: ID,
  rules: [
    {
      id: 'exc-7',
      policy: 'exception/exc-7',
      destinations: [{ kind: 'fqdn', name: 'files.example.org', match: 'exact', loc: LOC }],
      ports: [{ from: 443, to: 443 }],
      protocol: 'tcp',
      loc: LOC,
    },
  ],
  everything: false,
  from: NOW - 1000,
  until: NOW + 3_600_000,
  requester: 'dev@example.com',
  approver: 'lead@example.com',
  reason: 'migrate "the" bucket\u001b[2J',
  expires: NOW + 3_600_000,
};
const snap = withGrants(compilePolicySet({ policies: [], workloads: [] }), compileGrants([g]));
const req = { identity: ID, host: 'files.example.org', port: 443, protocol: 'tcp', now: NOW };

describe('check names the grant', () => {
  it('says who asked, who approved, why and until when (text)', () => {
    const lines = formatExplanation(req, snap.explain(req));
    expect(lines[0]).toMatch(/^decision: +allow$/);
    expect(lines).toContain(
      'reason:    exception: allowed by exception exc-7 requested by dev@example.com, approved by lead@example.com, ' +
        'reason "migrate \\"the\\" bucket\\u001b[2J", expires 2026-12-08T13:00:00.000Z',
    );
    expect(lines).toContain('exception: exc-7');
    expect(lines).toContain('approver:  lead@example.com');
    expect(lines.join('\n')).not.toContain('\u001b');
  });

  it('carries the grant in the JSON', () => {
    const j = explanationJson(req, snap.explain(req));
    expect(j).toMatchObject({ decision: 'allow', allow: true, reason: 'exception' });
    expect(j.grant).toEqual({
      kind: 'exception',
      id: 'exc-7',
      requester: 'dev@example.com',
      approver: 'lead@example.com',
      reason: g.reason,
      expires: '2026-12-08T13:00:00.000Z',
    });
  });

  it('names a break-glass session by its opener', () => {
    expect(
      grantSentence({ kind: 'breakglass', id: 'bg-1', requester: 'oncall', reason: 'outage', expires: 'T' }),
    ).toBe('allowed by break-glass session bg-1 opened by oncall, reason "outage", expires T');
  });
});
