/**
 * @module test/policy-registry-groups — `securityGroups` of a `WorkloadRegistry` entry: IDs are
 * read as written, a malformed one is an error at its file:line:col with a hint (and leaves the
 * entry out), a repeat is a warning, and the published JSON Schema describes the field.
 */
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadPolicySources, policyJsonSchema } from '../../src/policy/index.js';

const registry = (entries: string): string => `apiVersion: weir.dev/v1
kind: WorkloadRegistry
metadata: { name: workloads }
spec:
  workloads:
${entries}`;

function load(text: string) {
  const { set, diagnostics } = loadPolicySources([{ file: 'registry.yaml', text }]);
  return { set, messages: diagnostics.map(formatDiagnostic) };
}

describe('WorkloadRegistry securityGroups', () => {
  it('reads 8- and 17-digit group IDs in order; an entry without them has none', () => {
    const { set, messages } = load(
      registry(`    - identity: spiffe://x/sa/web
      securityGroups: [sg-0123456789abcdef0, sg-1234abcd]
    - identity: spiffe://x/sa/batch
      labels: { env: prod }
`),
    );
    expect(messages).toEqual([]);
    expect(set.workloads.map((w) => [w.identity, w.securityGroups])).toEqual([
      ['spiffe://x/sa/web', ['sg-0123456789abcdef0', 'sg-1234abcd']],
      ['spiffe://x/sa/batch', undefined],
    ]);
  });

  it('refuses a malformed ID at its position with a hint, and leaves the entry out', () => {
    const { set, messages } = load(
      registry(`    - identity: spiffe://x/sa/web
      securityGroups:
        - sg-0123456789abcdef0
        - web-egress
    - identity: spiffe://x/sa/batch
      securityGroups: [SG-1234ABCD]
`),
    );
    expect(messages).toEqual([
      "registry.yaml:9:11: error invalid-value: 'web-egress' is not a security-group ID (got 'web-egress'); hint: an ID is sg- and 8 or 17 lower-case hex digits (sg-0123456789abcdef0), as `weir ec2 describe-security-groups` prints it",
      "registry.yaml:11:24: error invalid-value: 'SG-1234ABCD' is not a security-group ID (got 'SG-1234ABCD'); hint: write it in lower case: sg-1234abcd",
    ]);
    expect(set.workloads).toEqual([]);
  });

  it('refuses a non-string entry through the structural check', () => {
    const { set, messages } = load(
      registry(`    - identity: spiffe://x/sa/web
      securityGroups: sg-1234abcd
`),
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^registry\.yaml:7:23: error invalid-type: .*securityGroups/);
    expect(set.workloads).toEqual([]);
  });

  it('warns about a repeated group and attaches it once', () => {
    const { set, messages } = load(
      registry(`    - identity: spiffe://x/sa/web
      securityGroups: [sg-1234abcd, sg-0123456789abcdef0, sg-1234abcd]
`),
    );
    expect(messages).toEqual([
      'registry.yaml:7:59: warning duplicate-group: sg-1234abcd is already listed for this workload; hint: see securityGroups[0]; delete this repeat',
    ]);
    expect(set.workloads[0]?.securityGroups).toEqual(['sg-1234abcd', 'sg-0123456789abcdef0']);
  });

  it('is in the published JSON Schema with the ID pattern', () => {
    const text = JSON.stringify(policyJsonSchema());
    expect(text).toContain('"securityGroups"');
    expect(text).toContain('"pattern":"^sg-([0-9a-f]{8}|[0-9a-f]{17})$"');
  });
});
