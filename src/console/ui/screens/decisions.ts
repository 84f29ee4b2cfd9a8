/**
 * @module console/ui/screens/decisions — the gateway's decisions, live: the newest from
 * `GET decisions`, then every second only those after the last seen (`after`), so a new decision
 * shows within about a second of the store's batch (a quarter of a second after it was made).
 * Searchable by identity, destination, decision, reason and time (the filters live in the route,
 * so a search is a link); a row opens its explanation (`#/decisions/<id>`: `GET decisions/show`);
 * a denial an exception could fix links to the prefilled request form
 * (`#/exceptions/request?identity=…&to=…`).
 */
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  DataTable,
  ErrorBox,
  Loading,
  PageHeader,
  api,
  formatTime,
  html,
  navigate,
  routeHref,
  usePolling,
} from '../lib.js';
import type { Query, Route, Screen } from '../lib.js';

/** A decision as `GET decisions` lists it. */
interface DecisionRow {
  readonly seq: number;
  readonly at: string;
  readonly decisionId: string;
  readonly decision: string;
  readonly identity?: string;
  readonly src: string;
  readonly host?: string;
  readonly ip?: string;
  readonly port?: number;
  readonly reason?: string;
  readonly mode?: string;
  readonly policyName?: string;
  readonly ruleId?: string;
  readonly snapshot?: string;
  readonly node?: string;
  readonly grant?: {
    kind: string;
    id: string;
    requester: string;
    approver?: string;
    reason: string;
    expires: string;
  };
}

const FILTERS = ['identity', 'destination', 'decision', 'reason', 'since', 'until'] as const;
const KINDS = ['allow', 'deny', 'would-deny', 'unauthenticated', 'limit', 'error'];
/** Reasons an exception can fix (model/denial-template's TEMPLATE_REASONS). */
const FIXABLE = ['no-match', 'expired', 'unknown-identity'];
/** Rows kept on screen while live: the newest. */
const KEEP = 500;
const POLL_MS = 1000;

/** The decision in words with a symbol, so colour is never the only signal. */
function DecisionCell(props: { r: DecisionRow }): VNode {
  const d = props.r.decision;
  if (d === 'allow') return html`<span class="good">✔ allow</span>`;
  if (d === 'would-deny') return html`<span class="bad">◐ would-deny</span>`;
  return html`<span class="bad">✖ ${d}</span>`;
}

/** The destination as `weir exception request --to` takes it: `host:port`, `[v6]:port`. */
export function destinationText(r: Pick<DecisionRow, 'host' | 'ip' | 'port'>): string | undefined {
  const where = r.host ?? (r.ip !== undefined && r.ip.includes(':') ? `[${r.ip}]` : r.ip);
  if (where === undefined || where === '') return undefined;
  return r.port !== undefined ? `${where}:${r.port}` : where;
}

/** The prefilled exception request for a denial an exception could fix, else undefined. */
function requestHref(r: DecisionRow): string | undefined {
  if (r.decision !== 'deny' && r.decision !== 'would-deny') return undefined;
  if (r.identity === undefined || r.reason === undefined || !FIXABLE.includes(r.reason)) return undefined;
  const to = destinationText(r);
  return to === undefined ? undefined : routeHref('exceptions/request', { identity: r.identity, to });
}

/** `15m`, `2h`, `1d` back from now, or a time as typed (local without a zone) → ISO 8601. */
export function timeParam(text: string | null, now: number = Date.now()): string | undefined {
  if (text === null || text.trim() === '') return undefined;
  const t = text.trim();
  const d = /^(\d{1,6})\s*(s|m|h|d)$/.exec(t);
  if (d !== null) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(d[1]) * unit).toISOString();
  }
  // `2026-12-08T10:00` or `2026-12-08 10:00` (no zone): the browser's local time.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$/.test(t)) {
    const local = new Date(t.replace(' ', 'T'));
    if (!Number.isNaN(local.getTime())) return local.toISOString();
  }
  // Anything else goes as typed: the API names what is wrong with it.
  return t;
}

/** The API query of the route's filters. */
function searchOf(params: URLSearchParams): Query {
  return {
    identity: params.get('identity') ?? undefined,
    destination: params.get('destination') ?? undefined,
    decision: params.get('decision') ?? undefined,
    reason: params.get('reason') ?? undefined,
    since: timeParam(params.get('since')),
    until: timeParam(params.get('until')),
  };
}

/** The route's filters, for links that keep them. */
function filtersOf(params: URLSearchParams): Query {
  return Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined]));
}

