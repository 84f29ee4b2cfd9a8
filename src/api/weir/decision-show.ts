/**
 * @module api/weir/decision-show — `GET /weir/v1/decisions/show?id=…` (`ShowDecision`): one stored
 * decision with its full explanation: the decision as the gateway made it; the request explained
 * again, at the decision's time, against the policy in force NOW (the answer names it, and the
 * snapshot that decided); the matched or nearest rule with its owner, justification, data class
 * and expiry; the exception or break-glass session that allowed it, as its record stands now; and
 * for a denial the fix: the `weir exception request …` command, a reviewed rule (YAML) and the
 * console's prefilled request form.
 */
import type { DecisionRequest, MatchedRule } from '../../engine/index.js';
import { explanationJson } from '../../explain/index.js';
import { adviceJson, canonicalAddress, denialAdvice, destinationText } from '../../model/index.js';
import type { DeniedTarget } from '../../model/index.js';
import type { PolicySet } from '../../policy-types/index.js';
import type { StoredDecision, StoreTx } from '../../store/index.js';
import { sessionJson } from './breakglass.js';
import { decisionJson } from './decisions.js';
import { WeirApiError } from './errors.js';
import { exceptionJson } from './exceptions.js';
import type { OperationContext } from './operations.js';

type Json = Record<string, unknown>;

/**
 * The destination of a stored decision as a denial template names it: the name asked for, or
 * the address (the log writes an IP literal in its URL spelling, `[2001:db8::1]`); undefined when
 * the decision names neither (a refused handshake). The gateway carries TCP only.
 */
export function deniedTargetOf(d: StoredDecision): DeniedTarget | undefined {
  const h = d.host;
  const bare = h !== undefined && h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  const literal = bare === undefined ? undefined : canonicalAddress(bare);
  const port = d.port ?? 0;
  if (h !== undefined && literal === undefined) return { host: h, port, protocol: 'tcp' };
  const ip = literal?.ip ?? d.ip;
  return ip === undefined || ip === '' ? undefined : { ip, port, protocol: 'tcp' };
}

/** The decision's request as the gateway put it to the engine: the name and the address decided. */
function requestOf(d: StoredDecision, identity: string, t: DeniedTarget): DecisionRequest {
  const ip = t.ip ?? (d.ip !== undefined && d.ip !== '' ? d.ip : undefined);
  return {
    identity,
    ...(t.host !== undefined ? { host: t.host } : {}),
    ...(ip !== undefined ? { ip } : {}),
    port: t.port,
    protocol: 'tcp',
    now: d.at.getTime(),
  };
}

/** The rule `policy`/`ruleId` of the set, with what a reviewer asks of it. */
function ruleJson(set: PolicySet | undefined, policy: string, ruleId: string, from: string): Json {
  const p = set?.policies.find((x) => x.name === policy);
  const r = p?.rules.find((x) => x.id === ruleId);
  if (p === undefined || r === undefined) return { policy, ruleId, from, inForce: false };
  const owner = r.owner ?? p.owner;
  return {
    policy,
    ruleId,
    from,
    inForce: true,
    file: `${r.loc.file}:${r.loc.line}`,
    ...(owner !== undefined ? { owner } : {}),
    ...(r.justification !== undefined ? { justification: r.justification } : {}),
    ...(r.dataClass !== undefined ? { dataClass: r.dataClass } : {}),
    ...(r.expires !== undefined ? { expires: new Date(r.expires).toISOString() } : {}),
    ...(r.securityGroupRuleId !== undefined ? { securityGroupRuleId: r.securityGroupRuleId } : {}),
  };
}

/**
 * The rule the decision rests on: the one the gateway named, else the match or the nearest rule
 * of the explanation now.
 */
function ruleOf(
  d: StoredDecision,
  set: PolicySet | undefined,
  explained: MatchedRule | undefined,
): Json | undefined {
  if (d.policyName !== undefined && d.ruleId !== undefined)
    return ruleJson(set, d.policyName, d.ruleId, 'decision');
  if (explained !== undefined) return ruleJson(set, explained.policy, explained.ruleId, 'explanation');
  return undefined;
}

