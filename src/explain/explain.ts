/**
 * @module explain/explain — turns a decision and its near misses into words: the explanation
 * `weir check` prints and `weir policy test` shows under a failing case (decision, mode,
 * reason in a sentence, identity, the rule with file:line, owner and expiry, the rules that
 * almost matched and why not, and a hint at the fix), plus the same as a JSON object.
 * Also the request side both commands share: a `to` target (`host[:port][/proto]`) plus an
 * identity and a time → a decision request, with the defaults stated once (see `requestFor`).
 */
import { GUARDRAIL_HITS } from '../model/index.js';
import type { Decision, DecisionRequest, Explanation, MatchedRule, NearMiss } from '../engine/index.js';
import { closest, formatTime, parseTestTarget } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import type { GrantRef } from '../policy-types/index.js';

/** A request that could not be built, said for people. */
export interface RequestProblem {
  readonly message: string;
  readonly hint?: string;
}

/**
 * Builds the decision request for `identity` reaching `to` (`host[:port][/proto]`, IPv6 in
 * brackets) at `now`. Defaults, so a test or a check means one thing everywhere:
 * - the protocol is `tcp` unless given (`/udp`, `/icmp`, `/icmpv6`, a number);
 * - tcp and udp need a port (no default: `:443` and `:80` are different questions); other
 *   protocols take none (it is sent as 0, and rules of those protocols ignore ports);
 * - `all` / `-1` is refused: a request is one protocol;
 * - a name becomes `host` (FQDN rules match it by name; nothing is resolved), an IP literal
 *   becomes `ip` (CIDR, prefix-list and group rules, and the guardrails).
 */
export function requestFor(
  identity: string,
  to: string,
  now: number,
): { ok: true; value: DecisionRequest } | { ok: false; problem: RequestProblem } {
  const t = parseTestTarget(to);
  if (!t.ok) {
    return { ok: false, problem: { message: t.problem.message, ...hintOf(t.problem.hint) } };
  }
  const protocol = t.value.protocol ?? 'tcp';
  if (protocol === '-1') {
    return {
      ok: false,
      problem: {
        message: 'a request has one protocol; all (-1) is for rules only',
        hint: 'write /tcp, /udp, /icmp, /icmpv6 or a protocol number',
      },
    };
  }
  const where = t.value.host ?? t.value.ip ?? '';
  if ((protocol === 'tcp' || protocol === 'udp') && t.value.port === undefined) {
    const shown = where.includes(':') ? `[${where}]` : where;
    return {
      ok: false,
      problem: {
        message: `no port: ${protocol} needs one`,
        hint: `write e.g. ${shown}:443${protocol === 'tcp' ? '' : '/udp'}`,
      },
    };
  }
  const req: { identity: string; host?: string; ip?: string; port: number; protocol: string; now: number } = {
    identity,
    port: t.value.port ?? 0,
    protocol,
    now,
  };
  if (t.value.host !== undefined) req.host = t.value.host;
  if (t.value.ip !== undefined) req.ip = t.value.ip;
  return { ok: true, value: req };
}

function hintOf(hint: string | undefined): { hint?: string } {
  return hint === undefined ? {} : { hint };
}

/**
 * The verdict a policy states for a request: `allow` when a rule (or an exception) allows it,
 * else `deny`. In report mode the gateway lets a would-deny through, but the policy's answer
 * is still deny — tests assert this, so flipping a policy from report to enforce does not
 * change what its tests mean.
 */
export function verdictOf(d: Decision): 'allow' | 'deny' {
  return d.allow && (d.reason === 'matched' || d.reason === 'exception' || d.reason === 'breakglass')
    ? 'allow'
    : 'deny';
}

/** The target of a request as people write it: `api.stripe.com:443/tcp`, `[fd00::1]:53/udp`. */
export function describeTarget(req: DecisionRequest): string {
  const hasPort = req.protocol === 'tcp' || req.protocol === 'udp';
  let where: string;
  if (req.host !== undefined && req.ip !== undefined) where = `${req.host} (${req.ip})`;
  else if (req.ip !== undefined && req.ip.includes(':') && hasPort) where = `[${req.ip}]`;
  else where = req.host ?? req.ip ?? '';
  return `${where}${hasPort ? `:${req.port}` : ''}/${req.protocol}`;
}

function ruleName(m: MatchedRule): string {
  return `${m.policy}/${m.ruleId}`;
}

/** Context the explanation may use beyond the decision (for "did you mean" hints). */
export interface ExplainContext {
  /** The set the decision came from: its identities feed the unknown-identity hint. */
  readonly set?: PolicySet;
  /**
   * The security-group rules a policy rule became (`weir policy apply`), as a server finds them
   * by their tags; absent where there is no control plane to ask (a policy directory on disk).
   */
  readonly appliedRules?: (m: MatchedRule) => readonly string[];
}

