/**
 * @module outcomes/share — the share of egress through the gateway, defined so that it can be
 * measured from what Weir knows. Weir cannot see traffic that goes around it, so the share is
 * of *workloads*, not bytes: of the workload identities Weir knows (named in the policy in
 * force, attached to a security group, or holding a gateway token valid in the period), those
 * the gateway made a decision for in the period. A known workload with no decision either sent
 * nothing or sent it another way: the list of silent ones is where to look. Beside it, the
 * share of decisions on requests that proved no identity (unauthenticated), which the gateway
 * denies and which a workload without its token produces.
 */

/** Where Weir learnt of a workload identity. */
export type KnownBy = 'policy' | 'attachment' | 'token';

/** What the share is computed from. */
export interface ShareInput {
  /** Identities Weir knows, each with where from. */
  readonly known: ReadonlyMap<string, ReadonlySet<KnownBy>>;
  /** Decisions per known identity in the period (more than 0: it went through the gateway). */
  readonly seen: ReadonlyMap<string, number>;
  /** Decisions in the period on requests with no identity proved, and all decisions. */
  readonly unauthenticated: number;
  readonly decisions: number;
}

/** The share through the gateway. */
export interface GatewayShare {
  readonly known: number;
  /** Known identities with a decision in the period. */
  readonly active: number;
  /** `active / known`; absent when Weir knows no workload. */
  readonly share?: number;
  /** Known identities with no decision, sorted, at most `limit`; `silentCount` says how many in all. */
  readonly silent: { readonly identity: string; readonly knownBy: readonly KnownBy[] }[];
  readonly silentCount: number;
  readonly unauthenticated: { readonly count: number; readonly decisions: number; readonly share?: number };
}

/** {@link GatewayShare} of `input`, listing at most `limit` silent identities. */
export function gatewayShare(input: ShareInput, limit = 100): GatewayShare {
  let active = 0;
  const silent: string[] = [];
  for (const id of input.known.keys()) {
    if ((input.seen.get(id) ?? 0) > 0) active++;
    else silent.push(id);
  }
  silent.sort();
  const known = input.known.size;
  return {
    known,
    active,
    ...(known > 0 ? { share: active / known } : {}),
    silent: silent.slice(0, limit).map((identity) => ({
      identity,
      knownBy: [...(input.known.get(identity) ?? [])].sort(),
    })),
    silentCount: silent.length,
    unauthenticated: {
      count: input.unauthenticated,
      decisions: input.decisions,
      ...(input.decisions > 0 ? { share: input.unauthenticated / input.decisions } : {}),
    },
  };
}

/** Adds `identity` as known by `by` to `known` (a builder for {@link ShareInput.known}). */
export function addKnown(known: Map<string, Set<KnownBy>>, identity: string, by: KnownBy): void {
  const s = known.get(identity);
  if (s === undefined) known.set(identity, new Set([by]));
  else s.add(by);
}
