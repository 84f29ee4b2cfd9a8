/**
 * @module policy/lint — checks a loaded policy set for what a reviewer would ask about: rules
 * without intent (justification, owner, expiry), expired or soon-expiring rules, rules wider
 * than needed, rules another rule already covers, selectors that match nothing, destinations
 * the guardrails protect, and workloads whose data class a rule is not approved for.
 */
import { guardrailFor, ipv4Mask, ipv6Mask, parseIpv4Cidr, parseIpv6Cidr } from '../model/index.js';
import { compareDiagnostics, DIAGNOSTIC_CODES } from './diagnostics.js';
import type { Diagnostic, DiagnosticCode } from './diagnostics.js';
import { formatFqdnPattern, formatTime, matchIdentity, MAX_EXCEPTION_TTL_MS } from './normalize.js';
import type {
  Destination,
  Policy,
  PolicyRule,
  PolicySet,
  RegisteredWorkload,
  RuleField,
  SourceLocation,
  WorkloadSelector,
} from './types.js';

/** What a guardrail lookup answers (the shape of the engine's `guardrailFor`). */
export type GuardrailLookup = (cidrOrIp: string) =>
  | {
      readonly guardrail: { readonly cidr: string; readonly label: string; readonly stops: string };
      /** The CIDR lies inside the guarded range (so naming it opens it); else it only overlaps. */
      readonly inside: boolean;
    }
  | undefined;

/** How to lint: the clock, and optionally another guardrail table or warning horizon. */
export interface LintOptions {
  /** The current time, epoch ms (injected: lint output must not depend on when CI runs). */
  readonly now: number;
  /** Guardrail lookup; default the engine's built-in table. */
  readonly guardrails?: GuardrailLookup;
  /** How far ahead `expiring-soon` looks, ms; default 14 days. */
  readonly expiringWithinMs?: number;
}

/** The findings of a lint run, with counts for the exit code and summary line. */
export interface LintReport {
  /** The load diagnostics and the lint findings, in file order. */
  readonly diagnostics: Diagnostic[];
  readonly errors: number;
  readonly warnings: number;
  readonly stats: {
    readonly policies: number;
    readonly rules: number;
    readonly workloads: number;
    readonly tests: number;
  };
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * Suffixes under which anyone can get a name: top-level domains, registry second levels, and
 * hosting platforms that give every customer a subdomain. A wildcard over one of them lets a
 * workload reach names an attacker can register, the classic exfiltration path through an
 * allow list.
 */
const PUBLIC_SUFFIXES: ReadonlySet<string> = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'me.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.jp',
  'ne.jp',
  'or.jp',
  'com.br',
  'com.cn',
  'net.cn',
  'co.in',
  'co.nz',
  'co.za',
  'com.mx',
  'com.tr',
  'co.kr',
  'com.sg',
  'com.hk',
  'amazonaws.com',
  's3.amazonaws.com',
  'cloudfront.net',
  'elasticbeanstalk.com',
  'appspot.com',
  'storage.googleapis.com',
  'firebaseapp.com',
  'web.app',
  'azurewebsites.net',
  'blob.core.windows.net',
  'web.core.windows.net',
  'cloudapp.net',
  'github.io',
  'githubusercontent.com',
  'gitlab.io',
  'herokuapp.com',
  'netlify.app',
  'vercel.app',
  'pages.dev',
  'workers.dev',
  'r2.dev',
  'fly.dev',
  'onrender.com',
  'ngrok.io',
  'ngrok-free.app',
  'trycloudflare.com',
  'blogspot.com',
  'glitch.me',
  'repl.co',
  'duckdns.org',
  'no-ip.org',
]);

/** Names that resolve into guardrail ranges by definition (RFC 6761, cloud metadata aliases). */
const GUARDED_NAMES: ReadonlyMap<string, string> = new Map([
  ['localhost', '127.0.0.1'],
  ['metadata.google.internal', '169.254.169.254'],
  ['metadata.goog', '169.254.169.254'],
  ['metadata', '169.254.169.254'],
  ['instance-data', '169.254.169.254'],
  ['instance-data.ec2.internal', '169.254.169.254'],
  ['metadata.azure.internal', '169.254.169.254'],
]);

/** Data classes any workload may send anywhere: no approval needed. */
const UNRESTRICTED_DATA_CLASSES: ReadonlySet<string> = new Set(['public']);

