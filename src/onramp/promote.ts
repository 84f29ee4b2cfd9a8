/**
 * @module onramp/promote — what an exception becomes when it is promoted: the policy rules (one
 * per port and protocol) to paste under `spec.rules` of the workload's policy, with its reason as
 * `justification`, its requester as `owner`, its data class and its expiry. Here rather than in
 * the CLI so that `weir exception promote` and the Weir API's `GET exceptions/promote` (the
 * console's copy button) print the same text to the character.
 */
import { renderRuleYaml } from '../model/index.js';
import type { TemplateDestination } from '../model/index.js';
import { parseExceptionDestination } from './destination.js';
import type { ExceptionDestination } from './destination.js';

/** The fields of an exception a promoted rule is made of (the API's JSON form has them all). */
export interface PromotableException {
  readonly id: string;
  readonly identity: string;
  readonly destinations: readonly string[];
  readonly reason: string;
  readonly requester: string;
  readonly dataClass?: string;
  /** ISO 8601; absent (never approved): the rule's `expires` is left as a placeholder. */
  readonly expires?: string;
}

function templateDestination(d: ExceptionDestination): TemplateDestination {
  const t = d.target;
  if (t.kind === 'fqdn') {
    return { fqdn: t.match === 'exact' ? t.name : `${t.match === 'one-label' ? '*' : '**'}.${t.name}` };
  }
  return t.kind === 'cidr' ? { cidr: t.cidr } : { prefixList: t.ref };
}

/**
 * The policy rules `e` becomes (one per port and protocol), as YAML for `spec.rules`, with
 * justification (its reason), owner (its requester), dataClass and expiry filled in.
 */
export function promoteYaml(e: PromotableException): string {
  const groups = new Map<string, ExceptionDestination[]>();
  for (const text of e.destinations) {
    const d = parseExceptionDestination(text);
    if (!d.ok) continue;
    const key = `${d.value.port ?? ''}/${d.value.protocol}`;
    groups.set(key, [...(groups.get(key) ?? []), d.value]);
  }
  const parts: string[] = [];
  let n = 0;
  for (const ds of groups.values()) {
    const first = ds[0];
    if (first === undefined) continue;
    n++;
    parts.push(
      renderRuleYaml({
        id: groups.size === 1 ? e.id : `${e.id}-${n}`,
        identity: e.identity,
        to: ds.map(templateDestination),
        ...(first.port !== undefined ? { ports: [String(first.port)] } : {}),
        protocol: first.protocol,
        justification: e.reason,
        owner: e.requester,
        ...(e.dataClass !== undefined ? { dataClass: e.dataClass } : {}),
        ...(e.expires !== undefined ? { expires: e.expires } : {}),
      }),
    );
  }
  return parts.join('');
}
