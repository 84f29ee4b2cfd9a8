/**
 * @module policy/loader — builds a {@link PolicySet} from parsed YAML documents: each document
 * checked against its kind's schema, then normalised field by field (rules, selectors, tests,
 * registry entries), so one bad value does not hide the next. Problems become diagnostics; a
 * rule, selector or test with an error is left out of the set.
 */
import * as z from 'zod';
import { isResourceId } from '../model/index.js';
import { closest, DIAGNOSTIC_CODES, showValue } from './diagnostics.js';
import type { Diagnostic, DiagnosticCode, Severity } from './diagnostics.js';
import {
  normalizeCidr,
  normalizeFqdn,
  normalizeProtocol,
  parseDuration,
  parseIdentityPattern,
  parsePrincipal,
  parseSecurityGroupId,
  parsePort,
  parseTestTarget,
  parseTime,
  mergePorts,
} from './normalize.js';
import type { Checked, Problem } from './normalize.js';
import {
  API_VERSION,
  destinationSchema,
  DOCUMENT_KINDS,
  DOCUMENT_SCHEMAS,
  metadataSchema,
  portSchema,
  protocolSchema,
  registryWorkloadSchema,
  ruleSchema,
  selectorSchema,
  testCaseSchema,
} from './schema.js';
import type { DocumentKind } from './schema.js';
import { isRecord, reportSchemaIssues, typeName } from './schema-issues.js';
import { parseYaml } from './source.js';
import type { DataPath, SourceDocument } from './source.js';
import type {
  Destination,
  ExceptionSettings,
  Mode,
  Policy,
  PolicyRule,
  PolicySet,
  PolicyTest,
  PortRange,
  RegisteredWorkload,
  RuleField,
  SourceLocation,
  WorkloadSelector,
} from './types.js';

/** One file's text, and whether it sits under a `tests/` directory. */
export interface PolicySource {
  readonly file: string;
  readonly text: string;
  /** Under `tests/`: only `EgressPolicyTest` documents belong here. */
  readonly inTests?: boolean;
}

interface MutablePolicy extends Omit<Policy, 'tests'> {
  tests: PolicyTest[];
}

/** Collects documents file by file; {@link Loader.finish} gives the set. */
export class Loader {
  readonly diagnostics: Diagnostic[] = [];
  readonly #policies: MutablePolicy[] = [];
  readonly #policyByName = new Map<string, MutablePolicy>();
  readonly #workloads: RegisteredWorkload[] = [];
  readonly #workloadLoc = new Map<string, SourceLocation>();
  readonly #setTests: PolicyTest[] = [];
  readonly #pendingTests: { policy: string; doc: SourceDocument; tests: PolicyTest[] }[] = [];

  report(
    loc: SourceLocation & { endLine?: number; endCol?: number },
    code: DiagnosticCode,
    message: string,
    extra: { hint?: string | undefined; value?: unknown; severity?: Severity } = {},
  ): void {
    const d: Diagnostic = {
      file: loc.file,
      line: loc.line,
      col: loc.col,
      ...(loc.endLine !== undefined && loc.endCol !== undefined
        ? { endLine: loc.endLine, endCol: loc.endCol }
        : {}),
      severity: extra.severity ?? DIAGNOSTIC_CODES[code].severity,
      code,
      message,
      ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
      ...('value' in extra ? { value: showValue(extra.value) } : {}),
    };
    this.diagnostics.push(d);
  }

