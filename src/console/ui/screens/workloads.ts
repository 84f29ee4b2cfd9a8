/**
 * @module console/ui/screens/workloads — the Workloads screen: the identities Weir knows
 * (`GET workloads/known`), and one workload (`#/workloads?identity=…`, `GET workloads/show`): its
 * labels, the policies that select it, the security groups attached to it, its active exceptions
 * and open break-glass sessions, and the destinations it may reach, each saying where from.
 */
import type { VNode } from 'preact';
import {
  DataTable,
  ErrorBox,
  Loading,
  PageHeader,
  api,
  formatTime,
  formatTimeLeft,
  html,
  navigate,
  routeHref,
  usePolling,
} from '../lib.js';
import type { Route, Screen } from '../lib.js';
import { ExpiryCell } from '../expiry.js';
import type { ExpiryFields } from '../expiry.js';

type Labels = Readonly<Record<string, string>>;

interface KnownRow {
  readonly identity: string;
  readonly labels: Labels;
  readonly knownFrom: readonly string[];
}

interface PolicyRow {
  readonly name: string;
  readonly mode: string;
  readonly owner?: string;
  readonly rules: number;
  readonly declaredIn: string;
}

interface GroupRow {
  readonly groupId: string;
  readonly groupName?: string;
  readonly source: 'api' | 'policy';
  readonly createdAt?: string;
  readonly declaredIn?: string;
  readonly groupMissing?: boolean;
}

interface ExceptionRow {
  readonly id: string;
  readonly state: string;
  readonly destinations: readonly string[];
  readonly reason: string;
  readonly requester: string;
  readonly approver?: string;
  readonly expires?: string;
}

interface SessionRow {
  readonly id: string;
  readonly destinations: readonly string[];
  readonly everything: boolean;
  readonly reason: string;
  readonly principal: string;
  readonly expires: string;
}

interface AllowedRow extends ExpiryFields {
  readonly source: 'policy' | 'group' | 'exception' | 'breakglass';
  readonly destinations: readonly string[];
  readonly protocol: string;
  readonly ports: readonly string[];
  readonly owner?: string;
  readonly justification?: string;
  readonly dataClass?: string;
  readonly policy?: string;
  readonly ruleId?: string;
  readonly mode?: string;
  readonly declaredIn?: string;
  readonly groupId?: string;
  readonly groupName?: string;
  readonly madeBy?: { policy: string; ruleId: string };
  readonly grantId?: string;
  readonly requester?: string;
  readonly approver?: string;
  readonly reason?: string;
}

interface WorkloadView {
  readonly identity: string;
  readonly known: boolean;
  readonly enforcing?: string;
  readonly labels: Labels;
  readonly registeredIn?: string;
  readonly policies: readonly PolicyRow[];
  readonly groups: readonly GroupRow[];
  readonly exceptions: readonly ExceptionRow[];
  readonly breakglass: readonly SessionRow[];
  readonly allowed: readonly AllowedRow[];
}

const labelsText = (labels: Labels): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

const workloadHref = (identity: string): string => routeHref('workloads', { identity });
const policyHref = (policy: string, rule?: string): string => routeHref('policies', { policy, rule });
const groupHref = (groupId: string): string => routeHref('security-groups', { groupId });

