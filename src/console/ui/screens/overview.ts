/**
 * @module console/ui/screens/overview — the Overview: the outcome metrics of the last 24 hours,
 * 7 days or 30 days from `GET overview` (src/outcomes). Tiles for the headline figures (share of
 * workloads through the gateway, unauthenticated share, time to approve, policy change to
 * enforcement), charts over time with a text alternative each, and tables: top denied pairs (with
 * a link to request an exception), rules and exceptions expiring within 30 days, wildcard rules,
 * guardrail denials by range and silent workloads. The period lives in the route (`?period=7d`),
 * so a view is a link.
 */
import type { VNode } from 'preact';
import { useMemo } from 'preact/hooks';
import {
  DataTable,
  ErrorBox,
  Loading,
  PageHeader,
  api,
  formatRelative,
  formatSpan,
  formatTime,
  html,
  routeHref,
  usePolling,
} from '../lib.js';
import type { Route, Screen } from '../lib.js';
import { Chart, formatValue } from './overview-chart.js';
import type { ChartSeries } from './overview-chart.js';
import type { ExpiringRow, Overview, RuleRow } from './overview-types.js';

/** The periods offered, with the bucket each is drawn in. */
const PERIODS = [
  { id: '24h', label: 'Last 24 hours', bucket: '1h' },
  { id: '7d', label: 'Last 7 days', bucket: '6h' },
  { id: '30d', label: 'Last 30 days', bucket: '1d' },
] as const;

const pct = (x: number | undefined): string =>
  x === undefined ? '—' : `${(x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0)} %`;
const secs = (s: number | undefined): string =>
  s === undefined ? '—' : s < 1 ? `${Math.round(s * 1000)} ms` : formatSpan(s * 1000);

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function PeriodPicker(props: { current: string }): VNode {
  return html`<nav aria-label="Period" class="period-picker">
    <ul>
      ${PERIODS.map(
        (p) =>
          html`<li>
            <a
              href=${routeHref('overview', { period: p.id })}
              aria-current=${p.id === props.current ? 'true' : undefined}
              >${p.label}</a
            >
          </li>`,
      )}
    </ul>
  </nav>`;
}

function Tile(props: { title: string; value: string; detail: string }): VNode {
  return html`<div class="tile">
    <h3>${props.title}</h3>
    <p class="tile-value">${props.value}</p>
    <p class="tile-detail">${props.detail}</p>
  </div>`;
}

function Tiles(props: { o: Overview }): VNode {
  const { gatewayShare: g, timeToApprove: t, enforcement: e, decisions: d } = props.o;
  const total = d.totals.allowed + d.totals.denied + d.totals.wouldDeny + d.totals.refused;
  return html`<section aria-labelledby="tiles-h">
    <h2 id="tiles-h">At a glance</h2>
    <div class="tiles">
      <${Tile}
        title="Share of egress through the gateway"
        value=${pct(g.share)}
        detail=${`${g.active} of ${g.known} known workloads sent traffic through the gateway; ${g.silentCount} silent.`}
      />
      <${Tile}
        title="Unauthenticated"
        value=${pct(g.unauthenticated.share)}
        detail=${`${formatValue(g.unauthenticated.count)} of ${formatValue(g.unauthenticated.decisions)} decisions proved no identity.`}
      />
      <${Tile}
        title="Decisions"
        value=${formatValue(total)}
        detail=${`${formatValue(d.totals.allowed)} allowed, ${formatValue(d.totals.denied)} denied, ${formatValue(d.totals.wouldDeny)} would-deny.`}
      />
      <${Tile}
        title="Time to approve (median)"
        value=${secs(t.overall.medianSeconds)}
        detail=${`${t.overall.count} ${t.overall.count === 1 ? 'approval' : 'approvals'}; p90 ${secs(t.overall.p90Seconds)}; ${t.pending.count} waiting now.`}
      />
      <${Tile}
        title="Policy change to enforcement (median)"
        value=${secs(e.overall.medianSeconds)}
        detail=${`${e.overall.count} changes enforced; p90 ${secs(e.overall.p90Seconds)}.`}
      />
      <${Tile}
        title="Expiring within 30 days"
        value=${formatValue(props.o.expiring.rules.length + props.o.expiring.exceptions.length)}
        detail=${`${plural(props.o.expiring.rules.length, 'rule')}, ${plural(props.o.expiring.exceptions.length, 'exception')}; ${props.o.expiring.rulesExpired} rules already expired.`}
      />
      <${Tile}
        title="Wildcard rules"
        value=${formatValue(props.o.wildcardRules.count)}
        detail=${`of ${props.o.wildcardRules.rulesInForce} rules in force.`}
      />
    </div>
  </section>`;
}

function sumOf(v: readonly (number | null)[]): number {
  return v.reduce<number>((a, b) => a + (b ?? 0), 0);
}

