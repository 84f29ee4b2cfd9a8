/** @module model/rule-template.test — the rule YAML and request command a denial points to. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exceptionRequestCommand, renderRuleYaml, shellWord } from './rule-template.js';

describe('renderRuleYaml', () => {
  it('prints a rule YAML reads back exactly, hostile text included', () => {
    const text = renderRuleYaml({
      id: 'exc-0123-api',
      identity: 'spiffe://prod.example/ns/a/sa/b',
      to: [{ fqdn: '*.example.com' }, { cidr: '10.0.0.0/8' }, { prefixList: 'pl-0123456789abcdef0' }],
      ports: ['443', '8000-8100'],
      protocol: 'udp',
      justification: 'key: value # not a comment\n- id: smuggled',
      owner: 'dev@example.com',
      dataClass: 'pci',
      expires: '2026-12-31',
    });
    expect(text.split('\n')[0]).toBe(
      '# Add under spec.rules of the policy for spiffe://prod.example/ns/a/sa/b:',
    );
    expect(parse(text)).toEqual([
      {
        id: 'exc-0123-api',
        to: [{ fqdn: '*.example.com' }, { cidr: '10.0.0.0/8' }, { prefixList: 'pl-0123456789abcdef0' }],
        ports: [443, '8000-8100'],
        protocol: 'udp',
        justification: 'key: value # not a comment\n- id: smuggled',
        owner: 'dev@example.com',
        dataClass: 'pci',
        expires: '2026-12-31',
      },
    ]);
  });

  it('leaves quoted placeholders for what is not known, and tcp unsaid', () => {
    const rule = parse(
      renderRuleYaml({ id: 'r', identity: 'i', to: [{ fqdn: 'api.example.com' }], protocol: 'tcp' }),
    );
    expect(rule[0]).toEqual({
      id: 'r',
      to: [{ fqdn: 'api.example.com' }],
      justification: '<fill in: why this workload needs it>',
      owner: '<fill in: owning team or person>',
      dataClass: '<fill in: data class, e.g. internal>',
      expires: '<fill in: YYYY-MM-DD>',
    });
  });
});

describe('exceptionRequestCommand', () => {
  it('quotes only what the shell would split or expand', () => {
    expect(exceptionRequestCommand('spiffe://prod.example/ns/a/sa/b', 'api.example.com:443')).toBe(
      "weir exception request --identity spiffe://prod.example/ns/a/sa/b --to api.example.com:443 --reason '<why you need it>' --ttl 24h",
    );
    expect(shellWord("it's $(rm -rf /)")).toBe(`'it'\\''s $(rm -rf /)'`);
    expect(shellWord('[2001:db8::1]:443/udp')).toBe("'[2001:db8::1]:443/udp'");
  });
});