function Filters(props: { route: Route }): VNode {
  const p = props.route.params;
  const field = (name: string, label: string, placeholder: string): VNode =>
    html`<div>
      <label for=${`d-${name}`}>${label}</label
      ><input id=${`d-${name}`} name=${name} placeholder=${placeholder} value=${p.get(name) ?? ''} />
    </div>`;
  return html`<form
    class="filters"
    aria-label="Search the decisions"
    onSubmit=${(e: Event) => {
      e.preventDefault();
      const f = new FormData(e.currentTarget as HTMLFormElement);
      navigate('decisions', Object.fromEntries(FILTERS.map((k) => [k, String(f.get(k) ?? '').trim()])));
    }}
  >
    ${field('identity', 'Identity', 'spiffe://prod.example/ns/app/sa/web')}
    ${field('destination', 'Destination (host or IP)', 'api.example.com')}
    <div>
      <label for="d-decision">Decision</label>
      <select id="d-decision" name="decision">
        <option value="">any</option>
        ${KINDS.map((k) => html`<option value=${k} selected=${p.get('decision') === k}>${k}</option>`)}
      </select>
    </div>
    ${field('reason', 'Reason', 'no-match')} ${field('since', 'Since', '15m, 2h, 1d or 2026-12-08 10:00')}
    ${field('until', 'Until', '2026-12-08 11:00')}
    <button type="submit">Search</button>
    <a href="#/decisions">Clear</a>
  </form>`;
}