/**
 * True when a wildcard over `name` (the part after `*.` / `**.`) spans a public suffix: a name
 * without a dot (a top-level domain) or one of the known registry and hosting suffixes. Shared
 * with the on-ramp, which refuses such exceptions outright.
 */
export function spansPublicSuffix(name: string): boolean {
  return !name.includes('.') || PUBLIC_SUFFIXES.has(name);
}

/**
 * The guarded address an exact name stands for by definition (`localhost`, cloud metadata
 * aliases), if it is one; shared with the on-ramp.
 */
export function guardedNameAddress(name: string): string | undefined {
  if (name === 'localhost' || name.endsWith('.localhost')) return '127.0.0.1';
  return GUARDED_NAMES.get(name);
}

/**
 * Whether access approved for `approved` (a rule's or an exception's data class) fits a workload
 * handling `workloadClass` data: any class fits an unlabelled or `public` workload; otherwise the
 * classes must be equal, compared as names (`PCI` approves `pci`).
 */
export function dataClassFits(workloadClass: string | undefined, approved: string | undefined): boolean {
  if (workloadClass === undefined) return true;
  const lower = workloadClass.toLowerCase();
  return UNRESTRICTED_DATA_CLASSES.has(lower) || approved?.toLowerCase() === lower;
}

/** The shortest exception TTL: so tests and drills can use short ones, never shorter. */
export const MIN_EXCEPTION_TTL_MS = 5_000;

function lintExceptionSettings(policy: Policy, emit: Emit): void {
  const e = policy.exceptions;
  if (e === undefined) return;
  if (e.maxTtlMs !== undefined && (e.maxTtlMs > MAX_EXCEPTION_TTL_MS || e.maxTtlMs < MIN_EXCEPTION_TTL_MS)) {
    emit(
      e.loc,
      'exception-ttl-too-long',
      `policy '${policy.name}' lets exceptions last ${e.maxTtlText ?? `${e.maxTtlMs} ms`}, outside 5s to 7d`,
      'write a maxTtl between 5s and 7d; access needed for longer belongs in a reviewed rule',
      e.maxTtlText,
    );
  }
  if (e.approvers !== undefined && e.approvers.length === 0) {
    emit(
      e.loc,
      'no-approvers',
      `policy '${policy.name}' lists no approvers, so nobody can approve an exception for its workloads`,
      'list the principals who may approve (e.g. approvers: [lead@example.com]), or remove approvers to let any approver do it',
    );
  }
}

/**
 * Lints a loaded set. `diagnostics` are the loader's; the report holds them and the findings.
 * Errors make `weir policy lint` exit 1.
 */
export function lintPolicySet(
  set: PolicySet,
  diagnostics: readonly Diagnostic[],
  options: LintOptions,
): LintReport {
  const out: Diagnostic[] = [...diagnostics];
  const emit = (
    at: SourceLocation,
    code: DiagnosticCode,
    message: string,
    hint?: string,
    value?: string,
  ): void => {
    const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = {
      file: at.file,
      line: at.line,
      col: at.col,
      severity: DIAGNOSTIC_CODES[code].severity,
      code,
      message,
    };
    if (hint !== undefined) d.hint = hint;
    if (value !== undefined) d.value = value;
    out.push(d);
  };
  const guardrails = options.guardrails ?? guardrailFor;
  const soon = options.expiringWithinMs ?? 14 * DAY;

  for (const policy of set.policies) {
    for (const rule of policy.rules) {
      lintIntent(rule, options.now, soon, emit);
      lintBreadth(rule, guardrails, emit);
    }
    lintReach(policy, set.workloads, emit);
    lintExceptionSettings(policy, emit);
  }
  lintOverlaps(set.policies, emit);
  lintTests(set, emit);

  out.sort(compareDiagnostics);
  const errors = out.filter((d) => d.severity === 'error').length;
  return {
    diagnostics: out,
    errors,
    warnings: out.length - errors,
    stats: {
      policies: set.policies.length,
      rules: set.policies.reduce((n, p) => n + p.rules.length, 0),
      workloads: set.workloads.length,
      tests: set.policies.reduce((n, p) => n + p.tests.length, 0) + (set.tests?.length ?? 0),
    },
  };
}

type Emit = (
  at: SourceLocation,
  code: DiagnosticCode,
  message: string,
  hint?: string,
  value?: string,
) => void;

function at(rule: PolicyRule, field: RuleField): SourceLocation {
  return rule.fieldLocs?.[field] ?? rule.loc;
}

