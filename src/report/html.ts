/**
 * @module report/html — the report as ONE self-contained HTML file for auditors to keep: inline
 * CSS (allowed by its hash in a Content-Security-Policy meta tag that allows nothing else: no
 * script, no fetch, no external image or font), inline SVG charts, a light theme, print styles.
 * Every value is escaped (report/html-kit).
 */
import { createHash } from 'node:crypto';
import { barChart, lineChart, markup, humanDuration, humanTime, table } from './html-kit.js';
import { Markup } from './html-kit.js';
import type { Bar } from './html-kit.js';
import type { AccessEntry, ReportDocument, WorkloadAccess } from './types.js';

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1f2328; background: #fff; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #0a5cad; }
h3 { font-size: 15px; margin: 18px 0 6px; overflow-wrap: break-word; }
p, dl { margin: 6px 0; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: break-word; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; padding: 0; list-style: none; }
.tiles li { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.tiles strong { display: block; font-size: 20px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f0f3f6; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; overflow-wrap: anywhere; }
.id { white-space: nowrap; }
.ok { color: #116329; font-weight: 700; }
.bad { color: #a40e26; font-weight: 700; }
.warn { color: #7d4e00; font-weight: 600; }
.empty { color: #57606a; font-style: italic; }
.note { color: #57606a; }
figure.chart { margin: 8px 0 12px; }
figcaption { font-size: 12px; color: #57606a; }
footer { margin-top: 32px; font-size: 12px; color: #57606a; border-top: 1px solid #d0d7de; padding-top: 8px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  tr, figure, .tiles li { break-inside: avoid; }
  thead { display: table-header-group; }
}
`;

/** The CSP: nothing may load or run; the one style element is allowed by its hash. */
function contentSecurityPolicy(css: string): string {
  const hash = createHash('sha256').update(css).digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`;
}

const expiresCell = (d: AccessEntry): Markup | string => {
  if (d.expires === undefined) return '';
  return d.expired === true
    ? markup`<span class="bad">expired</span> ${humanTime(d.expires)}`
    : humanTime(d.expires);
};

const viaText = (d: AccessEntry): string =>
  d.via === 'security-group'
    ? `security group ${d.groupId ?? ''}`
    : d.reportMode === true
      ? 'policy (report mode)'
      : d.via;

function workloadBlock(w: WorkloadAccess): Markup {
  const labels = Object.entries(w.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const rows = w.destinations.map((d) => [
    markup`<span class="mono">${d.to}</span>`,
    viaText(d),
    markup`<span class="mono">${d.policy !== undefined ? `${d.policy}/` : ''}${d.rule}</span>`,
    d.owner ?? '',
    d.justification ?? '',
    d.dataClass ?? '',
    expiresCell(d),
  ]);
  return markup`<h3>${w.pattern === true ? 'Pattern ' : ''}<span class="mono">${w.identity}</span></h3>
    <p>
      ${labels !== '' ? markup`Labels: <span class="mono">${labels}</span>. ` : ''}Policies:
      ${w.policies.join(', ') || 'none'}. Groups: ${w.groups.join(', ') || 'none'}.
    </p>
    ${table(`What ${w.identity} may reach`, ['Destination', 'Granted by', 'Rule', 'Owner', 'Justification', 'Data class', 'Expires'], rows, 'No destination: everything this workload asks for is denied.')}`;
}

function accessSection(r: ReportDocument): Markup {
  return markup`<section aria-labelledby="access">
    <h2 id="access">Who may reach what, and why</h2>
    <p>
      Computed from ${r.policy.source} (${r.policy.policies} policies, ${r.policy.rules} rules), the security
      groups attached to each workload in account ${r.account}, and the exceptions and break-glass sessions in
      force at ${humanTime(r.generatedAt)}.
    </p>
    ${r.access.length === 0 ? markup`<p class="empty">No workload is known: no policy, attachment or grant names one.</p>` : r.access.map(workloadBlock)}
  </section>`;
}

/** Calendar entries per ISO week (Monday), for the chart. */
function byWeek(days: readonly string[]): Bar[] {
  const weeks = new Map<string, number>();
  for (const d of days) {
    const t = new Date(`${d}T00:00:00Z`);
    const monday = new Date(t.getTime() - ((t.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
    weeks.set(monday, (weeks.get(monday) ?? 0) + 1);
  }
  return [...weeks.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([w, n]) => ({ label: `week of ${w}`, value: n }));
}

function calendarSection(r: ReportDocument): Markup {
  const rows = r.expiryCalendar.map((e) => [
    humanTime(e.at),
    e.kind,
    markup`<span class="mono">${e.what}</span>`,
    e.identity ?? '',
    e.owner ?? '',
    e.past ? markup`<span class="warn">expired</span>` : 'upcoming',
  ]);
  return markup`<section aria-labelledby="calendar">
    <h2 id="calendar">Expiry calendar</h2>
    <p>
      Rules, exceptions and break-glass sessions that expired during the period or expire within 90 days of
      ${humanTime(r.generatedAt)}.
    </p>
    ${barChart('Expiries per week', byWeek(r.expiryCalendar.map((e) => e.day)))}
    ${table('Expiry calendar', ['When', 'Kind', 'What', 'Workload', 'Owner', 'Status'], rows, 'Nothing expires in this window.')}
  </section>`;
}

function exceptionsSection(r: ReportDocument): Markup {
  const rows = r.exceptions.map((e) => [
    markup`<span class="mono id">${e.id}</span>`,
    markup`<span class="mono">${e.identity}</span>`,
    markup`<span class="mono">${e.destinations.join(', ')}</span>`,
    e.requester,
    e.approvers.join(', '),
    e.reason,
    e.durationMs !== undefined ? humanDuration(e.durationMs) : '',
    e.timeToApproveMs !== undefined ? humanDuration(e.timeToApproveMs) : '',
    humanTime(e.approvedAt),
    markup`${e.state}${e.revokedBy !== undefined ? ` by ${e.revokedBy}` : ''}${e.revokeReason !== undefined ? `: ${e.revokeReason}` : ''}`,
  ]);
  return markup`<section aria-labelledby="exceptions">
    <h2 id="exceptions">Exceptions granted</h2>
    <p>
      Approved exceptions in force at some time during the period. The approver is never the requester
      (two-person rule).
    </p>
    ${table('Exceptions granted', ['ID', 'Workload', 'Destinations', 'Requester', 'Approver', 'Reason', 'Duration', 'Time to approve', 'Approved', 'State'], rows, 'No exception was in force during the period.')}
  </section>`;
}

function breakglassSection(r: ReportDocument): Markup {
  const rows = r.breakglass.map((s) => [
    markup`<span class="mono id">${s.id}</span>`,
    s.drill ? 'drill' : 'session',
    markup`<span class="mono">${s.identity}</span>`,
    markup`<span class="mono"
      >${s.destinations.length > 0 ? s.destinations.join(', ') : 'everything but the guardrails'}</span
    >`,
    s.principal,
    s.reason,
    humanTime(s.openedAt),
    humanDuration(s.durationMs),
    markup`${s.state}${s.closedBy !== undefined ? ` by ${s.closedBy}` : ''}${s.closeReason !== undefined ? `: ${s.closeReason}` : ''}`,
  ]);
  const drills = r.breakglass.filter((s) => s.drill).length;
  return markup`<section aria-labelledby="breakglass">
    <h2 id="breakglass">Break-glass sessions and drills</h2>
    <p>${r.breakglass.length - drills} sessions and ${drills} drills opened or open during the period.</p>
    ${table('Break-glass sessions and drills', ['ID', 'Kind', 'Workload', 'Destinations', 'Opened by', 'Reason', 'Opened', 'Lasted', 'State'], rows, 'No break-glass session or drill during the period.')}
  </section>`;
}

function auditSection(r: ReportDocument): Markup {
  const a = r.audit;
  return markup`<section aria-labelledby="audit">
    <h2 id="audit">Audit chain verification</h2>
    <p>
      ${a.intact ? markup`<span class="ok">INTACT</span>: every record matches its hash and follows the one before; every digest is ${a.signaturesChecked ? 'signed by the server key and ' : ''}chained and matches its record.` : markup`<span class="bad">BROKEN</span>: record ${a.problem?.seq ?? '?'}: ${a.problem?.reason ?? 'unknown problem'}.`}
    </p>
    <dl class="meta">
      <dt>Records</dt>
      <dd>${a.records} (last seq ${a.lastSeq}; ${a.recordsInPeriod} in the period)</dd>
      <dt>Last record hash</dt>
      <dd class="mono">${a.lastHash ?? 'none'}</dd>
      <dt>Signed digests</dt>
      <dd>
        ${a.digests}${a.lastDigest !== undefined ? `, the last (#${a.lastDigest.seq}) covers record ${a.lastDigest.lastSeq} at ${humanTime(a.lastDigest.time)}` : ''}
      </dd>
      <dt>Not yet signed</dt>
      <dd>${a.unsigned} records</dd>
      <dt>Signatures</dt>
      <dd>
        ${a.signaturesChecked ? 'checked with the server’s public key' : 'not checked (no public key given): chain and match only'}
      </dd>
    </dl>
  </section>`;
}

/** Days summed into weeks (Monday), for the table under the chart. */
function weekly(perDay: NonNullable<ReportDocument['denials']>['perDay']): (readonly unknown[])[] {
  const weeks = new Map<string, { allow: number; deny: number; wouldDeny: number; other: number }>();
  for (const d of perDay) {
    const t = new Date(`${d.day}T00:00:00Z`);
    const monday = new Date(t.getTime() - ((t.getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
    const w = weeks.get(monday) ?? { allow: 0, deny: 0, wouldDeny: 0, other: 0 };
    w.allow += d.allow;
    w.deny += d.deny;
    w.wouldDeny += d.wouldDeny;
    w.other += d.other;
    weeks.set(monday, w);
  }
  return [...weeks.entries()].map(([week, w]) => [`week of ${week}`, w.allow, w.deny, w.wouldDeny, w.other]);
}

function denialsSection(r: ReportDocument): Markup {
  const d = r.denials;
  if (d === undefined) {
    return markup`<section aria-labelledby="denials"><h2 id="denials">Denials by reason</h2>
<p class="empty">This store keeps no decision counters (a server older than the decisions store).</p></section>`;
  }
  const reasons = d.byReason.map((x) => [x.reason, x.deny, x.wouldDeny, x.deny + x.wouldDeny]);
  const pairs = d.topPairs.map((p) => [
    markup`<span class="mono">${p.identity === '*' ? 'all other pairs' : p.identity}</span>`,
    markup`<span class="mono">${p.destination === '*' ? '' : p.destination}</span>`,
    p.decision,
    p.count,
  ]);
  const totals = Object.entries(d.totals)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return markup`<section aria-labelledby="denials"><h2 id="denials">Denials by reason</h2>
<p>Decisions of the period: ${totals || 'none recorded'}.${d.countersFrom !== undefined ? markup` <span class="note">Decision counters are kept 90 days: these figures start at ${humanTime(d.countersFrom)}.</span>` : ''}</p>
${barChart(
  'Denials by reason (deny and would-deny)',
  d.byReason.map((x) => ({ label: x.reason, value: x.deny + x.wouldDeny })),
)}
${table('Denials by reason', ['Reason', 'Denied', 'Would deny (report mode)', 'Total'], reasons, 'No denial in the period.')}
${table('Most denied workload and destination pairs', ['Workload', 'Destination', 'Decision', 'Count'], pairs, 'No denied pair in the period.')}
</section>
<section aria-labelledby="outcomes"><h2 id="outcomes">Outcome metrics over the period</h2>
${lineChart(
  'Decisions per day',
  d.perDay.map((x) => x.day),
  [
    { name: 'allowed', values: d.perDay.map((x) => x.allow), colour: '#116329', dash: '' },
    { name: 'denied', values: d.perDay.map((x) => x.deny), colour: '#a40e26', dash: '6 3' },
    { name: 'would deny', values: d.perDay.map((x) => x.wouldDeny), colour: '#7d4e00', dash: '2 3' },
  ],
)}
${table('Decisions per week', ['Week', 'Allowed', 'Denied', 'Would deny', 'Other (unauthenticated, limit, error)'], weekly(d.perDay), 'No decision in the period.')}
${outcomeTable(r)}
</section>`;
}

/** The fields of the Overview's document the report prints (outcomes/`computeOverview`). */
interface OverviewView {
  readonly gatewayShare?: {
    readonly known?: number;
    readonly active?: number;
    readonly share?: number;
    readonly silentCount?: number;
    readonly unauthenticated?: { readonly count?: number; readonly share?: number };
  };
  readonly timeToApprove?: {
    readonly overall?: {
      readonly count?: number;
      readonly medianSeconds?: number;
      readonly p90Seconds?: number;
    };
    readonly pending?: { readonly count?: number };
  };
  readonly expiring?: {
    readonly withinDays?: number;
    readonly rules?: readonly unknown[];
    readonly rulesExpired?: number;
    readonly exceptions?: readonly unknown[];
  };
  readonly wildcardRules?: { readonly count?: number; readonly rulesInForce?: number };
  readonly guardrailDenials?: { readonly total?: number };
  readonly enforcement?: {
    readonly overall?: {
      readonly count?: number;
      readonly medianSeconds?: number;
      readonly p90Seconds?: number;
    };
  };
}

const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const secs = (x: number | undefined): string => (x === undefined ? 'n/a' : humanDuration(x * 1000));

/** The outcome metrics as a table of figures (what the console's Overview charts). */
function outcomeTable(r: ReportDocument): Markup {
  if (r.outcomes === undefined) {
    return markup`<p class="empty">The outcome metrics are not available from this store.</p>`;
  }
  const o = r.outcomes as OverviewView;
  const g = o.gatewayShare;
  const t = o.timeToApprove;
  const e = o.expiring;
  const rows: (readonly unknown[])[] = [
    [
      'Share of known workloads whose egress went through the gateway',
      `${pct(g?.share)} (${g?.active ?? 0} of ${g?.known ?? 0}; ${g?.silentCount ?? 0} silent)`,
    ],
    [
      'Unauthenticated share of decisions',
      `${pct(g?.unauthenticated?.share)} (${g?.unauthenticated?.count ?? 0})`,
    ],
    [
      'Time to approve an exception',
      `median ${secs(t?.overall?.medianSeconds)}, p90 ${secs(t?.overall?.p90Seconds)} (${t?.overall?.count ?? 0} approvals; ${t?.pending?.count ?? 0} pending now)`,
    ],
    [
      `Expiring within ${e?.withinDays ?? 30} days`,
      `${e?.rules?.length ?? 0} rules, ${e?.exceptions?.length ?? 0} exceptions (${e?.rulesExpired ?? 0} rules already expired)`,
    ],
    [
      'Wildcard rules in force',
      `${o.wildcardRules?.count ?? 0} of ${o.wildcardRules?.rulesInForce ?? 0} rules`,
    ],
    ['Denials to guardrail ranges', String(o.guardrailDenials?.total ?? 0)],
    [
      'Policy change to enforcement',
      `median ${secs(o.enforcement?.overall?.medianSeconds)}, p90 ${secs(o.enforcement?.overall?.p90Seconds)} (${o.enforcement?.overall?.count ?? 0} changes)`,
    ],
  ];
  return table('Outcome metrics', ['Metric', 'Over the period'], rows, '');
}

function bundlesSection(r: ReportDocument): Markup {
  const rows = r.policy.bundles.map((b) => [
    b.version,
    markup`<span class="mono">${b.hash}</span>`,
    humanTime(b.appliedAt),
    b.replacedAt !== undefined ? humanTime(b.replacedAt) : 'in force',
  ]);
  return markup`<section aria-labelledby="bundles">
    <h2 id="bundles">Policy bundle versions in force</h2>
    <p>
      The policy in force now:
      ${r.policy.source}.${r.policy.note !== undefined ? markup` <span class="note">Note: ${r.policy.note}.</span>` : ''}
    </p>
    ${table('Policy bundles', ['Version', 'Content hash', 'Applied', 'Replaced'], rows, 'No policy bundle was applied through the API (a policy directory, or none).')}
  </section>`;
}

function header(r: ReportDocument): Markup {
  const from =
    r.source.kind === 'data-dir' ? `data dir ${r.source.dataDir}` : `server ${r.source.endpoint ?? ''}`;
  const sessions = r.breakglass.filter((s) => !s.drill).length;
  return markup`<header>
    <h1>Weir evidence report</h1>
    <dl class="meta">
      <dt>Period</dt>
      <dd>${humanTime(r.period.since)} to ${humanTime(r.period.until)}</dd>
      <dt>Generated</dt>
      <dd>${humanTime(r.generatedAt)} (${r.generatedAt})</dd>
      <dt>From</dt>
      <dd class="mono">${from}</dd>
      <dt>Gateway account</dt>
      <dd>${r.account}</dd>
      <dt>Policy</dt>
      <dd>${r.policy.source}</dd>
      <dt>Format</dt>
      <dd>${r.format}</dd>
    </dl>
    <ul class="tiles">
      <li><strong>${r.access.filter((w) => w.pattern !== true).length}</strong> workloads</li>
      <li>
        <strong>${r.access.reduce((n, w) => n + w.destinations.length, 0)}</strong> allowed destinations
      </li>
      <li><strong>${r.exceptions.length}</strong> exceptions</li>
      <li><strong>${sessions}</strong> break-glass sessions</li>
      <li><strong>${r.breakglass.length - sessions}</strong> drills</li>
      <li>
        <strong class="${r.audit.intact ? 'ok' : 'bad'}">${r.audit.intact ? 'intact' : 'BROKEN'}</strong>
        audit chain
      </li>
    </ul>
  </header>`;
}

/** The report as one HTML document (UTF-8 text). */
export function renderReportHtml(r: ReportDocument): string {
  const cut =
    r.truncated.length > 0
      ? markup`<p class="warn">
          Sections cut at their row limit: ${r.truncated.join(', ')}. Use a shorter --since, or the JSON form.
        </p>`
      : markup``;
  const body = markup`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(CSS)}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="weir report" />
        <title>Weir evidence report ${r.period.since.slice(0, 10)} to ${r.period.until.slice(0, 10)}</title>
        <style>${new Markup(CSS)}</style>
      </head>
      <body>
        <main>
          ${header(r)} ${cut} ${accessSection(r)} ${calendarSection(r)} ${exceptionsSection(r)}
          ${breakglassSection(r)} ${auditSection(r)} ${denialsSection(r)} ${bundlesSection(r)}
        </main>
        <footer>
          Generated by weir report (${r.format}) at ${r.generatedAt}. The JSON form of this report (weir
          report --format json) holds every value shown here.
        </footer>
      </body>
    </html> `;
  return body.text;
}
