/**
 * @module api/weir/check — one `weir check` question answered: the decision for a request, and
 * with `resolve` for each address of its name, rendered as the text and JSON that `weir check`
 * prints. Shared by the CLI (against a policy set on disk) and the Weir API (against what the
 * server enforces), so both print exactly the same explanation.
 */
import type { DecisionRequest, Explanation } from '../../engine/index.js';
import { describeTarget, explanationJson, formatExplanation, keyLine } from '../../explain/index.js';
import type { ExplainContext } from '../../explain/index.js';
import { adviceJson, denialAdvice } from '../../model/index.js';
import type { DenialAdvice } from '../../model/index.js';

/** Resolves a name to its addresses (IPv4 and IPv6 text). */
export type CheckResolver = (host: string) => Promise<readonly string[]>;

/** One request and its explanation. */
export interface Checked {
  readonly request: DecisionRequest;
  readonly explanation: Explanation;
}

/** Everything one check found, ready to render. */
export interface CheckReport {
  readonly main: Checked;
  /** With `resolved`: each address of the name, checked as the gateway would see it. */
  readonly byAddress: readonly Checked[];
  readonly resolveError?: string;
  /** Destinations the snapshot could not resolve, so matching nothing. */
  readonly unresolved: readonly string[];
  readonly resolved: boolean;
  readonly ctx: ExplainContext;
}

/**
 * Asks `explain` about `request`, and with `resolver` about each address of its name. A name
 * that does not resolve is reported, not thrown: the name alone was still checked.
 */
export async function runCheckQuestion(
  explain: (req: DecisionRequest) => Explanation,
  request: DecisionRequest,
  opts: { resolver?: CheckResolver; unresolved?: readonly string[]; ctx?: ExplainContext },
): Promise<CheckReport> {
  const ask = (r: DecisionRequest): Checked => ({ request: r, explanation: explain(r) });
  const main = ask(request);
  const byAddress: Checked[] = [];
  let resolveError: string | undefined;
  const host = request.host;
  if (opts.resolver !== undefined && host !== undefined) {
    try {
      const addresses = [...new Set(await opts.resolver(host))];
      for (const ip of addresses) byAddress.push(ask({ ...request, ip }));
      if (addresses.length === 0) resolveError = `${host} has no addresses`;
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      resolveError = `${host} does not resolve (${code})`;
    }
  }
  return {
    main,
    byAddress,
    ...(resolveError !== undefined ? { resolveError } : {}),
    unresolved: opts.unresolved ?? [],
    resolved: opts.resolver !== undefined,
    ctx: opts.ctx ?? {},
  };
}

/**
 * The outcome at the gateway, which decides each address of a name (name rules by name, CIDR
 * rules and guardrails by address) and connects only to the allowed ones: allowed when one is.
 * A name that does not resolve is a 502 there, so a denial here. Without resolution (an address,
 * or `--no-resolve`), the one decision asked.
 */
export interface FinalDecision {
  readonly allow: boolean;
  /** The explanation the gateway would log: the first allowed address, else the first denied. */
  readonly shown: Checked;
  /** The addresses decided against, in resolver order. */
  readonly denied: readonly Checked[];
  /** The name did not resolve: what the gateway answers instead. */
  readonly dnsFailure?: string;
}

/** The gateway's outcome for a report (`FinalDecision`). */
export function finalDecision(r: CheckReport): FinalDecision {
  if (!r.resolved || r.main.request.host === undefined) {
    return { allow: r.main.explanation.decision.allow, shown: r.main, denied: [] };
  }
  if (r.resolveError !== undefined || r.byAddress.length === 0) {
    return {
      allow: false,
      shown: r.main,
      denied: [],
      dnsFailure: `${r.resolveError ?? `${r.main.request.host} has no addresses`}: the gateway answers 502 dns-failure`,
    };
  }
  const allowed = r.byAddress.filter((c) => c.explanation.decision.allow);
  const denied = r.byAddress.filter((c) => !c.explanation.decision.allow);
  return { allow: allowed.length > 0, shown: allowed[0] ?? denied[0] ?? r.main, denied };
}

/**
 * What the denial advises (`denialAdvice`), computed as the gateway computes it for its 403 body,
 * so both print the same text: for the decision shown, and the destination as asked (the name
 * when one was asked, else the address). None for an allow or a name that does not resolve (a
 * 502 at the gateway, not a policy denial).
 */