/** The security-group rules shown for `m`: its own, else those it was applied as. */
function sgRulesOf(m: MatchedRule, ctx: ExplainContext): readonly string[] {
  if (m.securityGroupRuleId !== undefined) return [m.securityGroupRuleId];
  return ctx.appliedRules?.(m) ?? [];
}

/** The reason of a decision in one sentence (without the reason code). */
export function reasonSentence(req: DecisionRequest, d: Decision): string {
  const m = d.matched;
  switch (d.reason) {
    case 'matched':
      return m === undefined ? 'a rule allows it' : `rule ${m.ruleId} of policy ${m.policy} allows it`;
    case 'no-match':
      return `no rule of the policies that select this identity allows ${describeTarget(req)}`;
    case 'expired':
      return m === undefined
        ? 'the only rule that matches has expired'
        : `rule ${m.ruleId} of policy ${m.policy} matches but expired on ${m.expires ?? '?'} ` +
            `(owner ${m.owner ?? 'not set'}); an expired rule never allows`;
    case 'guardrail':
      return `${req.ip ?? 'the address'} is in ${d.guardrail ?? 'a guarded range'}, a built-in guardrail that only a rule naming the range can open`;
    case 'unknown-identity':
      return `no policy's workloads select ${d.identity}, so nothing is allowed`;
    case 'exception':
    case 'breakglass':
      return d.grant === undefined
        ? `${d.reason === 'exception' ? 'an approved exception' : 'break-glass access'} allows it`
        : grantSentence(d.grant);
    case 'error':
      return 'the request could not be evaluated (protocol, port or address invalid); any error denies';
  }
}

/**
 * `allowed by exception exc-… requested by A, approved by B, reason "…", expires T` (break-glass:
 * `allowed by break-glass session bg-… opened by A, …`). The reason is quoted as JSON: it is
 * free text from the requester and must not rewrite the reader's terminal.
 */
export function grantSentence(g: GrantRef): string {
  const by =
    g.kind === 'exception' ? `exception ${g.id} requested by` : `break-glass session ${g.id} opened by`;
  const approved = g.approver !== undefined ? `, approved by ${g.approver}` : '';
  return `allowed by ${by} ${g.requester}${approved}, reason ${JSON.stringify(g.reason)}, expires ${g.expires}`;
}

function hint(req: DecisionRequest, e: Explanation, ctx: ExplainContext): string | undefined {
  const d = e.decision;
  const m = d.matched;
  switch (d.reason) {
    case 'no-match': {
      const near = e.nearMisses[0];
      return near === undefined
        ? 'if this traffic is intended, add a rule (with justification, owner, expires) to a policy that selects this identity'
        : `if this traffic is intended, extend ${ruleName(near.rule)} (${where(near.loc)}) or add a rule next to it`;
    }
    case 'expired':
      return m === undefined
        ? undefined
        : `if it is still needed, ${m.owner ?? 'the owner'} renews expires: of ${m.ruleId} at ${where(m)}`;
    case 'guardrail': {
      const g = GUARDRAIL_HITS.find((x) => x.text === d.guardrail);
      const cidr =
        req.ip === undefined ? (g?.cidr ?? 'the range') : `${req.ip}/${req.ip.includes(':') ? 128 : 32}`;
      return `only if this is really needed: a rule must name the range itself, e.g. to: [{ cidr: ${cidr} }]`;
    }
    case 'unknown-identity': {
      const known = knownIdentities(ctx.set);
      const guess = closest(d.identity, known);
      return guess !== undefined
        ? `did you mean ${guess}?`
        : "check the identity, or add it to a policy's workloads: (or the registry, for label selectors)";
    }
    default:
      return undefined;
  }
}

/**
 * Where a rule is written: `file:line` for a policy rule; a security-group rule's ARN alone (its
 * line is 0: it has no file).
 */
function where(loc: { readonly file: string; readonly line: number }): string {
  return loc.line > 0 ? `${loc.file}:${loc.line}` : loc.file;
}

function knownIdentities(set: PolicySet | undefined): string[] {
  if (set === undefined) return [];
  const out = new Set<string>(set.workloads.map((w) => w.identity));
  for (const p of set.policies) {
    for (const w of p.workloads) if (w.identity?.kind === 'exact') out.add(w.identity.value);
  }
  return [...out];
}

/** Width of the `key:` column of explanation lines (`weir check` aligns its own rows to it). */
export const KEY_WIDTH = 11;