/** The newest decisions matching the route's filters, followed while `live`. */
function LiveList(props: { route: Route; live: boolean }): VNode {
  const search = searchOf(props.route.params);
  const rows = useRef<DecisionRow[]>([]);
  const last = useRef<number | undefined>(undefined);
  const [checked, setChecked] = useState<string>('');
  const { data, error } = usePolling(
    async () => {
      const first = last.current === undefined;
      const q: Query = first ? { ...search, limit: 100 } : { ...search, after: last.current, limit: 1000 };
      const out = await api.get<{ decisions: DecisionRow[]; last: number }>('decisions', q);
      // Newest first on screen; the API answers oldest first.
      const fresh = [...out.decisions].reverse();
      rows.current = [...fresh, ...rows.current].slice(0, KEEP);
      last.current = out.last;
      setChecked(new Date().toISOString());
      return rows.current;
    },
    props.live ? POLL_MS : 0,
    [props.live],
  );
  const filters = filtersOf(props.route.params);
  if (data === undefined && error !== undefined)
    return html`<${ErrorBox} error=${error} title="The decisions could not be read" />`;
  if (data === undefined) return html`<${Loading} what="decisions" />`;
  return html`<section aria-labelledby="list-h">
    <h2 id="list-h">Decisions</h2>
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The last refresh failed" />` : null}
    <p class="subtitle">
      ${data.length} shown, newest
      first${props.live ? `; live, last checked ${formatTime(checked)}` : '; paused'}.
    </p>
    <${DataTable}
      caption="The gateway's decisions, newest first"
      rowKey=${(r: DecisionRow) => String(r.seq)}
      rows=${data}
      empty="No decisions match."
      columns=${[
        { label: 'Time', rowHeader: true, cell: (r: DecisionRow) => formatTime(r.at) },
        { label: 'Decision', cell: (r: DecisionRow) => html`<${DecisionCell} r=${r} />` },
        { label: 'Identity', cell: (r: DecisionRow) => r.identity ?? html`<em>none proved</em>` },
        { label: 'Destination', cell: (r: DecisionRow) => destinationText(r) ?? '—' },
        {
          label: 'Reason',
          cell: (r: DecisionRow) =>
            r.grant !== undefined
              ? `${r.grant.kind} ${r.grant.id} (approved by ${r.grant.approver ?? '—'})`
              : (r.reason ?? ''),
        },
        {
          label: 'Actions',
          cell: (r: DecisionRow) => {
            const request = requestHref(r);
            const explain = html`<a
              href=${routeHref(`decisions/${encodeURIComponent(r.decisionId)}`, filters)}
              aria-label=${`Explain decision ${r.decisionId}`}
              >Explain</a
            >`;
            if (request === undefined) return explain;
            // The separator is a value: htm drops whitespace next to a line break in the markup.
            return html`${explain}${' · '}<a
                href=${request}
                aria-label=${`Request exception for decision ${r.decisionId}`}
                >Request exception</a
              >`;
          },
        },
      ]}
    />
  </section>`;
}

/** One `dt`/`dd` pair, left out when there is no value. */
function fact(label: string, value: unknown): VNode | null {
  if (value === undefined || value === null || value === '') return null;
  return html`<dt>${label}</dt>
    <dd>${String(value)}</dd>`;
}

interface Shown {
  readonly decision: DecisionRow;
  readonly explainedAgainst: { policy?: string; decidedBy?: string; at: string; note?: string };
  readonly explanation?: {
    message?: string;
    reason?: string;
    decision?: string;
    nearMisses?: { policy: string; ruleId: string; why?: string[] }[];
    hint?: string;
  };
  readonly rule?: Record<string, unknown>;
  readonly grant?: Record<string, unknown> & {
    exception?: Record<string, unknown>;
    session?: Record<string, unknown>;
  };
  readonly fix?: { command?: string; rule?: string; to?: string; console?: string; note?: string };
}

/** The explanation of one decision (`#/decisions/<id>`), focused when it opens. */
function Explanation(props: { id: string; route: Route }): VNode {
  const { data, error } = usePolling(() => api.get<Shown>('decisions/show', { id: props.id }), 0, [props.id]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [props.id, data !== undefined]);
  const back = routeHref('decisions', filtersOf(props.route.params));
  const head = html`<h2 id="explain-h" tabindex="-1" ref=${heading}>Decision ${props.id}</h2>
    <p><a href=${back}>Close the explanation</a></p>`;
  if (error !== undefined)
    return html`<section class="explain" aria-labelledby="explain-h">
      ${head}<${ErrorBox} error=${error} title="The decision could not be explained" />
    </section>`;
  if (data === undefined)
    return html`<section class="explain" aria-labelledby="explain-h">
      ${head}<${Loading} what="the explanation" />
    </section>`;
  const d = data.decision;
  const e = data.explanation;
  const rule = data.rule;
  const g = data.grant;
  const record = g?.exception ?? g?.session;
  return html`<section class="explain" aria-labelledby="explain-h">
    ${head}
    <dl>
      ${fact('Time', formatTime(d.at))}
      <dt>Decision</dt>
      <dd><${DecisionCell} r=${d} /></dd>
      ${fact('Identity', d.identity ?? 'none proved')} ${fact('Destination', destinationText(d))}
      ${fact('Address', d.ip)} ${fact('Reason', d.reason)} ${fact('Mode', d.mode)} ${fact('From', d.src)}
      ${fact('Gateway node', d.node)} ${fact('Decided by snapshot', data.explainedAgainst.decidedBy)}
    </dl>
    <h3>Why</h3>
    ${e?.message !== undefined ? html`<p>${e.message}</p>` : null}
    <p class="subtitle">
      Explained again against ${data.explainedAgainst.policy ?? 'the policy in force'} at the decision's
      time${data.explainedAgainst.note !== undefined ? `: ${data.explainedAgainst.note}` : ''}.
    </p>
    ${e?.hint !== undefined ? html`<p class="notice">${e.hint}</p>` : null}
    ${
      rule !== undefined
        ? html`<h3>${d.decision === 'allow' && d.grant === undefined ? 'Matched rule' : 'Nearest rule'}</h3>
            <dl>
              ${fact('Policy', rule['policy'])} ${fact('Rule', rule['ruleId'])} ${fact('File', rule['file'])}
              ${fact('Owner', rule['owner'])} ${fact('Justification', rule['justification'])}
              ${fact('Data class', rule['dataClass'])} ${fact('Expires', rule['expires'])}
              ${fact('In force now', rule['inForce'] === true ? 'yes' : 'no, the policy no longer has it')}
            </dl>`
        : null
    }
    ${
      (e?.nearMisses?.length ?? 0) > 0
        ? html`<h3>Near misses</h3>
            <ul>
              ${e?.nearMisses?.map(
                (n) => html`<li><code>${n.policy}/${n.ruleId}</code>: ${(n.why ?? []).join('; ')}</li>`,
              )}
            </ul>`
        : null
    }
    ${
      g !== undefined
        ? html`<h3>${g['kind'] === 'exception' ? 'Exception' : 'Break-glass session'} that allowed it</h3>
            <dl>
              ${fact('ID', g['id'])} ${fact('Requested by', g['requester'])}
              ${fact('Approved by', g['approver'])} ${fact('Reason', g['reason'])}
              ${fact('Expires', g['expires'])} ${fact('State now', record?.['state'])}
            </dl>`
        : null
    }
    ${
      data.fix !== undefined
        ? html`<h3>How to fix</h3>
            ${data.fix.note !== undefined ? html`<p class="notice">${data.fix.note}</p>` : null}
            ${
              data.fix.console !== undefined
                ? html`<p>
                    <a class="button" href=${data.fix.console}>Request an exception for ${data.fix.to}</a>
                  </p>`
                : null
            }
            ${
              data.fix.command !== undefined
                ? html`<p>Or from a shell:</p>
                    <pre><code>${data.fix.command}</code></pre>`
                : null
            }
            ${
              data.fix.rule !== undefined
                ? html`<p>Or propose a reviewed policy rule:</p>
                    <pre><code>${data.fix.rule}</code></pre>`
                : null
            }`
        : null
    }
  </section>`;
}

function DecisionsScreen(props: { route: Route }): VNode {
  const [live, setLive] = useState(true);
  const id = props.route.path[1];
  const filterKey = new URLSearchParams(
    FILTERS.flatMap((f) => {
      const v = props.route.params.get(f);
      return v === null ? [] : [[f, v]];
    }),
  ).toString();
  return html`<${PageHeader}
      title="Decisions"
      subtitle="What the gateway allowed and denied, as it happens. Open a row for why, and what would fix it."
    >
      <label class="check"
        ><input
          type="checkbox"
          checked=${live}
          onChange=${(e: Event) => setLive((e.currentTarget as HTMLInputElement).checked)}
        />
        Live (check every second)</label
      >
    <//>
    ${id !== undefined ? html`<${Explanation} id=${decodeURIComponent(id)} route=${props.route} />` : null}
    <${Filters} route=${props.route} />
    <${LiveList} key=${filterKey} route=${props.route} live=${live} />`;
}

/** The Decisions screen. */
export const decisionsScreen: Screen = { path: 'decisions', title: 'Decisions', component: DecisionsScreen };