function adviceOf(f: FinalDecision): DenialAdvice | undefined {
  if (f.allow || f.dnsFailure !== undefined) return undefined;
  const req = f.shown.request;
  const d = f.shown.explanation.decision;
  const where = req.host !== undefined ? { host: req.host } : { ip: req.ip ?? '' };
  return denialAdvice(d.reason, d.identity, { ...where, port: req.port, protocol: req.protocol }, req.ip);
}

/** 0 when the gateway would let the traffic through (a report-mode would-deny does), else 1. */
export function checkExitCode(r: CheckReport): 0 | 1 {
  return finalDecision(r).allow ? 0 : 1;
}

function block(c: Checked, ctx: ExplainContext): string[] {
  return [
    keyLine('request', `${c.request.identity} -> ${describeTarget(c.request)}`),
    keyLine('at', new Date(c.request.now).toISOString().replace('.000Z', 'Z')),
    ...formatExplanation(c.request, c.explanation, ctx),
  ];
}

/** The `denied:` lines of a resolved name: each address decided against, and its reason. */
function deniedLines(f: FinalDecision): string[] {
  const allowed = f.allow ? ` (${f.shown.request.ip ?? ''} is allowed)` : '';
  return f.denied.map((c) =>
    keyLine(
      'denied',
      `${c.request.ip ?? ''}: ${c.explanation.decision.reason}` +
        (f.allow ? `; the gateway never connects to it${allowed}` : ''),
    ),
  );
}

/**
 * The text `weir check` prints. The first line is the final decision, as the gateway would take
 * it; with a resolved name, the addresses and the denied ones with their reasons follow, then
 * each address's explanation. Checked by name only, the one explanation follows.
 */
export function checkText(r: CheckReport): string {
  const f = finalDecision(r);
  const host = r.main.request.host;
  const single = block(f.shown, r.ctx);
  // The explanation's own decision line, moved to the top (it is the final one).
  const decisionAt = single.findIndex((l) => l.startsWith('decision:'));
  const decisionLine = single[decisionAt] ?? keyLine('decision', f.allow ? 'allow' : 'deny');
  const out: string[] = [];
  if (f.dnsFailure !== undefined) {
    out.push(keyLine('decision', `deny (${f.dnsFailure})`), ...block(r.main, r.ctx));
    out.push(keyLine('note', 'the lines above check the name alone; the gateway also needs an address'));
  } else if (r.resolved && host !== undefined) {
    const addresses = r.byAddress.map((c) => c.request.ip ?? '').join(', ');
    out.push(decisionLine);
    out.push(
      keyLine('resolved', `${host} -> ${addresses} (as the gateway resolves; each address is decided)`),
    );
    out.push(...deniedLines(f));
    for (const c of r.byAddress) out.push('', ...block(c, r.ctx));
  } else {
    out.push(decisionLine, ...single.filter((_, i) => i !== decisionAt));
    if (host !== undefined) {
      out.push(
        keyLine(
          'note',
          'checked by name only (--no-resolve): the gateway also decides each address of the name (CIDR rules, guardrails)',
        ),
      );
    }
  }
  if (r.unresolved.length > 0) {
    out.push(keyLine('note', `not resolved offline, so matching nothing here: ${r.unresolved.join(', ')}`));
  }
  const advice = adviceOf(f);
  if (advice !== undefined) out.push('', ...advice.lines);
  return `${out.join('\n')}\n`;
}

/**
 * The JSON object `weir check --format json` prints: the explanation of the final decision (for
 * a resolved name, the address the gateway would log), each address, and the denied ones.
 */
export function checkJson(r: CheckReport): Record<string, unknown> {
  const f = finalDecision(r);
  const out = explanationJson(f.shown.request, f.shown.explanation, r.ctx);
  if (r.resolved && r.main.request.host !== undefined) {
    out.resolved = true;
    out.addresses = r.byAddress.map((c) => explanationJson(c.request, c.explanation, r.ctx));
    out.denied = f.denied.map((c) => ({ ip: c.request.ip, reason: c.explanation.decision.reason }));
    if (r.resolveError !== undefined) out.resolveError = r.resolveError;
    if (f.dnsFailure !== undefined) {
      out.decision = 'deny';
      out.allow = false;
      out.reason = 'dns-failure';
      out.message = f.dnsFailure;
    }
  } else if (r.main.request.host !== undefined) out.resolved = false;
  if (r.unresolved.length > 0) out.unresolved = [...r.unresolved];
  const advice = adviceOf(f);
  if (advice !== undefined) out.template = adviceJson(advice);
  return out;
}
