/**
 * @module policy/diagnostics — what the loader and the linter report: one finding at
 * `file:line:col` with a stable code, a message, the offending value and a hint. The code table
 * is the single source of severities, titles and fixes (the SARIF rule metadata and
 * docs/policy-lint.md are derived from it or checked against it).
 */

export type Severity = 'error' | 'warning';

interface CodeInfo {
  readonly severity: Severity;
  /** One line: what the finding means. */
  readonly title: string;
  /** How to fix it. */
  readonly fix: string;
}

/** Every diagnostic code, its severity, and its fix. Callers branch on the code, never on text. */
export const DIAGNOSTIC_CODES = {
  // Reading and parsing
  io: {
    severity: 'error',
    title: 'A policy file or directory cannot be read.',
    fix: 'Check the path and its permissions.',
  },
  'yaml-syntax': {
    severity: 'error',
    title: 'The file is not valid YAML (syntax, indentation, duplicate keys, unknown tags).',
    fix: 'Fix the YAML at the position shown; an editor with the Weir JSON Schema highlights it as you type.',
  },
  'unknown-kind': {
    severity: 'error',
    title: 'A document is not `apiVersion: weir.dev/v1` with a known `kind`.',
    fix: 'Use `apiVersion: weir.dev/v1` and `kind: EgressPolicy`, `WorkloadRegistry` or `EgressPolicyTest`.',
  },
  'misplaced-document': {
    severity: 'error',
    title: 'A document under a `tests/` directory is not an `EgressPolicyTest` (it would be ignored).',
    fix: 'Move policies and registries out of `tests/`; keep only `kind: EgressPolicyTest` documents there.',
  },
  // Schema
  'unknown-key': {
    severity: 'error',
    title: 'A key the format does not define (often a typo).',
    fix: 'Rename it to the key suggested by the hint, or remove it.',
  },
  'missing-field': {
    severity: 'error',
    title: 'A required field is missing.',
    fix: 'Add the field named in the message.',
  },
  'invalid-type': {
    severity: 'error',
    title: 'A value has the wrong type (for example a list where a string is expected).',
    fix: 'Write the value in the type named in the message; quote strings that YAML would read as numbers.',
  },
  'invalid-value': {
    severity: 'error',
    title: 'A value is outside the allowed set or shape (enum, name pattern, destination shape).',
    fix: 'Use one of the values named in the message.',
  },
  // Normalisation
  'invalid-fqdn': {
    severity: 'error',
    title: 'An `fqdn` destination is not a valid DNS name.',
    fix: 'Write a host name such as `api.stripe.com`; for addresses use `cidr:` instead.',
  },
  'invalid-wildcard': {
    severity: 'error',
    title: 'A wildcard other than a leftmost `*.` (one label) or `**.` (any depth).',
    fix: 'Use `*.example.com` for exactly one more label or `**.example.com` for any depth.',
  },
  'invalid-cidr': {
    severity: 'error',
    title: 'A `cidr` destination is not an IPv4 or IPv6 CIDR block.',
    fix: 'Write `a.b.c.d/len` or `x:y::z/len`; a single host is `/32` (IPv4) or `/128` (IPv6).',
  },
  'cidr-not-canonical': {
    severity: 'warning',
    title: 'A CIDR has host bits set (`10.0.0.1/8`), so it means more than it seems to.',
    fix: 'Write the network address given in the hint, or a longer prefix for a single host.',
  },
  'invalid-port': {
    severity: 'error',
    title: 'A port is not 0–65535, or a range is malformed or reversed.',
    fix: 'Write ports as `443` or ranges as `"8000-8100"` with from ≤ to.',
  },
  'invalid-protocol': {
    severity: 'error',
    title: 'A protocol is not `tcp`, `udp`, `icmp`, `icmpv6`, `all`, `-1` or a number 0–255.',
    fix: 'Use one of the protocol names or numbers listed.',
  },
  'invalid-date': {
    severity: 'error',
    title: 'An `expires` or `at` value is not a date (`YYYY-MM-DD`) or an ISO 8601 timestamp with zone.',
    fix: 'Write `2027-06-30` (end of that day, UTC) or `2027-06-30T12:00:00Z`.',
  },
  'invalid-identity': {
    severity: 'error',
    title: 'A workload identity is malformed, or a glob uses `*` inside a path segment.',
    fix: 'Use an exact identity, or `*` / `**` as whole path segments (`spiffe://prod.example/ns/payments/sa/*`).',
  },
  'invalid-test-target': {
    severity: 'error',
    title: 'A test `to` is not `host[:port][/proto]` or `ip[:port][/proto]`.',
    fix: 'Write for example `api.stripe.com:443`, `10.1.2.3:5432/tcp` or `[2001:db8::1]:443`.',
  },
  'invalid-duration': {
    severity: 'error',
    title: 'A duration (`spec.exceptions.maxTtl`) is not a whole number and a unit `s`, `m`, `h` or `d`.',
    fix: 'Write for example `72h`, `30m` or `7d`.',
  },
  'invalid-approver': {
    severity: 'error',
    title: 'An entry of `spec.exceptions.approvers` is not a principal (the `weir_principal` of a key).',
    fix: 'Write the principal of an approver key, e.g. `lead@example.com`.',
  },
  'duplicate-rule-id': {
    severity: 'error',
    title: 'Two rules of one policy share an ID.',
    fix: 'Give each rule of a policy its own `id`.',
  },
  'duplicate-policy': {
    severity: 'error',
    title: 'Two policies of the set share `metadata.name` (each becomes one security group).',
    fix: 'Rename one of them, or merge their rules.',
  },
  'duplicate-workload': {
    severity: 'error',
    title: 'The workload registry lists one identity twice.',
    fix: 'Keep one entry per identity and merge their labels.',
  },
  'duplicate-group': {
    severity: 'warning',
    title: 'A registry entry lists one security group twice in `securityGroups`.',
    fix: 'Delete the repeat; the workload is attached to the group once.',
  },
  'unknown-policy': {
    severity: 'error',
    title: 'An `EgressPolicyTest` names a policy that the set does not define.',
    fix: 'Fix `spec.policy` to the `metadata.name` of a policy, or remove it.',
  },
  // Lint: intent
  'missing-justification': {
    severity: 'error',
    title: 'A rule does not say why it exists.',
    fix: 'Add `justification:` with the business reason, so reviewers and auditors can judge the rule.',
  },
  'missing-owner': {
    severity: 'warning',
    title: 'Neither the rule nor its policy names an owner.',
    fix: 'Set `metadata.owner` on the policy (inherited by its rules) or `owner:` on the rule.',
  },
  'missing-expiry': {
    severity: 'warning',
    title: 'A rule never expires.',
    fix: 'Add `expires: YYYY-MM-DD` and renew it when it comes due.',
  },
  expired: {
    severity: 'error',
    title: 'A rule has expired: it no longer allows anything.',
    fix: 'Renew it with a later `expires` if it is still needed, or delete it.',
  },
  'expiring-soon': {
    severity: 'warning',
    title: 'A rule expires within 14 days.',
    fix: 'Ask the owner whether to renew it (a later `expires`) or let it lapse.',
  },
  // Lint: breadth
  'wide-fqdn': {
    severity: 'warning',
    title: 'A wildcard spans a public suffix (`**.com`, `*.github.io`): anyone can register a name under it.',
    fix: 'Name the hosts, or wildcard below a domain the vendor owns (`*.stripe.network`).',
  },
  'wide-cidr': {
    severity: 'warning',
    title: 'A CIDR covers (nearly) the whole address space, such as `0.0.0.0/0` or `::/0`.',
    fix: 'Name the destination by `fqdn`, or narrow the CIDR to the provider’s published range.',
  },
  'wide-ports': {
    severity: 'warning',
    title: 'A TCP/UDP rule allows every port.',
    fix: 'List the ports the service uses, e.g. `ports: [443]`.',
  },
  'wide-protocol': {
    severity: 'warning',
    title: 'A rule allows every protocol (`all` / `-1`).',
    fix: 'Use `tcp` or `udp` with the ports needed.',
  },
  'ports-ignored': {
    severity: 'warning',
    title: 'A rule lists ports for a protocol that has none (`all`, `icmp`, a number), so they are ignored.',
    fix: 'Remove `ports`, or use `tcp` / `udp` if the ports were meant.',
  },
  'duplicate-rule': {
    severity: 'warning',
    title: 'A rule allows exactly what another rule for the same workloads allows.',
    fix: 'Delete one of the two rules (keep the one with the better justification).',
  },
  'shadowed-rule': {
    severity: 'warning',
    title: 'Everything a rule allows is already allowed by a broader rule for the same workloads.',
    fix: 'Delete the narrower rule, or narrow the broader one.',
  },
  unreachable: {
    severity: 'warning',
    title: 'A policy or workload selector matches no workload, so its rules never apply.',
    fix: 'Select workloads by identity, or add the labelled workloads to the `WorkloadRegistry`.',
  },
  guardrail: {
    severity: 'warning',
    title:
      'A destination lies in a range the built-in guardrails protect (loopback, link-local / metadata, …).',
    fix: 'Remove the destination unless the workload must reach it; see the message for what the gateway does.',
  },
  'data-class-mismatch': {
    severity: 'error',
    title: 'A workload labelled with a data class reaches a rule not approved for that class.',
    fix: 'Set the rule’s `dataClass` to the workload’s class after review, or stop selecting that workload.',
  },
  // Lint: exceptions
  'exception-ttl-too-long': {
    severity: 'error',
    title: '`spec.exceptions.maxTtl` is over 7 days (the most an exception may last) or under 5 seconds.',
    fix: 'Write a `maxTtl` between `5s` and `7d`; longer access belongs in a reviewed rule.',
  },
  'no-approvers': {
    severity: 'warning',
    title: '`spec.exceptions.approvers` is empty: nobody can approve exceptions for these workloads.',
    fix: 'List the principals who may approve, or remove `approvers` to let any approver do it.',
  },
  'unknown-rule': {
    severity: 'error',
    title: 'A test expects a rule ID that no policy of the set defines.',
    fix: 'Fix the test’s `rule` to an existing rule `id`.',
  },
} as const satisfies Record<string, CodeInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** One finding. Lines and columns are 1-based. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** End of the offending text, when known (SARIF regions, editor squiggles). */
  readonly endLine?: number;
  readonly endCol?: number;
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly hint?: string;
  /** The offending value as written, shortened. */
  readonly value?: string;
}

/**
 * Formats one diagnostic on one line:
 * `file:line:col: error CODE: message (got 'value'); hint: …`.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const got = d.value !== undefined ? ` (got '${d.value}')` : '';
  const hint = d.hint !== undefined ? `; hint: ${d.hint}` : '';
  return `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}: ${d.message}${got}${hint}`;
}

/** Orders diagnostics by file, position, then code, so output is stable across runs. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.col !== b.col) return a.col - b.col;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

/** Shortens a value for a message: scalars as written, structures as compact JSON. */
export function showValue(v: unknown): string {
  const s = typeof v === 'string' ? v : v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Edit distance counting a swap of neighbours as one edit (`fdqn` → `fqdn`), for "did you mean". */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (up[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The candidate closest to `word` when it is close enough to be a likely typo (case-insensitive;
 * distance at most a third of the word, and at least 1), else undefined.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  const limit = Math.max(1, Math.floor(w.length / 3));
  return bestDist <= limit ? best : undefined;
}