function Charts(props: { o: Overview }): VNode {
  const o = props.o;
  const charts = useMemo(() => {
    const d = o.decisions;
    const decisions: ChartSeries[] = [
      { label: 'Allowed', colour: '--good', line: 'solid', values: d.allowed },
      { label: 'Denied', colour: '--bad', line: 'dashed', values: d.denied },
      { label: 'Would deny', colour: '--warn-fg', line: 'dotted', values: d.wouldDeny },
    ];
    const quantiles = (median: (number | null)[], p90: (number | null)[]): ChartSeries[] => [
      { label: 'Median', colour: '--accent', line: 'solid', values: median },
      { label: 'p90', colour: '--bad', line: 'dashed', values: p90 },
    ];
    return {
      decisions,
      guardrails: [
        { label: 'Guardrail denials', colour: '--bad', line: 'solid', values: o.guardrailDenials.perBucket },
      ] as ChartSeries[],
      approve: quantiles(o.timeToApprove.medianSeconds, o.timeToApprove.p90Seconds),
      enforce: quantiles(o.enforcement.medianSeconds, o.enforcement.p90Seconds),
    };
  }, [o]);
  const b = o.period.buckets;
  const e = o.enforcement;
  return html`<section aria-labelledby="charts-h">
    <h2 id="charts-h">Over time</h2>
    ${o.decisionsStored ? null : html`<p class="notice">This server stores no decisions: decision charts are empty.</p>`}
    <div class="charts">
      <${Chart}
        id="c-decisions"
        title="Decisions"
        unit="decisions"
        buckets=${b}
        series=${charts.decisions}
        summary=${`${formatValue(sumOf(o.decisions.allowed))} allowed, ${formatValue(sumOf(o.decisions.denied))} denied and ${formatValue(sumOf(o.decisions.wouldDeny))} would-deny in the period, per ${formatSpan(o.period.bucketSeconds * 1000)}.`}
      />
      <${Chart}
        id="c-guardrails"
        title="Denials to guardrail ranges"
        unit="denials"
        buckets=${b}
        series=${charts.guardrails}
        summary=${`${formatValue(o.guardrailDenials.total)} requests to guarded ranges (metadata, link-local, loopback…) denied in the period.`}
      />
      <${Chart}
        id="c-approve"
        title="Time to approve exceptions"
        unit="seconds"
        buckets=${b}
        series=${charts.approve}
        summary=${`${o.timeToApprove.overall.count} ${o.timeToApprove.overall.count === 1 ? 'exception' : 'exceptions'} approved; median wait ${secs(o.timeToApprove.overall.medianSeconds)}, p90 ${secs(o.timeToApprove.overall.p90Seconds)}.`}
      />
      <${Chart}
        id="c-enforce"
        title="Policy change to enforcement"
        unit="seconds"
        buckets=${b}
        series=${charts.enforce}
        summary=${`${e.overall.count} changes enforced by the gateway; median ${secs(e.overall.medianSeconds)}, p90 ${secs(e.overall.p90Seconds)}, slowest ${secs(e.overall.maxSeconds)}${e.recordedSince !== undefined ? ` (recorded since ${formatTime(e.recordedSince)}, when the server started)` : ' (this server runs no gateway)'}.`}
      />
    </div>
  </section>`;
}

function TopDenied(props: { o: Overview }): VNode {
  type Row = Overview['topDenied'][number];
  return html`<${DataTable}
    caption="Top denied (identity, destination) pairs"
    rowKey=${(r: Row) => `${r.identity} ${r.destination}`}
    rows=${props.o.topDenied}
    empty="No denials in this period."
    columns=${[
      { label: 'Identity', rowHeader: true, cell: (r: Row) => html`<code>${r.identity}</code>` },
      { label: 'Destination', cell: (r: Row) => html`<code>${r.destination}</code>` },
      { label: 'Denials', cell: (r: Row) => formatValue(r.count) },
      {
        label: 'Act',
        cell: (r: Row) =>
          html`<a href=${routeHref('decisions', { identity: r.identity, decision: 'deny' })}>Decisions</a
            >${' · '}
            <a href=${routeHref('exceptions/request', { identity: r.identity, to: r.destination })}
              >Request exception</a
            >`,
      },
    ]}
  />`;
}

