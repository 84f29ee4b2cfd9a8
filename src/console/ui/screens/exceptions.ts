/**
 * @module console/ui/screens/exceptions — the Exceptions screen: the approval queue (pending
 * requests, each a link to decide it), the active exceptions with their time left counting down,
 * and the history (denied, revoked, expired), from `GET exceptions` polled every 5 s. Its routes:
 * `#/exceptions` (these lists), `#/exceptions/request?identity=…&to=…&reason=…` (the request
 * form, prefilled: a denial row links there) and `#/exceptions/<id>` (one exception: decide,
 * revoke, promote).
 */
import type { VNode } from 'preact';
import {
  DataTable,
  ErrorBox,
  Loading,
  PageHeader,
  api,
  formatRelative,
  formatTime,
  formatTimeLeft,
  hasRole,
  html,
  routeHref,
  usePolling,
} from '../lib.js';
import type { Column, Route, Screen } from '../lib.js';
import { STATE_TEXT, untilOf, useNow } from './exception-common.js';
import type { ExceptionJson } from './exception-common.js';
import { ExceptionDetail } from './exception-detail.js';
import { RequestForm } from './exception-request.js';

const EXCEPTION_ID = /^exc-[0-9a-f]{17}$/;

const idColumn = (verb: string): Column<ExceptionJson> => ({
  label: 'Exception',
  rowHeader: true,
  // The link says what it leads to, so a list of links read alone still makes sense.
  cell: (e) =>
    html`<a href=${routeHref(`exceptions/${e.id}`)} aria-label=${`${verb} ${e.id}`}><code>${e.id}</code></a>`,
});

const common: readonly Column<ExceptionJson>[] = [
  { label: 'Identity', cell: (e) => html`<code>${e.identity}</code>` },
  { label: 'Destinations', cell: (e) => e.destinations.join(', ') },
  { label: 'Reason', cell: (e) => e.reason },
];

function Queue(props: { rows: readonly ExceptionJson[] }): VNode {
  const decide = hasRole('approver');
  return html`<section aria-labelledby="queue-h">
    <h2 id="queue-h">Approval queue</h2>
    <p>
      ${
        decide
          ? 'Open a request to approve or deny it. You never approve your own (two-person rule).'
          : 'Requests waiting for an approver. Your role may request, not approve.'
      }
    </p>
    <${DataTable}
      caption=${`Pending requests (${props.rows.length})`}
      rows=${props.rows}
      rowKey=${(e: ExceptionJson) => e.id}
      empty="No request is waiting."
      columns=${[
        idColumn(decide ? 'Review' : 'Show'),
        ...common,
        { label: 'Requested by', cell: (e: ExceptionJson) => e.requester },
        {
          label: 'Requested',
          cell: (e: ExceptionJson) =>
            html`<time datetime=${e.requestedAt}>${formatRelative(e.requestedAt)}</time>`,
        },
        { label: 'Time to live asked', cell: (e: ExceptionJson) => e.ttl },
      ]}
    />
  </section>`;
}

function Active(props: { rows: readonly ExceptionJson[] }): VNode {
  const now = useNow();
  return html`<section aria-labelledby="active-h">
    <h2 id="active-h">Active</h2>
    <${DataTable}
      caption=${`Active exceptions and their time left (${props.rows.length})`}
      rows=${props.rows}
      rowKey=${(e: ExceptionJson) => e.id}
      empty="No exception is active."
      columns=${[
        idColumn('Show or revoke'),
        ...common,
        { label: 'Approved by', cell: (e: ExceptionJson) => e.decidedBy ?? '' },
        {
          label: 'Time left',
          cell: (e: ExceptionJson) => {
            const until = untilOf(e);
            return until === undefined
              ? ''
              : html`<span class="time-left" data-until=${until}>${formatTimeLeft(until, now)}</span
                  >${' '}(until <time datetime=${until}>${formatTime(until)}</time>)`;
          },
        },
      ]}
    />
  </section>`;
}

function History(props: { rows: readonly ExceptionJson[] }): VNode {
  return html`<section aria-labelledby="history-h">
    <h2 id="history-h">History</h2>
    <${DataTable}
      caption=${`Denied, revoked and expired exceptions (${props.rows.length})`}
      rows=${props.rows}
      rowKey=${(e: ExceptionJson) => e.id}
      empty="None yet."
      columns=${[
        idColumn('Show'),
        { label: 'State', cell: (e: ExceptionJson) => STATE_TEXT[e.state] },
        ...common,
        { label: 'Requested by', cell: (e: ExceptionJson) => e.requester },
        {
          label: 'Ended',
          cell: (e: ExceptionJson) =>
            e.state === 'revoked'
              ? `revoked by ${e.revokedBy ?? '?'} ${formatTime(e.revokedAt)}: ${e.revokeReason ?? ''}`
              : e.state === 'denied'
                ? `denied by ${e.decidedBy ?? '?'} ${formatTime(e.decidedAt)}: ${e.comment ?? ''}`
                : `expired ${formatTime(untilOf(e))} (approved by ${e.decidedBy ?? '?'})`,
        },
      ]}
    />
  </section>`;
}

function Lists(): VNode {
  const { data, error, loading } = usePolling(
    () => api.get<{ exceptions: ExceptionJson[] }>('exceptions'),
    5000,
  );
  const all = [...(data?.exceptions ?? [])].sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  const of = (...states: ExceptionJson['state'][]): ExceptionJson[] =>
    all.filter((e) => states.includes(e.state));
  return html`<${PageHeader}
      title="Exceptions"
      subtitle="Temporary, approved access: the queue, what is active and for how long, and what ended."
    >
      <a href=${routeHref('exceptions/request')}>Request an exception</a>
    </${PageHeader}>
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="Exceptions could not be read" />` : null}
    ${
      data === undefined && loading
        ? html`<${Loading} what="exceptions" />`
        : html`<${Queue} rows=${of('pending')} />
            <${Active} rows=${of('active')} />
            <${History} rows=${of('denied', 'revoked', 'expired')} />`
    }`;
}

function ExceptionsScreen(props: { route: Route }): VNode {
  const sub = props.route.path[1];
  if (sub === 'request') return html`<${RequestForm} route=${props.route} />`;
  if (sub !== undefined) {
    if (!EXCEPTION_ID.test(sub)) {
      return html`<${PageHeader} title="Exceptions" />
        <${ErrorBox} error=${new Error(`${sub} is not an exception ID (exc- and 17 hex digits)`)} />
        <p><a href=${routeHref('exceptions')}>All exceptions</a></p>`;
    }
    return html`<${ExceptionDetail} key=${sub} id=${sub} route=${props.route} />`;
  }
  return html`<${Lists} />`;
}

/** The Exceptions screen. */
export const exceptionsScreen: Screen = {
  path: 'exceptions',
  title: 'Exceptions',
  component: ExceptionsScreen,
};