function KnownList(props: { route: Route }): VNode {
  const q = props.route.params.get('q') ?? '';
  const { data, error } = usePolling(
    () => api.get<{ workloads: KnownRow[]; truncated?: boolean; total?: number }>('workloads/known', { q }),
    0,
    [q],
  );
  return html`<form
      class="filters"
      aria-label="Find a workload"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget as HTMLFormElement);
        const text = String(f.get('q') ?? '').trim();
        // An exact identity opens it; anything else filters the list.
        if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text) && !text.includes('*'))
          navigate('workloads', { identity: text });
        else navigate('workloads', { q: text });
      }}
    >
      <div>
        <label for="w-q">Identity or label</label>
        <input id="w-q" name="q" value=${q} placeholder="payments, spiffe://prod.example/ns/…" size="48" />
      </div>
      <button type="submit">Find</button>
      <a href="#/workloads">Clear</a>
    </form>
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The workloads could not be read" />` : null}
    ${
      data === undefined
        ? error === undefined
          ? html`<${Loading} what="workloads" />`
          : null
        : html`<${DataTable}
            caption=${`Known workloads${data.truncated === true ? ` (first ${data.workloads.length} of ${data.total ?? '?'})` : ''}`}
            rowKey=${(r: KnownRow) => r.identity}
            rows=${data.workloads}
            empty="No workload matches."
            columns=${[
              {
                label: 'Identity',
                rowHeader: true,
                cell: (r: KnownRow) => html`<a href=${workloadHref(r.identity)}>${r.identity}</a>`,
              },
              { label: 'Labels', cell: (r: KnownRow) => labelsText(r.labels) },
              { label: 'Known from', cell: (r: KnownRow) => r.knownFrom.join(', ') },
            ]}
          />`
    }`;
}

/** Where an allowed destination comes from, in words, linked to its policy or group. */
function OriginCell(props: { row: AllowedRow }): VNode {
  const r = props.row;
  // Children as a list of strings and elements: htm drops whitespace that spans a line break.
  const link = (href: string, text: string): VNode => html`<a href=${href}>${text}</a>`;
  switch (r.source) {
    case 'policy':
      return html`<span
        >${[
          'Policy rule ',
          link(policyHref(r.policy ?? '', r.ruleId), `${r.policy}/${r.ruleId}`),
          r.mode === 'report' ? ' (report mode)' : '',
        ]}</span
      >`;
    case 'group':
      return html`<span
        >${[
          'Group ',
          link(groupHref(r.groupId ?? ''), r.groupName ?? r.groupId ?? ''),
          ' rule ',
          html`<code>${r.ruleId}</code>`,
          ...(r.madeBy !== undefined
            ? [
                ', made by ',
                link(policyHref(r.madeBy.policy, r.madeBy.ruleId), `${r.madeBy.policy}/${r.madeBy.ruleId}`),
              ]
            : []),
        ]}</span
      >`;
    case 'exception':
      return html`<span
        >${[
          'Exception ',
          link(routeHref('exceptions', { id: r.grantId }), r.grantId ?? ''),
          ` (asked by ${r.requester ?? ''}, approved by ${r.approver ?? '—'})`,
        ]}</span
      >`;
    case 'breakglass':
      return html`<span
        >${['Break-glass ', link('#/breakglass', r.grantId ?? ''), ` (opened by ${r.requester ?? ''})`]}</span
      >`;
  }
}

function Allowed(props: { rows: readonly AllowedRow[] }): VNode {
  return html`<section aria-labelledby="allowed-h">
    <h2 id="allowed-h">Effective allowed destinations</h2>
    <p>
      What the gateway lets this workload reach: the rules of the policies that select it, the egress rules of
      the groups attached to it, and its exceptions and break-glass sessions. Everything else is denied.
    </p>
    <${DataTable}
      caption="Allowed destinations and where each comes from"
      rowKey=${(r: AllowedRow) => `${r.source}/${r.policy ?? r.groupId ?? r.grantId}/${r.ruleId ?? ''}/${r.destinations.join(',')}`}
      rows=${props.rows}
      empty="Nothing: every destination is denied."
      columns=${[
        { label: 'Destinations', rowHeader: true, cell: (r: AllowedRow) => r.destinations.join(', ') },
        {
          label: 'Ports',
          cell: (r: AllowedRow) =>
            `${r.ports.join(', ')} (${r.protocol === '-1' ? 'any protocol' : r.protocol})`,
        },
        { label: 'From', cell: (r: AllowedRow) => html`<${OriginCell} row=${r} />` },
        { label: 'Owner', cell: (r: AllowedRow) => r.owner ?? r.requester ?? '—' },
        { label: 'Justification', cell: (r: AllowedRow) => r.justification ?? r.reason ?? '—' },
        { label: 'Data class', cell: (r: AllowedRow) => r.dataClass ?? '—' },
        { label: 'Expires', cell: (r: AllowedRow) => html`<${ExpiryCell} row=${r} />` },
      ]}
    />
  </section>`;
}

function Grants(props: { view: WorkloadView }): VNode {
  const v = props.view;
  return html`<section aria-labelledby="exc-h">
      <h2 id="exc-h">Active exceptions</h2>
      <${DataTable}
        caption="Exceptions pending or active for this workload"
        rowKey=${(r: ExceptionRow) => r.id}
        rows=${v.exceptions}
        empty="No exception is pending or active."
        columns=${[
          {
            label: 'Exception',
            rowHeader: true,
            cell: (r: ExceptionRow) => html`<a href=${routeHref('exceptions', { id: r.id })}>${r.id}</a>`,
          },
          { label: 'State', cell: (r: ExceptionRow) => r.state },
          { label: 'Destinations', cell: (r: ExceptionRow) => r.destinations.join(', ') },
          { label: 'Reason', cell: (r: ExceptionRow) => r.reason },
          {
            label: 'Asked by / approved by',
            cell: (r: ExceptionRow) => `${r.requester} / ${r.approver ?? '—'}`,
          },
          {
            label: 'Time left',
            cell: (r: ExceptionRow) => (r.expires !== undefined ? formatTimeLeft(r.expires) : 'not started'),
          },
        ]}
      />
    </section>
    <section aria-labelledby="bg-h">
      <h2 id="bg-h">Open break-glass sessions</h2>
      <${DataTable}
        caption="Break-glass sessions open for this workload"
        rowKey=${(r: SessionRow) => r.id}
        rows=${v.breakglass}
        empty="No break-glass session is open."
        columns=${[
          {
            label: 'Session',
            rowHeader: true,
            cell: (r: SessionRow) => html`<a href="#/breakglass">${r.id}</a>`,
          },
          {
            label: 'Destinations',
            cell: (r: SessionRow) =>
              r.everything ? 'everything but the guardrails' : r.destinations.join(', '),
          },
          { label: 'Who and why', cell: (r: SessionRow) => `${r.principal}: ${r.reason}` },
          { label: 'Time left', cell: (r: SessionRow) => formatTimeLeft(r.expires) },
        ]}
      />
    </section>`;
}

function Selection(props: { view: WorkloadView }): VNode {
  const v = props.view;
  const labels = Object.entries(v.labels);
  return html`<section aria-labelledby="labels-h">
      <h2 id="labels-h">Labels</h2>
      ${
        labels.length === 0
          ? html`<p>No labels: the workload registry does not list this identity.</p>`
          : html`<dl class="labels">
              ${labels.map(
                ([k, val]) =>
                  html`<dt>${k}</dt>
                    <dd>${val}</dd>`,
              )}
            </dl>`
      }
      ${v.registeredIn !== undefined ? html`<p>Registered in <code>${v.registeredIn}</code>.</p>` : null}
    </section>
    <section aria-labelledby="pol-h">
      <h2 id="pol-h">Policies that select it</h2>
      <${DataTable}
        caption="Policies whose workload selector matches this identity"
        rowKey=${(r: PolicyRow) => r.name}
        rows=${v.policies}
        empty="No policy selects this workload."
        columns=${[
          {
            label: 'Policy',
            rowHeader: true,
            cell: (r: PolicyRow) => html`<a href=${policyHref(r.name)}>${r.name}</a>`,
          },
          { label: 'Mode', cell: (r: PolicyRow) => r.mode },
          { label: 'Owner', cell: (r: PolicyRow) => r.owner ?? '—' },
          { label: 'Rules', cell: (r: PolicyRow) => String(r.rules) },
          { label: 'Declared in', cell: (r: PolicyRow) => html`<code>${r.declaredIn}</code>` },
        ]}
      />
    </section>
    <section aria-labelledby="groups-h">
      <h2 id="groups-h">Attached security groups</h2>
      <${DataTable}
        caption="Security groups attached to this identity"
        rowKey=${(r: GroupRow) => `${r.source}/${r.groupId}`}
        rows=${v.groups}
        empty="No security group is attached."
        columns=${[
          {
            label: 'Group',
            rowHeader: true,
            cell: (r: GroupRow) =>
              html`<span
                >${[
                  html`<a href=${groupHref(r.groupId)}>${r.groupName ?? r.groupId}</a>`,
                  ' ',
                  html`<code>${r.groupId}</code>`,
                  r.groupMissing === true ? ' (missing: grants nothing)' : '',
                ]}</span
              >`,
          },
          {
            label: 'Attached by',
            cell: (r: GroupRow) =>
              r.source === 'api'
                ? `the API (weir workload attach), ${formatTime(r.createdAt)}`
                : html`the registry, <code>${r.declaredIn ?? ''}</code>`,
          },
        ]}
      />
    </section>`;
}

function Detail(props: { identity: string }): VNode {
  const { data, error } = usePolling(
    () => api.get<WorkloadView>('workloads/show', { identity: props.identity }),
    10_000,
    [props.identity],
  );
  if (error !== undefined) return html`<${ErrorBox} error=${error} title="The workload could not be read" />`;
  if (data === undefined) return html`<${Loading} what="the workload" />`;
  return html`<p><a href="#/workloads">← All workloads</a></p>
    <h2 class="identity"><code>${data.identity}</code></h2>
    ${
      data.known
        ? null
        : html`<p class="notice" role="note">
            Weir knows nothing about this identity: no policy selects it, no group is attached, no grant names
            it. The gateway denies it everything.
          </p>`
    }
    ${data.enforcing !== undefined ? html`<p>Enforcing: ${data.enforcing}.</p>` : null}
    <${Selection} view=${data} />
    <${Grants} view=${data} />
    <${Allowed} rows=${data.allowed} />`;
}

function WorkloadsScreen(props: { route: Route }): VNode {
  const identity = props.route.params.get('identity');
  return html`<${PageHeader}
      title="Workloads"
      subtitle="Each identity: its labels, policies, groups, grants, and what it may reach."
    />
    ${identity !== null && identity !== '' ? html`<${Detail} identity=${identity} />` : html`<${KnownList} route=${props.route} />`}`;
}

/** The Workloads screen. */
export const workloadsScreen: Screen = { path: 'workloads', title: 'Workloads', component: WorkloadsScreen };