  /** Reports a normaliser problem at `path`, with the value written there. */
  #problem(doc: SourceDocument, path: DataPath, p: Problem): void {
    this.report(doc.locate(path), p.code, p.message, { hint: p.hint, value: doc.valueAt(path) });
  }

  /** Unwraps a checked value, reporting its problem or warning at `path`. */
  #check<T>(doc: SourceDocument, path: DataPath, c: Checked<T>): T | undefined {
    if (!c.ok) {
      this.#problem(doc, path, c.problem);
      return undefined;
    }
    if (c.warning !== undefined) this.#problem(doc, path, c.warning);
    return c.value;
  }

  file(src: PolicySource): void {
    const { docs, diagnostics } = parseYaml(src.file, src.text);
    this.diagnostics.push(...diagnostics);
    for (const doc of docs) this.#document(doc, src.inTests === true);
  }

  #document(doc: SourceDocument, inTests: boolean): void {
    const data = doc.data;
    if (!isRecord(data)) {
      this.report(doc.locate([]), 'invalid-type', `a document must be a mapping, not ${typeName(data)}`, {
        hint: 'start it with apiVersion: weir.dev/v1 and kind: EgressPolicy',
      });
      return;
    }
    const kind = this.#kind(doc, data);
    if (kind === undefined) return;
    if (inTests && kind !== 'EgressPolicyTest') {
      this.report(doc.locate(['kind']), 'misplaced-document', `this ${kind} under tests/ would be ignored`, {
        hint: 'move it out of tests/; only kind: EgressPolicyTest documents belong there',
      });
      return;
    }
    const schema = DOCUMENT_SCHEMAS[kind];
    const parsed = schema.safeParse(data);
    if (!parsed.success) reportSchemaIssues(this, doc, schema, parsed.error.issues);
    if (!isRecord(data.spec)) return;
    if (kind === 'EgressPolicy') this.#policy(doc, data, data.spec);
    else if (kind === 'WorkloadRegistry') this.#registry(doc, data.spec);
    else this.#testDocument(doc, data.spec);
  }

  #kind(doc: SourceDocument, data: Record<string, unknown>): DocumentKind | undefined {
    const hint = 'start the document with apiVersion: weir.dev/v1 and kind: EgressPolicy';
    if (data.apiVersion === undefined) {
      this.report(doc.locate([]), 'missing-field', "missing required field 'apiVersion'", { hint });
      return undefined;
    }
    if (data.apiVersion !== API_VERSION) {
      this.report(doc.locate(['apiVersion']), 'unknown-kind', `apiVersion must be ${API_VERSION}`, {
        value: data.apiVersion,
        hint: `write apiVersion: ${API_VERSION}`,
      });
      return undefined;
    }
    if (data.kind === undefined) {
      this.report(doc.locate([]), 'missing-field', "missing required field 'kind'", {
        hint: `add kind: ${DOCUMENT_KINDS.join(' | ')}`,
      });
      return undefined;
    }
    if (typeof data.kind === 'string' && (DOCUMENT_KINDS as readonly string[]).includes(data.kind)) {
      return data.kind as DocumentKind;
    }
    const guess = typeof data.kind === 'string' ? closest(data.kind, DOCUMENT_KINDS) : undefined;
    this.report(doc.locate(['kind']), 'unknown-kind', `unknown kind; expected ${DOCUMENT_KINDS.join(', ')}`, {
      value: data.kind,
      hint: guess !== undefined ? `did you mean '${guess}'?` : `use kind: ${DOCUMENT_KINDS[0]}`,
    });
    return undefined;
  }

  #policy(doc: SourceDocument, data: Record<string, unknown>, spec: Record<string, unknown>): void {
    const meta = metadataSchema.safeParse(data.metadata);
    const rawName = isRecord(data.metadata) ? data.metadata.name : undefined;
    const name = meta.success ? meta.data.name : typeof rawName === 'string' ? rawName : '';
    const owner = meta.success ? meta.data.owner : undefined;
    const existing = meta.success ? this.#policyByName.get(name) : undefined;
    if (existing !== undefined) {
      this.report(
        doc.locate(['metadata', 'name']),
        'duplicate-policy',
        `policy '${name}' is already defined`,
        {
          hint: `see ${existing.loc.file}:${existing.loc.line}; rename one of them or merge their rules`,
        },
      );
      return;
    }
    const modeParse = z.enum(['enforce', 'report']).safeParse(spec.mode);
    const mode: Mode = modeParse.success ? modeParse.data : 'enforce';
    const workloads: WorkloadSelector[] = [];
    let selectorFailed = false;
    for (const [i, item] of arrayAt(spec.workloads)) {
      const selector = this.#selector(doc, ['spec', 'workloads', i], item);
      if (selector !== undefined) workloads.push(selector);
      else selectorFailed = true;
    }
    const rules: PolicyRule[] = [];
    const ruleIds = new Map<string, SourceLocation>();
    for (const [i, item] of arrayAt(spec.rules)) {
      const path = ['spec', 'rules', i];
      const id = isRecord(item) && typeof item.id === 'string' ? item.id : undefined;
      const seen = id !== undefined ? ruleIds.get(id) : undefined;
      if (id !== undefined && seen !== undefined) {
        this.report(
          doc.locate([...path, 'id']),
          'duplicate-rule-id',
          `rule ID '${id}' is already used in policy '${name}'`,
          {
            hint: `see line ${seen.line}; give each rule of a policy its own id`,
          },
        );
        continue;
      }
      if (id !== undefined) ruleIds.set(id, loc(doc.locate(path)));
      const rule = this.#rule(doc, path, item, name, owner);
      if (rule !== undefined) rules.push(rule);
    }
    const tests = this.#tests(doc, ['spec', 'tests'], spec.tests);
    const exceptions = this.#exceptionSettings(doc, spec.exceptions);
    if (!meta.success) return;
    // Without all its selectors the policy would be linted against the wrong workloads.
    if (selectorFailed) {
      this.#policyByName.set(name, {
        name,
        labels: {},
        mode,
        workloads,
        rules,
        tests,
        loc: loc(doc.locate([])),
      });
      return;
    }
    const policy: MutablePolicy = {
      name,
      labels: meta.data.labels ?? {},
      mode,
      workloads,
      rules,
      tests,
      loc: loc(doc.locate([])),
      ...(owner !== undefined ? { owner } : {}),
      ...(exceptions !== undefined ? { exceptions } : {}),
    };
    this.#policies.push(policy);
    this.#policyByName.set(name, policy);
  }

  /**
   * `spec.exceptions`. A bad entry is an error (so the set does not load and no server runs with
   * it); the approvers written are kept without the bad ones, so an approver list never widens.
   */
  #exceptionSettings(doc: SourceDocument, raw: unknown): ExceptionSettings | undefined {
    if (!isRecord(raw)) return undefined;
    const path = ['spec', 'exceptions'];
    const out: { approvers?: string[]; maxTtlMs?: number; maxTtlText?: string; loc: SourceLocation } = {
      loc: loc(doc.locate(path)),
    };
    if (Array.isArray(raw.approvers)) {
      out.approvers = [];
      for (const [i, item] of arrayAt(raw.approvers)) {
        if (typeof item !== 'string') continue;
        const p = this.#check(doc, [...path, 'approvers', i], parsePrincipal(item));
        if (p !== undefined) out.approvers.push(p);
      }
    }
    if (typeof raw.maxTtl === 'string') {
      const ms = this.#check(doc, [...path, 'maxTtl'], parseDuration(raw.maxTtl));
      if (ms !== undefined) {
        out.maxTtlMs = ms;
        out.maxTtlText = raw.maxTtl;
      }
    }
    return out;
  }

  #selector(doc: SourceDocument, path: DataPath, item: unknown): WorkloadSelector | undefined {
    const valid = selectorSchema.safeParse(item);
    if (!isRecord(item)) return undefined;
    const identity =
      typeof item.identity === 'string'
        ? this.#check(doc, [...path, 'identity'], parseIdentityPattern(item.identity))
        : undefined;
    if (!valid.success || (valid.data.identity !== undefined && identity === undefined)) return undefined;
    return {
      loc: loc(doc.locate(path)),
      ...(identity !== undefined ? { identity } : {}),
      ...(valid.data.labels !== undefined ? { labels: valid.data.labels } : {}),
    };
  }

  /**
   * Normalises one rule field by field, so a typo in one key does not hide a bad CIDR in the
   * next; the rule joins the set only when all of it is valid.
   */
  #rule(
    doc: SourceDocument,
    path: DataPath,
    item: unknown,
    policy: string,
    policyOwner: string | undefined,
  ): PolicyRule | undefined {
    const valid = ruleSchema.safeParse(item);
    if (!isRecord(item)) return undefined;
    let failed = !valid.success;
    const need = <T>(p: DataPath, c: Checked<T>): T | undefined => {
      const v = this.#check(doc, p, c);
      if (v === undefined) failed = true;
      return v;
    };
    const destinations: Destination[] = [];
    for (const [j, raw] of arrayAt(item.to)) {
      const parsed = destinationSchema.safeParse(raw);
      if (!parsed.success) continue;
      const d = parsed.data;
      const dpath = [...path, 'to', j];
      const dloc = loc(doc.locate(dpath));
      if (d.fqdn !== undefined) {
        const f = need([...dpath, 'fqdn'], normalizeFqdn(d.fqdn));
        if (f !== undefined) destinations.push({ kind: 'fqdn', name: f.name, match: f.match, loc: dloc });
      } else if (d.cidr !== undefined) {
        const c = need([...dpath, 'cidr'], normalizeCidr(d.cidr));
        if (c !== undefined) destinations.push({ kind: 'cidr', family: c.family, cidr: c.cidr, loc: dloc });
      } else if (d.prefixList !== undefined) {
        const ref = need([...dpath, 'prefixList'], resourceRef(d.prefixList, 'pl', 'prefix-list'));
        if (ref !== undefined) destinations.push({ kind: 'prefixList', ref, loc: dloc });
      } else if (d.group !== undefined) {
        const ref = need([...dpath, 'group'], resourceRef(d.group, 'sg', 'security-group'));
        if (ref !== undefined) destinations.push({ kind: 'group', ref, loc: dloc });
      }
    }
    const ports: PortRange[] = [];
    for (const [j, raw] of arrayAt(item.ports)) {
      const parsed = portSchema.safeParse(raw);
      const range = parsed.success ? need([...path, 'ports', j], parsePort(parsed.data)) : undefined;
      if (range !== undefined) ports.push(range);
    }
    const rawProtocol = protocolSchema.safeParse(item.protocol ?? 'tcp');
    const protocol = rawProtocol.success
      ? need([...path, 'protocol'], normalizeProtocol(rawProtocol.data))
      : undefined;
    const expires =
      typeof item.expires === 'string'
        ? need([...path, 'expires'], parseTime(item.expires, 'end'))
        : undefined;
    if (failed || !valid.success || protocol === undefined) return undefined;

    const r = valid.data;
    const fieldLocs: Partial<Record<RuleField, SourceLocation>> = {};
    for (const key of Object.keys(r) as RuleField[]) fieldLocs[key] = loc(doc.locate([...path, key]));
    const owner = r.owner ?? policyOwner;
    return {
      id: r.id,
      policy,
      destinations,
      ports: mergePorts(ports),
      protocol,
      loc: loc(doc.locate(path)),
      fieldLocs,
      ...(r.justification !== undefined ? { justification: r.justification } : {}),
      ...(r.dataClass !== undefined ? { dataClass: r.dataClass } : {}),
      ...(owner !== undefined ? { owner } : {}),
      ...(expires !== undefined && r.expires !== undefined ? { expires, expiresText: r.expires } : {}),
    };
  }

  #tests(doc: SourceDocument, path: DataPath, raw: unknown): PolicyTest[] {
    const tests: PolicyTest[] = [];
    for (const [i, item] of arrayAt(raw)) {
      const t = this.#test(doc, [...path, i], item);
      if (t !== undefined) tests.push(t);
    }
    return tests;
  }

  #test(doc: SourceDocument, path: DataPath, item: unknown): PolicyTest | undefined {
    const valid = testCaseSchema.safeParse(item);
    if (!isRecord(item)) return undefined;
    let failed = !valid.success;
    if (typeof item.from === 'string' && item.from.includes('*')) {
      this.#problem(doc, [...path, 'from'], {
        code: 'invalid-identity',
        message: "a test's from is one concrete identity, not a pattern",
        hint: 'name the workload the request comes from, e.g. spiffe://prod.example/ns/payments/sa/checkout',
      });
      failed = true;
    }
    if (
      typeof item.to === 'string' &&
      this.#check(doc, [...path, 'to'], parseTestTarget(item.to)) === undefined
    ) {
      failed = true;
    }
    let at: number | undefined;
    if (typeof item.at === 'string') {
      at = this.#check(doc, [...path, 'at'], parseTime(item.at, 'start'));
      if (at === undefined) failed = true;
    }
    if (failed || !valid.success) return undefined;
    const t = valid.data;
    return {
      from: t.from,
      to: t.to,
      expect: t.expect,
      loc: loc(doc.locate(path)),
      ...(t.rule !== undefined ? { rule: t.rule } : {}),
      ...(t.reason !== undefined ? { reason: t.reason } : {}),
      ...(at !== undefined ? { at } : {}),
    };
  }

  #registry(doc: SourceDocument, spec: Record<string, unknown>): void {
    for (const [i, item] of arrayAt(spec.workloads)) {
      const parsed = registryWorkloadSchema.safeParse(item);
      if (!parsed.success) continue;
      const path = ['spec', 'workloads', i];
      const { identity } = parsed.data;
      if (identity.includes('*') || /\s/.test(identity)) {
        this.#problem(doc, [...path, 'identity'], {
          code: 'invalid-identity',
          message: 'a registry entry is one concrete identity, not a pattern',
          hint: 'list each workload by its exact identity; policies use patterns',
        });
        continue;
      }
      const securityGroups = this.#declaredGroups(doc, path, parsed.data.securityGroups ?? []);
      if (securityGroups === undefined) continue;
      const where = loc(doc.locate(path));
      const seen = this.#workloadLoc.get(identity);
      if (seen !== undefined) {
        this.report(
          doc.locate([...path, 'identity']),
          'duplicate-workload',
          `workload '${identity}' is already registered`,
          {
            hint: `see ${seen.file}:${seen.line}; keep one entry and merge the labels`,
          },
        );
        continue;
      }
      this.#workloadLoc.set(identity, where);
      this.#workloads.push({
        identity,
        labels: parsed.data.labels ?? {},
        ...(securityGroups.length > 0 ? { securityGroups } : {}),
        loc: where,
      });
    }
  }

  /**
   * The `securityGroups` of a registry entry, each listed once (a repeat is a warning); undefined
   * when one is not a group ID, so the entry is left out rather than attached to fewer groups.
   */
  #declaredGroups(doc: SourceDocument, path: DataPath, raw: readonly string[]): string[] | undefined {
    const out: string[] = [];
    const first = new Map<string, number>();
    let failed = false;
    for (const [i, ref] of raw.entries()) {
      const at = [...path, 'securityGroups', i];
      const id = this.#check(doc, at, parseSecurityGroupId(ref));
      if (id === undefined) {
        failed = true;
        continue;
      }
      const seen = first.get(id);
      if (seen !== undefined) {
        this.report(doc.locate(at), 'duplicate-group', `${id} is already listed for this workload`, {
          hint: `see securityGroups[${seen}]; delete this repeat`,
        });
        continue;
      }
      first.set(id, i);
      out.push(id);
    }
    return failed ? undefined : out;
  }

  #testDocument(doc: SourceDocument, spec: Record<string, unknown>): void {
    const tests = this.#tests(doc, ['spec', 'cases'], spec.cases);
    if (typeof spec.policy === 'string') this.#pendingTests.push({ policy: spec.policy, doc, tests });
    else this.#setTests.push(...tests);
  }

  finish(): PolicySet {
    // Test documents may precede the policy they name (tests/ sorts before most file names).
    for (const { policy, doc, tests } of this.#pendingTests) {
      const target = this.#policyByName.get(policy);
      if (target !== undefined) {
        target.tests.push(...tests);
        continue;
      }
      const guess = closest(policy, [...this.#policyByName.keys()]);
      this.report(
        doc.locate(['spec', 'policy']),
        'unknown-policy',
        `no policy named '${policy}' in the set`,
        {
          hint:
            guess !== undefined
              ? `did you mean '${guess}'?`
              : 'name a policy by its metadata.name, or remove spec.policy',
        },
      );
    }
    return { policies: this.#policies, workloads: this.#workloads, tests: this.#setTests };
  }
}

function arrayAt(v: unknown): [number, unknown][] {
  return Array.isArray(v) ? v.map((item, i) => [i, item]) : [];
}

function loc(span: SourceLocation): SourceLocation {
  return { file: span.file, line: span.line, col: span.col };
}

function resourceRef(ref: string, prefix: string, what: string): Checked<string> {
  if (ref.startsWith(`${prefix}-`) && !isResourceId(ref, prefix)) {
    return {
      ok: false,
      problem: {
        code: 'invalid-value',
        message: `not a ${what} ID`,
        hint: `an ID is ${prefix}- and 8 or 17 lower-case hex digits; anything else is looked up as a name`,
      },
    };
  }
  return { ok: true, value: ref };
}
