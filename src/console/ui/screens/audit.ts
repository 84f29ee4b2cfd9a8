/**
 * @module console/ui/screens/audit — the audit trail: the chain's state (intact or broken, the
 * last digest) from `GET audit/verify`, and the records from `GET audit`, filterable by principal,
 * event and time, paged by seq (`after`). Filters live in the route, so a filtered view is a link.
 */
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import {
  DataTable,
  ErrorBox,
  Loading,
  PageHeader,
  api,
  formatTime,
  html,
  navigate,
  usePolling,
} from '../lib.js';
import type { Route, Screen } from '../lib.js';

/** `GET audit/verify`'s answer (src/audit/verify.ts). */
interface Verification {
  readonly ok: boolean;
  readonly records: number;
  readonly lastSeq: number;
  readonly digests: number;
  readonly lastDigest?: { readonly seq: number; readonly lastSeq: number; readonly time: string };
  readonly unsigned: number;
  readonly problem?: { readonly seq: number; readonly digest?: number; readonly reason: string };
}

interface AuditRow {
  readonly seq: number;
  readonly hash: string;
  readonly event: {
    readonly eventTime?: string;
    readonly eventName?: string;
    readonly eventSource?: string;
    readonly userIdentity?: { principal?: string; role?: string; accessKeyId?: string };
    readonly sourceIPAddress?: string;
    readonly errorCode?: string;
    readonly errorMessage?: string;
    readonly readOnly?: boolean;
  };
}

const PAGE = 100;

/** The page size a route asks for, within what the API gives; {@link PAGE} otherwise. */
function pageSize(text: string | null): number {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : PAGE;
}