function lintIntent(rule: PolicyRule, now: number, soon: number, emit: Emit): void {
  const name = `rule '${rule.id}'`;
  if (rule.justification === undefined || rule.justification.trim() === '') {
    emit(
      rule.loc,
      'missing-justification',
      `${name} does not say why it is needed`,
      'add justification: with the business reason, e.g. "Card authorisation with Stripe"',
    );
  }
  if (rule.owner === undefined) {
    emit(
      rule.loc,
      'missing-owner',
      `${name} has no owner`,
      'set metadata.owner on the policy, or owner: on the rule',
    );
  }
  if (rule.expires === undefined) {
    emit(
      rule.loc,
      'missing-expiry',
      `${name} never expires`,
      'add expires: YYYY-MM-DD and renew it when it comes due',
    );
    return;
  }
  const when = rule.expiresText ?? formatTime(rule.expires);
  const owner = rule.owner !== undefined ? ` (owner ${rule.owner})` : '';
  if (rule.expires < now) {
    emit(
      at(rule, 'expires'),
      'expired',
      `${name} expired on ${when}${owner}; it no longer allows anything`,
      'renew it with a later expires: if it is still needed, or delete it',
    );
  } else if (rule.expires - now <= soon) {
    const days = Math.max(0, Math.floor((rule.expires - now) / DAY));
    emit(
      at(rule, 'expires'),
      'expiring-soon',
      `${name} expires on ${when}, in ${days} day${days === 1 ? '' : 's'}${owner}`,
      'ask the owner whether to renew it (a later expires:) or let it lapse',
    );
  }
}

const PORTED = new Set(['tcp', 'udp']);

function coversAllPorts(rule: PolicyRule): boolean {
  if (rule.ports.length === 0) return true;
  const total = rule.ports.reduce((n, r) => n + (r.to - r.from + 1), 0);
  return total >= 65535;
}

function lintBreadth(rule: PolicyRule, guardrails: GuardrailLookup, emit: Emit): void {
  const name = `rule '${rule.id}'`;
  if (rule.protocol === '-1') {
    emit(
      at(rule, 'protocol'),
      'wide-protocol',
      `${name} allows every protocol and port`,
      'use protocol: tcp or udp with the ports needed',
    );
  } else if (PORTED.has(rule.protocol) && coversAllPorts(rule)) {
    emit(
      at(rule, rule.ports.length === 0 ? 'to' : 'ports'),
      'wide-ports',
      `${name} allows every ${rule.protocol.toUpperCase()} port`,
      'list the ports the service uses, e.g. ports: [443]',
    );
  }
  if (!PORTED.has(rule.protocol) && rule.ports.length > 0) {
    emit(
      at(rule, 'ports'),
      'ports-ignored',
      `ports are ignored for protocol ${rule.protocol === '-1' ? 'all' : rule.protocol}: ${name} allows every port`,
      'remove ports:, or use protocol: tcp / udp if the ports were meant',
    );
  }
  for (const d of rule.destinations) {
    if (d.kind === 'fqdn') lintFqdn(d, guardrails, emit);
    else if (d.kind === 'cidr') lintCidr(d, guardrails, emit);
  }
}

function lintFqdn(d: Destination & { kind: 'fqdn' }, guardrails: GuardrailLookup, emit: Emit): void {
  const written = formatFqdnPattern(d);
  if (d.match !== 'exact' && spansPublicSuffix(d.name)) {
    emit(
      d.loc,
      'wide-fqdn',
      `${written} spans the public suffix '${d.name}': anyone can register a name under it`,
      'name the hosts, or wildcard below a domain the vendor owns (e.g. *.stripe.network)',
      written,
    );
  }
  const localhost = d.name === 'localhost' || d.name.endsWith('.localhost');
  const address = localhost || d.match === 'exact' ? guardedNameAddress(d.name) : undefined;
  const m = address !== undefined ? guardrails(address) : undefined;
  if (m !== undefined) {
    emit(
      d.loc,
      'guardrail',
      `${written} resolves into ${m.guardrail.cidr} (${m.guardrail.label}); the guardrail denies it, as a name never opens a guarded range`,
      `remove it; the guardrail stops ${m.guardrail.stops}`,
      written,
    );
  }
}

