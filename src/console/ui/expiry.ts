/**
 * @module console/ui/expiry — how the inventory screens (Workloads, Policies and rules) show a
 * rule's or a grant's expiry: in words first (`expired`, `expiring: 9 d left`), with a symbol and
 * colour only as extras, so the state never depends on colour (WCAG 1.4.1).
 */
import type { VNode } from 'preact';
import { formatTime, formatTimeLeft, html } from './lib.js';

/** The expiry fields the inventory reads give a rule or a grant. */
export interface ExpiryFields {
  readonly expires?: string;
  readonly expiresText?: string;
  readonly expired?: boolean;
  readonly expiring?: boolean;
}

/** `✖ expired 2026-…`, `⚠ expiring: 9 d left (2026-…)`, `2099-06-30 (…left)`, or `never`. */
export function ExpiryCell(props: { row: ExpiryFields }): VNode {
  const r = props.row;
  if (r.expires === undefined) return html`<span>never</span>`;
  const when = r.expiresText ?? formatTime(r.expires);
  // Children as a list: htm drops whitespace that spans a line break.
  if (r.expired === true)
    return html`<span>${[html`<strong class="bad">✖ expired</strong>`, ` ${when}`]}</span>`;
  if (r.expiring === true) {
    return html`<span
      >${[html`<strong class="expiring">⚠ expiring: ${formatTimeLeft(r.expires)}</strong>`, ` (${when})`]}</span
    >`;
  }
  return html`<span>${when} (${formatTimeLeft(r.expires)})</span>`;
}
