/**
 * @module console/ui/screens/exception-common — what the Exceptions screen's views share: the
 * exception as the Weir API answers it, its state in words (a symbol beside the word, so colour is
 * never the only signal), the instant it stops allowing, a clock that ticks each second for the
 * live "time left", and the field an API error names (`field 'ttl': …`), so a form shows the
 * message next to that field.
 */
import { useEffect, useState } from 'preact/hooks';

/** An exception as `GET exceptions` and `exceptions/show` answer it (api/weir/exceptions). */
export interface ExceptionJson {
  readonly id: string;
  readonly identity: string;
  readonly destinations: readonly string[];
  readonly reason: string;
  readonly dataClass?: string;
  readonly ttl: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly requester: string;
  readonly requestedAt: string;
  readonly state: 'pending' | 'active' | 'expired' | 'denied' | 'revoked';
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly comment?: string;
  readonly expires?: string;
  readonly revokedBy?: string;
  readonly revokedAt?: string;
  readonly revokeReason?: string;
}

/** Whether the signed-in key may take an action, and the server's reason when not. */
export interface May {
  readonly allowed: boolean;
  readonly why?: string;
}

/** `GET exceptions/review` (api/weir/exception-review). */
export interface ExceptionReview {
  readonly exception: ExceptionJson;
  readonly serverTime: string;
  readonly until?: string;
  readonly timeLeftSeconds?: number;
  readonly approval: {
    readonly requester: string;
    readonly maxTtl: string;
    readonly approverLists: readonly { readonly policy: string; readonly approvers: readonly string[] }[];
    readonly mayApprove?: {
      readonly anyApprover: boolean;
      readonly principals?: readonly string[];
      readonly except: readonly string[];
    };
    readonly decidedBy?: string;
  };
  readonly caller: {
    readonly principal?: string;
    readonly role?: string;
    readonly approve: May;
    readonly deny: May;
    readonly revoke: May;
  };
}

/** Each state in words with a symbol: read without colour, and by screen readers as the word. */
export const STATE_TEXT: Readonly<Record<ExceptionJson['state'], string>> = {
  pending: '◌ pending',
  active: '● active',
  expired: '○ expired',
  denied: '✖ denied',
  revoked: '⊘ revoked',
};

/** When an approved exception stops allowing: its expiry or its window's end, whichever is first. */
export function untilOf(e: ExceptionJson): string | undefined {
  if (e.expires === undefined) return undefined;
  if (e.window === undefined) return e.expires;
  return Date.parse(e.window.end) < Date.parse(e.expires) ? e.window.end : e.expires;
}

/** The time now, re-rendering the caller every `ms` (a live countdown). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

// `field 'ttl': …` as the on-ramp words its refusals (onramp/exceptions); a fixed prefix and a
// word class, so nothing backtracks on the server's text.
const FIELD = /^(?:[A-Za-z]+: )?field '([A-Za-z]+)'/;

/** The request field an API error's message names, if any (`ttl`, `to`, `dataClass` …). */
export function fieldOfError(message: string): string | undefined {
  return FIELD.exec(message)?.[1];
}

/** Destinations typed one per line, or separated by commas or spaces. */
export function splitDestinations(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter((d) => d !== '');
}
