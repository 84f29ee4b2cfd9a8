/**
 * @module policy-types/grants — access granted outside the policy files, for a time: an approved
 * exception or an open break-glass session. The on-ramp (onramp) turns its stored records into
 * grants; the snapshot source hands them to the engine beside the policy set; the engine asks
 * them only when the policy set and the attached groups deny. Guardrails apply to a grant's rules
 * exactly as to a policy rule's (a grant never names a guarded range: onramp refuses it).
 */
import type { PolicyRule } from './types.js';

/** Which path granted it: an exception (`weir exception`) or a break-glass session. */
export type GrantKind = 'exception' | 'breakglass';

/** One grant, as the engine enforces it. */
export interface Grant {
  readonly kind: GrantKind;
  /** `exc-…` or `bg-…`: what decisions, logs and `weir check` name. */
  readonly id: string;
  /** The exact workload identity it is for. */
  readonly identity: string;
  /**
   * What it allows, as rules (destinations, ports, protocol). Each rule's `policy` is
   * `exception/<id>` or `breakglass/<id>`, its `id` the grant's ID and its `owner` the requester.
   * Empty with `everything`.
   */
  readonly rules: readonly PolicyRule[];
  /**
   * Break-glass without destinations: every destination but the link-local/metadata guardrails.
   */
  readonly everything: boolean;
  /** Epoch ms from which it allows (approval, or the start of its change window). */
  readonly from: number;
  /** Epoch ms from which it no longer allows (expiry, or the end of its window, whichever first). */
  readonly until: number;
  /** The principal who asked (an exception's requester, a session's opener). */
  readonly requester: string;
  /** The principal who approved (exceptions only). */
  readonly approver?: string;
  readonly reason: string;
  /** The grant's own expiry, epoch ms (what people are told; `until` may be earlier). */
  readonly expires: number;
}

/** What a decision allowed by a grant names of it (decision log, `weir decisions`, `weir check`). */
export interface GrantRef {
  readonly kind: GrantKind;
  readonly id: string;
  readonly requester: string;
  readonly approver?: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly expires: string;
}