/** One aligned `key: value` line. */
export function keyLine(key: string, value: string): string {
  return `${`${key}:`.padEnd(KEY_WIDTH)}${value}`;
}

/**
 * The explanation as aligned `key: value` lines, without a trailing newline:
 * decision, mode, reason, identity, the rule (matched, or for a denial the nearest) with its
 * file:line, owner and expiry, the security-group rule when known, the near misses with why,
 * and a hint.
 */
export function formatExplanation(req: DecisionRequest, e: Explanation, ctx: ExplainContext = {}): string[] {
  const d = e.decision;
  const verdict = verdictOf(d);
  const lines: string[] = [];
  const row = (key: string, value: string) => lines.push(keyLine(key, value));
  row(
    'decision',
    d.allow && verdict === 'deny'
      ? 'allow (report mode: would deny; the gateway allows and logs it)'
      : verdict,
  );
  row('mode', d.mode);
  row('reason', `${d.reason}: ${reasonSentence(req, d)}`);
  row('identity', d.identity);
  if (d.guardrail !== undefined) {
    row('guardrail', d.guardrail);
    const g = GUARDRAIL_HITS.find((x) => x.text === d.guardrail);
    if (g !== undefined) row('it stops', g.stops);
  }
  const m = d.grant === undefined ? d.matched : undefined;
  if (d.grant !== undefined) {
    row(d.grant.kind, d.grant.id);
    row('requester', d.grant.requester);
    if (d.grant.approver !== undefined) row('approver', d.grant.approver);
    row('expires', d.grant.expires);
  }
  if (m !== undefined) {
    const note = d.reason === 'guardrail' ? ' would allow it, but does not name the guarded range' : '';
    row('policy', m.policy);
    row(d.reason === 'no-match' ? 'nearest' : 'rule', `${m.ruleId} (${where(m)})${note}`);
    if (m.owner !== undefined) row('owner', m.owner);
    if (m.expires !== undefined) row('expires', m.expires);
    const sg = sgRulesOf(m, ctx);
    if (sg.length > 0) row(sg.length === 1 ? 'sg rule' : 'sg rules', sg.join(', '));
  }
  const misses = e.nearMisses;
  if (misses.length > 0) {
    lines.push('near misses (rules that almost matched, and why not):');
    for (const n of misses) {
      lines.push(`  ${ruleName(n.rule)} (${where(n.loc)})`);
      for (const why of n.why) lines.push(`    - ${why}`);
    }
  }
  const h = hint(req, e, ctx);
  if (h !== undefined) row('hint', h);
  return lines;
}

function matchedJson(m: MatchedRule, ctx: ExplainContext = {}): Record<string, unknown> {
  const applied = m.securityGroupRuleId === undefined ? sgRulesOf(m, ctx) : [];
  return {
    policy: m.policy,
    ruleId: m.ruleId,
    file: m.file,
    line: m.line,
    ...(m.owner !== undefined ? { owner: m.owner } : {}),
    ...(m.expires !== undefined ? { expires: m.expires } : {}),
    ...(m.securityGroupRuleId !== undefined ? { securityGroupRuleId: m.securityGroupRuleId } : {}),
    ...(applied.length > 0 ? { securityGroupRuleIds: [...applied] } : {}),
  };
}

function nearMissJson(n: NearMiss): Record<string, unknown> {
  return { ...matchedJson(n.rule), col: n.loc.col, why: [...n.why] };
}

/**
 * The explanation as a plain object for JSON output. `decision` is the policy's verdict (see
 * `verdictOf`); `allow` is what the gateway does (they differ in report mode). `matched` is
 * the rule the decision rests on: the match, or for a denial the nearest rule (absent when
 * none). Fields without a value are left out.
 */
export function explanationJson(
  req: DecisionRequest,
  e: Explanation,
  ctx: ExplainContext = {},
): Record<string, unknown> {
  const d = e.decision;
  const h = hint(req, e, ctx);
  return {
    decision: verdictOf(d),
    allow: d.allow,
    mode: d.mode,
    reason: d.reason,
    message: reasonSentence(req, d),
    identity: d.identity,
    request: {
      ...(req.host !== undefined ? { host: req.host } : {}),
      ...(req.ip !== undefined ? { ip: req.ip } : {}),
      port: req.port,
      protocol: req.protocol,
      at: formatTime(req.now),
    },
    ...(d.matched !== undefined ? { matched: matchedJson(d.matched, ctx) } : {}),
    ...(d.guardrail !== undefined ? { guardrail: d.guardrail } : {}),
    ...(d.grant !== undefined ? { grant: { ...d.grant } } : {}),
    nearMisses: e.nearMisses.map(nearMissJson),
    ...(h !== undefined ? { hint: h } : {}),
  };
}