function lintCidr(d: Destination & { kind: 'cidr' }, guardrails: GuardrailLookup, emit: Emit): void {
  const prefix = Number(d.cidr.slice(d.cidr.indexOf('/') + 1));
  const wide = d.family === 4 ? prefix < 8 : prefix < 16;
  if (wide) {
    emit(
      d.loc,
      'wide-cidr',
      prefix === 0
        ? `${d.cidr} is the whole ${d.family === 4 ? 'IPv4' : 'IPv6'} internet`
        : `${d.cidr} covers a large part of the address space`,
      "name the destination by fqdn, or narrow the CIDR to the provider's published range",
      d.cidr,
    );
  }
  const m = guardrails(d.cidr);
  if (m === undefined) return;
  if (m.inside) {
    emit(
      d.loc,
      'guardrail',
      `${d.cidr} lies in the guardrail range ${m.guardrail.cidr} (${m.guardrail.label}); naming it explicitly lifts the built-in deny`,
      `keep it only if the workload must reach it; the guardrail stops ${m.guardrail.stops}`,
      d.cidr,
    );
  } else if (!wide) {
    emit(
      d.loc,
      'guardrail',
      `${d.cidr} overlaps the guardrail range ${m.guardrail.cidr} (${m.guardrail.label}); that part stays denied`,
      'narrow the CIDR to the addresses meant, or name the guarded range in its own rule if it is really needed',
      d.cidr,
    );
  }
}

function selectorMatches(s: WorkloadSelector, w: RegisteredWorkload): boolean {
  if (s.identity !== undefined && !matchIdentity(s.identity, w.identity)) return false;
  if (s.labels !== undefined) {
    for (const [k, v] of Object.entries(s.labels)) if (w.labels[k] !== v) return false;
  }
  return true;
}

