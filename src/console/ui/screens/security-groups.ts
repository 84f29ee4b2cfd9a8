/**
 * @module console/ui/screens/security-groups — the Security groups screen (`GET security-groups`):
 * a read view of the EC2 side the gateway enforces: each group with its tags, the workloads it is
 * attached to, and its egress and ingress rules; a referenced group or prefix list is named; a
 * rule `weir policy apply` made links to the policy rule that made it (`#/policies?policy=…&rule=…`).
 */
import type { VNode } from 'preact';
import {
  DataTable,
  ErrorBox,
  Loading,
  PageHeader,
  api,
  html,
  navigate,
  routeHref,
  usePolling,
} from '../lib.js';
import type { Route, Screen } from '../lib.js';

type Tags = Readonly<Record<string, string>>;

interface RuleRow {
  readonly ruleId: string;
  readonly direction: 'egress' | 'ingress';
  readonly protocol: string;
  readonly ports: string;
  readonly target: string;
  readonly targetKind: 'ipv4' | 'ipv6' | 'prefixList' | 'group';
  readonly targetName?: string;
  readonly description?: string;
  readonly tags: Tags;
  readonly madeBy?: { policy: string; ruleId: string };
}

interface GroupView {
  readonly groupId: string;
  readonly groupName: string;
  readonly description: string;
  readonly vpcId: string;
  readonly isDefault: boolean;
  readonly tags: Tags;
  readonly attachedTo: readonly { identity: string; source: string }[];
  readonly egress: readonly RuleRow[];
  readonly ingress: readonly RuleRow[];
}

interface PrefixListView {
  readonly prefixListId: string;
  readonly name: string;
  readonly addressFamily: string;
  readonly version: number;
  readonly entries: readonly string[];
}

interface GroupsView {
  readonly namespace: { account: string; region: string };
  readonly groups: readonly GroupView[];
  readonly prefixLists: readonly PrefixListView[];
  readonly truncated?: boolean;
}

const tagsText = (tags: Tags): string =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ') || '—';

function TargetCell(props: { row: RuleRow }): VNode {
  const r = props.row;
  if (r.targetKind === 'group') {
    // Children as a list: htm drops whitespace that spans a line break.
    return html`<span
      >${[
        'group ',
        html`<a href=${routeHref('security-groups', { groupId: r.target })}>${r.targetName ?? r.target}</a>`,
        ' ',
        html`<code>${r.target}</code>`,
      ]}</span
    >`;
  }
  if (r.targetKind === 'prefixList') {
    // Listed with its entries under "Prefix lists referenced" (an in-page #anchor would be a route).
    return html`<span>prefix list ${r.targetName ?? r.target} <code>${r.target}</code></span>`;
  }
  return html`<code>${r.target}</code>`;
}

function RuleTable(props: { group: GroupView; direction: 'egress' | 'ingress' }): VNode {
  const g = props.group;
  const rows = props.direction === 'egress' ? g.egress : g.ingress;
  return html`<${DataTable}
    caption=${`${props.direction === 'egress' ? 'Egress (outbound)' : 'Ingress (inbound)'} rules of ${g.groupName}`}
    rowKey=${(r: RuleRow) => r.ruleId}
    rows=${rows}
    empty=${props.direction === 'egress' ? 'No egress rule: nothing outbound is allowed.' : 'No ingress rule.'}
    columns=${[
      { label: 'Rule', rowHeader: true, cell: (r: RuleRow) => html`<code>${r.ruleId}</code>` },
      { label: 'Protocol', cell: (r: RuleRow) => (r.protocol === '-1' ? 'all' : r.protocol) },
      { label: 'Ports', cell: (r: RuleRow) => r.ports },
      {
        label: props.direction === 'egress' ? 'Destination' : 'Source',
        cell: (r: RuleRow) => html`<${TargetCell} row=${r} />`,
      },
      { label: 'Description', cell: (r: RuleRow) => r.description ?? '—' },
      {
        label: 'Made by',
        cell: (r: RuleRow) =>
          r.madeBy !== undefined
            ? html`<span
                >${[
                  'policy rule ',
                  html`<a href=${routeHref('policies', { policy: r.madeBy.policy, rule: r.madeBy.ruleId })}
                    >${r.madeBy.policy}/${r.madeBy.ruleId}</a
                  >`,
                ]}</span
              >`
            : 'by hand (EC2 API)',
      },
      { label: 'Tags', cell: (r: RuleRow) => tagsText(r.tags) },
    ]}
  />`;
}

