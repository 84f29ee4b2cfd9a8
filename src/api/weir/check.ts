/**
 * @module api/weir/check — one `weir check` question answered: the decision for a request, and
 * with `resolve` for each address of its name, rendered as the text and JSON that `weir check`
 * prints. Shared by the CLI (against a policy set on disk) and the Weir API (against what the
 * server enforces), so both print exactly the same explanation.
 */
import type { DecisionRequest, Explanation } from '../../engine/index.js';
import { describeTarget, explanationJson, formatExplanation, keyLine } from '../../explain/index.js';
import type { ExplainContext } from '../../explain/index.js';

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

/** 0 when every decision lets the traffic through (a report-mode would-deny does), else 1. */
export function checkExitCode(r: CheckReport): 0 | 1 {
  return [r.main, ...r.byAddress].every((c) => c.explanation.decision.allow) ? 0 : 1;
}

function block(c: Checked, ctx: ExplainContext): string[] {
  return [
    keyLine('request', `${c.request.identity} -> ${describeTarget(c.request)}`),
    keyLine('at', new Date(c.request.now).toISOString().replace('.000Z', 'Z')),
    ...formatExplanation(c.request, c.explanation, ctx),
  ];
}

/** The text `weir check` prints. */
export function checkText(r: CheckReport): string {
  const out = block(r.main, r.ctx);
  if (r.resolved && r.main.request.host !== undefined) {
    if (r.resolveError !== undefined)
      out.push(keyLine('resolve', `${r.resolveError}; only the name was checked`));
    if (r.byAddress.length > 0) {
      const addresses = r.byAddress.map((c) => c.request.ip ?? '').join(', ');
      out.push(keyLine('resolved', `${r.main.request.host} -> ${addresses}; each address checked below`));
    }
    for (const c of r.byAddress) out.push('', ...block(c, r.ctx));
  }
  if (r.unresolved.length > 0) {
    out.push(keyLine('note', `not resolved offline, so matching nothing here: ${r.unresolved.join(', ')}`));
  }
  return `${out.join('\n')}\n`;
}

/** The JSON object `weir check --format json` prints. */
export function checkJson(r: CheckReport): Record<string, unknown> {
  const out = explanationJson(r.main.request, r.main.explanation, r.ctx);
  if (r.resolved && r.main.request.host !== undefined) {
    out.addresses = r.byAddress.map((c) => explanationJson(c.request, c.explanation, r.ctx));
    if (r.resolveError !== undefined) out.resolveError = r.resolveError;
  }
  if (r.unresolved.length > 0) out.unresolved = [...r.unresolved];
  return out;
}