function showSelector(s: WorkloadSelector): string {
  const parts: string[] = [];
  if (s.identity !== undefined) parts.push(`identity ${s.identity.value}`);
  if (s.labels !== undefined)
    parts.push(
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
  return parts.join(' with labels ');
}

function lintReach(policy: Policy, registry: readonly RegisteredWorkload[], emit: Emit): void {
  if (policy.workloads.length === 0) {
    emit(
      policy.loc,
      'unreachable',
      `policy '${policy.name}' selects no workloads, so none of its rules apply`,
      'add spec.workloads: [{ identity: … }] or select by labels from the WorkloadRegistry',
    );
    return;
  }
  const reached = new Map<string, RegisteredWorkload>();
  for (const s of policy.workloads) {
    const matches = registry.filter((w) => selectorMatches(s, w));
    for (const w of matches) reached.set(w.identity, w);
    // Labels come only from the registry, so a selector with labels and no match is dead.
    if (s.labels !== undefined && matches.length === 0) {
      emit(
        s.loc,
        'unreachable',
        `no registered workload matches ${showSelector(s)}`,
        registry.length === 0
          ? 'add a WorkloadRegistry document listing the workloads and their labels'
          : 'check the label values against the WorkloadRegistry, or select by identity',
      );
    }
  }
  for (const rule of policy.rules) {
    const mismatched = new Map<string, RegisteredWorkload[]>();
    for (const w of reached.values()) {
      const cls = w.labels.dataClass;
      if (cls === undefined || dataClassFits(cls, rule.dataClass)) continue;
      mismatched.set(cls, [...(mismatched.get(cls) ?? []), w]);
    }
    for (const [cls, ws] of mismatched) {
      const first = ws[0]?.identity ?? '';
      const more = ws.length > 1 ? ` and ${ws.length - 1} more` : '';
      const approved =
        rule.dataClass === undefined ? 'declares no dataClass' : `is approved for '${rule.dataClass}'`;
      emit(
        at(rule, 'dataClass'),
        'data-class-mismatch',
        `workload ${first}${more} handles ${cls} data, but rule '${rule.id}' ${approved}`,
        `after review, set dataClass: ${cls} on the rule; otherwise stop selecting ${cls} workloads in this policy`,
      );
    }
  }
}

function selectorKey(p: Policy): string {
  const parts = p.workloads.map((s) =>
    JSON.stringify([s.identity?.kind, s.identity?.value, Object.entries(s.labels ?? {}).sort()]),
  );
  return `${p.mode}|${[...new Set(parts)].sort().join('|')}`;
}

interface Net {
  readonly family: 4 | 6;
  readonly net: bigint;
  readonly prefix: number;
}

function netOf(cidr: string): Net | undefined {
  const v4 = parseIpv4Cidr(cidr);
  if (v4 !== undefined) return { family: 4, net: BigInt(v4.address), prefix: v4.prefix };
  const v6 = parseIpv6Cidr(cidr);
  return v6 === undefined ? undefined : { family: 6, net: v6.address, prefix: v6.prefix };
}

function under(name: string, suffix: string): boolean {
  return name.endsWith(`.${suffix}`);
}

/** True when destination `a` allows everything destination `b` allows. */
export function destinationCovers(a: Destination, b: Destination): boolean {
  if (a.kind === 'fqdn' && b.kind === 'fqdn') {
    if (a.match === 'exact') return b.match === 'exact' && a.name === b.name;
    if (a.match === 'one-label') {
      if (b.match === 'exact')
        return b.name.slice(b.name.indexOf('.') + 1) === a.name && b.name.includes('.');
      return b.match === 'one-label' && b.name === a.name;
    }
    // `**.s` holds every name below s; `*.s` and `**.s` hold names one or more levels below s.
    return b.match === 'exact' ? under(b.name, a.name) : b.name === a.name || under(b.name, a.name);
  }
  if (a.kind === 'cidr' && b.kind === 'cidr') {
    const x = netOf(a.cidr);
    const y = netOf(b.cidr);
    if (x === undefined || y === undefined || x.family !== y.family || x.prefix > y.prefix) return false;
    const mask = x.family === 4 ? BigInt(ipv4Mask(x.prefix)) : ipv6Mask(x.prefix);
    return (y.net & mask) === x.net;
  }
  if (a.kind === 'prefixList' && b.kind === 'prefixList') return a.ref === b.ref;
  if (a.kind === 'group' && b.kind === 'group') return a.ref === b.ref;
  return false;
}

/** True when rule `a` allows everything rule `b` allows, for at least as long. */
export function ruleCovers(a: PolicyRule, b: PolicyRule): boolean {
  if (a.protocol !== '-1' && a.protocol !== b.protocol) return false;
  if (PORTED.has(a.protocol) && !coversAllPorts(a)) {
    if (b.ports.length === 0) return false;
    if (!b.ports.every((r) => a.ports.some((q) => q.from <= r.from && r.to <= q.to))) return false;
  }
  if (a.expires !== undefined && (b.expires === undefined || b.expires > a.expires)) return false;
  return b.destinations.every((d) => a.destinations.some((c) => destinationCovers(c, d)));
}

/** Names rule `r` as seen from `from`: policy and file only when they differ. */
function refer(r: PolicyRule, from: PolicyRule): string {
  const policy = r.policy !== from.policy ? ` of policy '${r.policy}'` : '';
  const place = r.loc.file !== from.loc.file ? `${r.loc.file}:${r.loc.line}` : `line ${r.loc.line}`;
  return `'${r.id}'${policy} (${place})`;
}

function lintOverlaps(policies: readonly Policy[], emit: Emit): void {
  const groups = new Map<string, PolicyRule[]>();
  for (const p of policies) {
    const key = selectorKey(p);
    groups.set(key, [...(groups.get(key) ?? []), ...p.rules]);
  }
  for (const rules of groups.values()) {
    const reported = new Set<PolicyRule>();
    for (let i = 0; i < rules.length; i++) {
      for (let j = i + 1; j < rules.length; j++) {
        const a = rules[i];
        const b = rules[j];
        if (a === undefined || b === undefined || a.destinations.length === 0 || b.destinations.length === 0)
          continue;
        const ab = ruleCovers(a, b);
        const ba = ruleCovers(b, a);
        if (ab && ba) {
          if (reported.has(b)) continue;
          reported.add(b);
          emit(
            b.loc,
            'duplicate-rule',
            `rule '${b.id}' allows exactly what rule ${refer(a, b)} allows`,
            'delete one of the two rules',
          );
        } else if (ab || ba) {
          const [wide, narrow] = ab ? [a, b] : [b, a];
          if (reported.has(narrow)) continue;
          reported.add(narrow);
          emit(
            narrow.loc,
            'shadowed-rule',
            `rule '${narrow.id}' is shadowed by rule ${refer(wide, narrow)}: everything it allows is already allowed`,
            'delete the narrower rule, or narrow the broader one',
          );
        }
      }
    }
  }
}

function lintTests(set: PolicySet, emit: Emit): void {
  const ids = new Set(set.policies.flatMap((p) => p.rules.map((r) => r.id)));
  const tests = [...set.policies.flatMap((p) => p.tests), ...(set.tests ?? [])];
  for (const t of tests) {
    if (t.rule !== undefined && !ids.has(t.rule)) {
      emit(
        t.loc,
        'unknown-rule',
        `the test expects rule '${t.rule}', which no policy defines`,
        "fix the test's rule: to an existing rule id",
        t.rule,
      );
    }
  }
}