/** The grant as the decision named it, and its record as it stands now (approver, expiry, state). */
async function grantOf(tx: StoreTx, d: StoredDecision, now: Date): Promise<Json | undefined> {
  const g = d.grant;
  if (g === undefined) return undefined;
  if (g.kind === 'exception') {
    const e = await tx.getException(g.id);
    return { ...g, ...(e !== undefined ? { exception: exceptionJson(e, now) } : {}) };
  }
  const s = await tx.getBreakglassSession(g.id);
  return { ...g, ...(s !== undefined ? { session: sessionJson(s, now.getTime()) } : {}) };
}

/** The fix of a denial: the exception request (command, console form) and a reviewed rule, or why none. */
function fixOf(d: StoredDecision, t: DeniedTarget | undefined): Json | undefined {
  if ((d.decision !== 'deny' && d.decision !== 'would-deny') || d.identity === undefined) return undefined;
  if (d.reason === undefined || t === undefined) return undefined;
  const advice = denialAdvice(d.reason, d.identity, t, d.ip);
  if (advice === undefined) return undefined;
  const json = adviceJson(advice);
  if (!('command' in json)) return json;
  const to = destinationText(t);
  const q = `identity=${encodeURIComponent(d.identity)}&to=${encodeURIComponent(to)}`;
  return { ...json, to, console: `#/exceptions/request?${q}` };
}

/** A decision ID as the gateway makes them (base64url), or a precise error. */
function decisionId(query: Readonly<Record<string, string>>): string {
  const id = query.id;
  if (id === undefined) {
    throw new WeirApiError(
      'MissingParameter',
      "ShowDecision: give 'id', a decision ID (the last column of weir decisions)",
    );
  }
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `ShowDecision: 'id' must be a decision ID (letters, digits, '-' and '_'), got ${JSON.stringify(id.slice(0, 40))}`,
    );
  }
  return id;
}

/** `ShowDecision`: the stored decision and its explanation (see the module comment). */
export async function showDecisionOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const id = decisionId(query);
  const now = ctx.now();
  const found = await ctx.store.transaction(
    undefined,
    async (tx) => {
      const d = await tx.getDecision(id);
      return d === undefined ? undefined : { d, grant: await grantOf(tx, d, now) };
    },
    { readOnly: true },
  );
  if (found === undefined) {
    throw new WeirApiError(
      'InvalidDecision.NotFound',
      `ShowDecision: no stored decision has ID '${id}' (it may be older than --decisions-retention; weir decisions lists those kept)`,
    );
  }
  const { d, grant } = found;
  const info = ctx.options.explainContext?.() ?? {};
  const target = deniedTargetOf(d);
  const request =
    d.identity !== undefined && target !== undefined ? requestOf(d, d.identity, target) : undefined;
  const explained = request !== undefined ? ctx.options.explainer?.(request) : undefined;
  const explanation =
    request !== undefined && explained !== undefined
      ? explanationJson(request, explained, info.set !== undefined ? { set: info.set } : {})
      : undefined;
  const rule = ruleOf(d, info.set, explained?.decision.matched ?? explained?.nearMisses[0]?.rule);
  const fix = fixOf(d, target);
  return {
    decision: decisionJson(d),
    explainedAgainst: {
      // Re-explained now: the policy may have changed since the decision (`decidedBy` says which
      // snapshot decided then).
      ...(info.source !== undefined ? { policy: info.source } : {}),
      ...(d.snapshot !== undefined ? { decidedBy: d.snapshot } : {}),
      at: d.at.toISOString(),
      ...(explanation === undefined
        ? {
            note:
              d.identity === undefined
                ? 'the connection proved no identity: there is no policy question to explain'
                : 'this server has no policy loaded to explain with',
          }
        : {}),
    },
    ...(explanation !== undefined ? { explanation } : {}),
    ...(rule !== undefined ? { rule } : {}),
    ...(grant !== undefined ? { grant } : {}),
    ...(fix !== undefined ? { fix } : {}),
  };
}