function Expiring(props: { o: Overview }): VNode {
  const x = props.o.expiring;
  const rows: ExpiringRow[] = [
    ...x.rules.map((r) => ({
      key: `rule ${r.policy} ${r.ruleId}`,
      kind: 'Rule',
      what: `${r.policy} / ${r.ruleId}`,
      href: routeHref('policies', { policy: r.policy, rule: r.ruleId }),
      detail: r.destinations.join(', '),
      owner: r.owner ?? '',
      expires: r.expires ?? '',
    })),
    ...x.exceptions.map((e) => ({
      key: `exception ${e.id}`,
      kind: 'Exception',
      what: e.id,
      href: routeHref('exceptions', { id: e.id }),
      detail: `${e.identity} → ${e.destinations.join(', ')}`,
      owner: '',
      expires: e.expires,
    })),
  ].sort((a, b) => Date.parse(a.expires) - Date.parse(b.expires));
  return html`<${DataTable}
    caption=${`Rules and exceptions expiring within ${x.withinDays} days, soonest first`}
    rowKey=${(r: ExpiringRow) => r.key}
    rows=${rows}
    empty="Nothing expires within 30 days."
    columns=${[
      {
        label: 'What',
        rowHeader: true,
        cell: (r: ExpiringRow) => html`${r.kind} <a href=${r.href}>${r.what}</a>`,
      },
      { label: 'Grants', cell: (r: ExpiringRow) => html`<code>${r.detail}</code>` },
      { label: 'Owner', cell: (r: ExpiringRow) => r.owner },
      {
        label: 'Expires',
        cell: (r: ExpiringRow) => `${formatTime(r.expires)} (${formatRelative(r.expires)})`,
      },
    ]}
  />`;
}

function Wildcards(props: { o: Overview }): VNode {
  return html`<${DataTable}
    caption=${`Wildcard rules (${props.o.wildcardRules.count} of ${props.o.wildcardRules.rulesInForce} rules in force)`}
    rowKey=${(r: RuleRow) => `${r.policy} ${r.ruleId}`}
    rows=${props.o.wildcardRules.rules}
    empty="No rule has a wildcard."
    columns=${[
      {
        label: 'Rule',
        rowHeader: true,
        cell: (r: RuleRow) =>
          html`<a href=${routeHref('policies', { policy: r.policy, rule: r.ruleId })}
            >${r.policy} / ${r.ruleId}</a
          >`,
      },
      { label: 'From', cell: (r: RuleRow) => (r.source === 'group' ? 'security group' : 'policy') },
      {
        label: 'Wildcard',
        cell: (r: RuleRow) =>
          (r.wildcards ?? []).map((w) => (w === 'name' ? 'name pattern' : 'any address')).join(', '),
      },
      { label: 'Destinations', cell: (r: RuleRow) => html`<code>${r.destinations.join(', ')}</code>` },
      { label: 'Owner', cell: (r: RuleRow) => r.owner ?? '' },
    ]}
  />`;
}

function Lists(props: { o: Overview }): VNode {
  const o = props.o;
  type Range = Overview['guardrailDenials']['byRange'][number];
  type Silent = Overview['gatewayShare']['silent'][number];
  return html`<section aria-labelledby="lists-h">
    <h2 id="lists-h">Details</h2>
    <${TopDenied} o=${o} />
    <${Expiring} o=${o} />
    <${Wildcards} o=${o} />
    <${DataTable}
      caption="Guardrail denials by range"
      rowKey=${(r: Range) => r.range}
      rows=${o.guardrailDenials.byRange}
      empty="No request to a guarded range in this period."
      columns=${[
        { label: 'Range', rowHeader: true, cell: (r: Range) => html`<code>${r.range}</code>` },
        { label: 'Denials', cell: (r: Range) => formatValue(r.count) },
      ]}
    />
    <${DataTable}
      caption=${`Silent workloads: known to Weir, no decision in the period (${o.gatewayShare.silentCount})`}
      rowKey=${(r: Silent) => r.identity}
      rows=${o.gatewayShare.silent}
      empty="Every known workload sent traffic through the gateway."
      columns=${[
        {
          label: 'Identity',
          rowHeader: true,
          cell: (r: Silent) =>
            html`<a href=${routeHref('workloads', { identity: r.identity })}>${r.identity}</a>`,
        },
        { label: 'Known from', cell: (r: Silent) => r.knownBy.join(', ') },
      ]}
    />
  </section>`;
}

function OverviewScreen(props: { route: Route }): VNode {
  const asked = props.route.params.get('period');
  const period = PERIODS.find((p) => p.id === asked) ?? PERIODS[2];
  const { data, error } = usePolling(
    () => api.get<Overview>('overview', { since: period.id, bucket: period.bucket }),
    30_000,
    [period.id],
  );
  return html`<${PageHeader}
      title="Overview"
      subtitle="Outcome metrics: what the gateway allowed and denied, how fast people and policy changes are served, and what needs review."
    />
    <${PeriodPicker} current=${period.id} />
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The overview could not be read" />` : null}
    ${
      data === undefined
        ? error === undefined
          ? html`<${Loading} what="the overview" />`
          : null
        : html`<p class="muted">
              ${`${period.label}: ${formatTime(data.period.since)} to ${formatTime(data.period.until)}, per ${formatSpan(data.period.bucketSeconds * 1000)}.`}
            </p>
            <${Tiles} o=${data} />
            <${Charts} o=${data} />
            <${Lists} o=${data} />`
    }`;
}

/** The Overview screen. */
export const overviewScreen: Screen = { path: 'overview', title: 'Overview', component: OverviewScreen };
