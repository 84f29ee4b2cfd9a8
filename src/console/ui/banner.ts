/**
 * @module console/ui/banner — the break-glass banner, on every screen while a session is open:
 * who opened it, for which identity, why, and until when. Polled, so a session opened elsewhere
 * (the CLI, another browser) shows within one interval, and one that ends disappears.
 */
import type { VNode } from 'preact';
import { api, formatTime, formatTimeLeft, html, routeHref, usePolling } from './lib.js';

/** A break-glass session as `GET /weir/v1/breakglass` lists it. */
export interface BreakglassSessionJson {
  readonly id: string;
  readonly state: 'open' | 'closed' | 'expired' | 'drill';
  readonly identity: string;
  readonly destinations: readonly string[];
  readonly everything: boolean;
  readonly reason: string;
  readonly principal: string;
  readonly openedAt: string;
  readonly expires: string;
  readonly drill: boolean;
  readonly closedAt?: string;
  readonly closedBy?: string;
  readonly closeReason?: string;
}

/** How often the banner asks. */
export const BANNER_POLL_MS = 5000;

/** The banner; nothing while no session is open. */
export function BreakglassBanner(): VNode | null {
  const { data } = usePolling(
    () => api.get<{ sessions: BreakglassSessionJson[] }>('breakglass'),
    BANNER_POLL_MS,
  );
  const open = (data?.sessions ?? []).filter((s) => s.state === 'open');
  if (open.length === 0) return null;
  return html`<section class="breakglass-banner" aria-label="Break-glass sessions open" role="region">
    <p class="banner-title">
      <strong>Break-glass open</strong> (${open.length} session${open.length > 1 ? 's' : ''}):
    </p>
    <ul>
      ${open.map((s) => {
        // One string for the sentence: htm drops whitespace at line breaks, as JSX does.
        const to = s.everything ? 'everything but the guardrails' : s.destinations.join(', ');
        const rest = ` to ${to} because “${s.reason}”, until ${formatTime(s.expires)} (${formatTimeLeft(s.expires)}). `;
        return html`<li key=${s.id}>
          <strong>${s.principal}</strong>${' opened egress for '}<code>${s.identity}</code>${rest}<a
            href=${routeHref('breakglass')}
            >Review or close</a
          >
        </li>`;
      })}
    </ul>
  </section>`;
}