function Group(props: { group: GroupView }): VNode {
  const g = props.group;
  const h = `sg-h-${g.groupId}`;
  return html`<section aria-labelledby=${h} class="group">
    <h2 id=${h}>${g.groupName} <code>${g.groupId}</code>${g.isDefault ? ' (default)' : ''}</h2>
    <dl>
      <dt>Description</dt>
      <dd>${g.description}</dd>
      <dt>VPC</dt>
      <dd><code>${g.vpcId}</code></dd>
      <dt>Tags</dt>
      <dd>${tagsText(g.tags)}</dd>
      <dt>Attached to</dt>
      <dd>
        ${
          g.attachedTo.length === 0
            ? 'no workload (its rules allow nothing through the gateway)'
            : g.attachedTo.map(
                (a, i) =>
                  html`<span
                    >${[
                      i > 0 ? ', ' : '',
                      html`<a href=${routeHref('workloads', { identity: a.identity })}>${a.identity}</a>`,
                      ` (${a.source === 'api' ? 'API' : 'registry'})`,
                    ]}</span
                  >`,
              )
        }
      </dd>
    </dl>
    <${RuleTable} group=${g} direction="egress" />
    <${RuleTable} group=${g} direction="ingress" />
  </section>`;
}

function SecurityGroupsScreen(props: { route: Route }): VNode {
  const p = props.route.params;
  const query = { groupId: p.get('groupId') ?? undefined, q: p.get('q') ?? undefined };
  const { data, error } = usePolling(() => api.get<GroupsView>('security-groups', query), 30_000, [
    p.toString(),
  ]);
  return html`<${PageHeader}
      title="Security groups"
      subtitle=${
        data !== undefined
          ? `Account ${data.namespace.account}, region ${data.namespace.region}: the groups the gateway enforces.`
          : 'The EC2 side the gateway enforces.'
      }
    />
    <form
      class="filters"
      aria-label="Filter the groups"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget as HTMLFormElement);
        navigate('security-groups', { q: String(f.get('q') ?? '').trim() });
      }}
    >
      <div>
        <label for="sg-q">Name, ID, description or tag</label>
        <input id="sg-q" name="q" value=${query.q ?? ''} placeholder="checkout, sg-…, team=payments" />
      </div>
      <button type="submit">Filter</button>
      <a href="#/security-groups">All groups</a>
    </form>
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The groups could not be read" />` : null}
    ${
      data === undefined
        ? error === undefined
          ? html`<${Loading} what="security groups" />`
          : null
        : html`${data.groups.length === 0 ? html`<p>No group matches.</p>` : null}
          ${data.groups.map((g) => html`<${Group} key=${g.groupId} group=${g} />`)}
          ${data.truncated === true ? html`<p>More groups than shown: filter to see the others.</p>` : null}
          ${
            data.prefixLists.length > 0
              ? html`<section aria-labelledby="pl-h">
                  <h2 id="pl-h">Prefix lists referenced</h2>
                  <${DataTable}
                    caption="Managed prefix lists the rules above reference"
                    rowKey=${(l: PrefixListView) => l.prefixListId}
                    rows=${data.prefixLists}
                    columns=${[
                      {
                        label: 'Prefix list',
                        rowHeader: true,
                        cell: (l: PrefixListView) =>
                          html`<span>${l.name} <code>${l.prefixListId}</code></span>`,
                      },
                      { label: 'Family', cell: (l: PrefixListView) => l.addressFamily },
                      { label: 'Version', cell: (l: PrefixListView) => String(l.version) },
                      { label: 'Entries', cell: (l: PrefixListView) => l.entries.join(', ') || 'none' },
                    ]}
                  />
                </section>`
              : null
          }`
    }`;
}

/** The Security groups screen. */
export const securityGroupsScreen: Screen = {
  path: 'security-groups',
  title: 'Security groups',
  component: SecurityGroupsScreen,
};