function ChainState(): VNode {
  const { data, error } = usePolling(() => api.get<Verification>('audit/verify'), 30_000);
  if (error !== undefined)
    return html`<${ErrorBox} error=${error} title="The chain could not be verified" />`;
  if (data === undefined) return html`<${Loading} what="the chain's verification" />`;
  const v = data;
  const d = v.lastDigest;
  return html`<section aria-labelledby="chain-h" class=${`chain ${v.ok ? 'chain-ok' : 'chain-broken'}`}>
    <h2 id="chain-h">Chain state: ${v.ok ? '✔ intact' : '✖ BROKEN'}</h2>
    <p>
      ${
        v.ok
          ? 'Every record links to the one before it, and every signed digest verifies.'
          : 'The chain does not verify: a record or digest was changed, removed or inserted.'
      }
    </p>
    ${
      v.problem !== undefined
        ? html`<p class="bad">
            <strong
              >First problem at record
              #${v.problem.seq}${v.problem.digest !== undefined ? ` (digest #${v.problem.digest})` : ''}:</strong
            >
            ${v.problem.reason}
          </p>`
        : null
    }
    <dl>
      <dt>Records</dt>
      <dd>${v.records} (last #${v.lastSeq})</dd>
      <dt>Signed digests</dt>
      <dd>${v.digests}</dd>
      <dt>Last digest</dt>
      <dd>
        ${
          d !== undefined
            ? `#${d.seq}, signed ${formatTime(d.time)}, vouching for records up to #${d.lastSeq}`
            : 'none yet (the first is signed within 5 minutes of the first record)'
        }
      </dd>
      <dt>Not yet signed</dt>
      <dd>${v.unsigned} record${v.unsigned === 1 ? '' : 's'}</dd>
    </dl>
  </section>`;
}

function Filters(props: { route: Route }): VNode {
  const p = props.route.params;
  return html`<form
    class="filters"
    aria-label="Filter the records"
    onSubmit=${(e: Event) => {
      e.preventDefault();
      const f = new FormData(e.currentTarget as HTMLFormElement);
      navigate('audit', {
        principal: String(f.get('principal') ?? '').trim(),
        event: String(f.get('event') ?? '').trim(),
        since: String(f.get('since') ?? '').trim(),
        limit: p.get('limit') ?? undefined,
      });
    }}
  >
    <div>
      <label for="f-principal">Principal</label
      ><input id="f-principal" name="principal" value=${p.get('principal') ?? ''} />
    </div>
    <div>
      <label for="f-event">Event</label
      ><input id="f-event" name="event" placeholder="ApproveException" value=${p.get('event') ?? ''} />
    </div>
    <div>
      <label for="f-since">Since</label
      ><input
        id="f-since"
        name="since"
        placeholder="24h or 2026-12-01T00:00:00Z"
        value=${p.get('since') ?? ''}
      />
    </div>
    <button type="submit">Filter</button>
    <a href="#/audit">Clear</a>
  </form>`;
}

function Records(props: { route: Route }): VNode {
  const p = props.route.params;
  const [after, setAfter] = useState<number[]>([]);
  const cursor = after[after.length - 1];
  const query = {
    principal: p.get('principal') ?? undefined,
    event: p.get('event') ?? undefined,
    since: p.get('since') ?? undefined,
    after: cursor,
    // `#/audit?limit=N` pages by N (1-1000).
    limit: pageSize(p.get('limit')),
  };
  const { data, error, loading } = usePolling(
    () => api.get<{ records: AuditRow[]; nextAfter?: number }>('audit', query),
    0,
    [p.toString(), cursor],
  );
  if (error !== undefined) return html`<${ErrorBox} error=${error} title="The records could not be read" />`;
  if (data === undefined) return html`<${Loading} what="records" />`;
  const next = data.nextAfter;
  return html`<section aria-labelledby="records-h">
    <h2 id="records-h">Records</h2>
    <${DataTable}
      caption=${`Audit records${cursor !== undefined ? ` after #${cursor}` : ''}${loading ? ' (loading)' : ''}`}
      rowKey=${(r: AuditRow) => String(r.seq)}
      rows=${data.records}
      empty="No records match."
      columns=${[
        { label: 'Seq', rowHeader: true, cell: (r: AuditRow) => `#${r.seq}` },
        { label: 'Time', cell: (r: AuditRow) => formatTime(r.event.eventTime) },
        { label: 'Event', cell: (r: AuditRow) => html`<code>${r.event.eventName ?? ''}</code>` },
        {
          label: 'Principal',
          cell: (r: AuditRow) =>
            `${r.event.userIdentity?.principal ?? ''} (${r.event.userIdentity?.role ?? ''})`,
        },
        { label: 'Source', cell: (r: AuditRow) => r.event.sourceIPAddress ?? '' },
        {
          label: 'Outcome',
          cell: (r: AuditRow) =>
            r.event.errorCode !== undefined
              ? html`<span class="bad">✖ ${r.event.errorCode}</span
                  >${r.event.errorMessage !== undefined ? html`: ${r.event.errorMessage}` : null}`
              : html`<span class="good">✔ ok</span>`,
        },
        { label: 'Hash', cell: (r: AuditRow) => html`<code title=${r.hash}>${r.hash.slice(0, 12)}…</code>` },
      ]}
    />
    <div class="pager">
      <button
        type="button"
        class="secondary"
        disabled=${after.length === 0}
        onClick=${() => setAfter(after.slice(0, -1))}
      >
        Previous page
      </button>
      <button
        type="button"
        class="secondary"
        disabled=${next === undefined}
        onClick=${() => next !== undefined && setAfter([...after, next])}
      >
        Next page
      </button>
    </div>
  </section>`;
}

function AuditScreen(props: { route: Route }): VNode {
  return html`<${PageHeader}
      title="Audit"
      subtitle="The hash-chained trail of every change, sign-in and approval."
    />
    <${ChainState} />
    <${Filters} route=${props.route} />
    <${Records} key=${props.route.params.toString()} route=${props.route} />`;
}

/** The Audit screen. */
export const auditScreen: Screen = { path: 'audit', title: 'Audit', component: AuditScreen };
