/**
 * @module console/ui/screens/policies — the Policies and rules screen (`GET policies`): every rule
 * in force with owner, justification, data class and expiry (expired and expiring said in words),
 * where it is written, filterable by policy, rule, text and "expiring only" (the filters live in
 * the route: `#/policies?policy=…&rule=…` is a link to one rule); the bundle in force and the
 * bundles applied before it.
 */
import type { VNode } from 'preact';
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
import type { Route, Screen } from '../lib.js';
import { ExpiryCell } from '../expiry.js';
import type { ExpiryFields } from '../expiry.js';

interface RuleRow extends ExpiryFields {
  readonly policy: string;
  readonly ruleId: string;
  readonly mode: string;
  readonly destinations: readonly string[];
  readonly protocol: string;
  readonly ports: readonly string[];
  readonly owner?: string;
  readonly justification?: string;
  readonly dataClass?: string;
  readonly declaredIn: string;
}

interface BundleRow {
  readonly version: string;
  readonly hash: string;
  readonly appliedAt: string;
  readonly appliedBy?: string;
  readonly keyId?: string;
  readonly created?: string;
  readonly audience?: string;
  readonly inForce?: boolean;
}

interface PoliciesView {
  readonly enforcing?: string;
  readonly policyDir?: string;
  readonly policies: readonly { name: string; mode: string; owner?: string; rules: number }[];
  readonly rules: readonly RuleRow[];
  readonly truncated?: boolean;
  readonly total?: number;
  readonly bundle?: BundleRow;
  readonly bundleHistory: readonly BundleRow[];
}

function Filters(props: { route: Route; policies: readonly string[] }): VNode {
  const p = props.route.params;
  return html`<form
    class="filters"
    aria-label="Filter the rules"
    onSubmit=${(e: Event) => {
      e.preventDefault();
      const f = new FormData(e.currentTarget as HTMLFormElement);
      navigate('policies', {
        policy: String(f.get('policy') ?? ''),
        q: String(f.get('q') ?? '').trim(),
        expiring: f.get('expiring') === 'on' ? 'true' : undefined,
      });
    }}
  >
    <div>
      <label for="p-policy">Policy</label>
      <select id="p-policy" name="policy">
        <option value="">All policies</option>
        ${props.policies.map((name) => html`<option value=${name} selected=${p.get('policy') === name}>${name}</option>`)}
      </select>
    </div>
    <div>
      <label for="p-q">Text</label>
      <input id="p-q" name="q" value=${p.get('q') ?? ''} placeholder="stripe, pci, owner…" />
    </div>
    <div class="check">
      <input id="p-expiring" type="checkbox" name="expiring" checked=${p.get('expiring') === 'true'} />
      <label for="p-expiring">Only expired or expiring within 30 days</label>
    </div>
    <button type="submit">Filter</button>
    <a href="#/policies">Clear</a>
  </form>`;
}

function Bundles(props: { view: PoliciesView }): VNode {
  const v = props.view;
  const b = v.bundle;
  return html`<section aria-labelledby="bundle-h">
    <h2 id="bundle-h">Bundle in force</h2>
    ${
      b !== undefined
        ? html`<dl class="bundle">
            <dt>Version</dt>
            <dd>${b.version}</dd>
            <dt>Signer key</dt>
            <dd><code>${b.keyId ?? 'unknown'}</code></dd>
            <dt>Applied</dt>
            <dd>${formatTime(b.appliedAt)}${b.appliedBy !== undefined ? ` by ${b.appliedBy}` : ''}</dd>
            <dt>Content hash</dt>
            <dd><code>${b.hash}</code></dd>
            ${
              b.audience !== undefined
                ? html`<dt>Audience</dt>
                    <dd>${b.audience}</dd>`
                : null
            }
          </dl>`
        : html`<p>
            ${
              v.policyDir !== undefined
                ? html`No bundle: this server enforces the policy directory <code>${v.policyDir}</code>.`
                : 'No bundle has been applied (weir policy bundle apply FILE).'
            }
          </p>`
    }
    <h3>History</h3>
    <${DataTable}
      caption="Bundles applied, newest first"
      rowKey=${(r: BundleRow) => `${r.version}/${r.appliedAt}`}
      rows=${v.bundleHistory}
      empty="No bundle has been applied."
      columns=${[
        {
          label: 'Version',
          rowHeader: true,
          cell: (r: BundleRow) =>
            b !== undefined && r === v.bundleHistory[0] ? `${r.version} (in force)` : r.version,
        },
        { label: 'Applied at', cell: (r: BundleRow) => formatTime(r.appliedAt) },
        { label: 'Applied by', cell: (r: BundleRow) => r.appliedBy ?? 'unknown' },
        { label: 'Signer key', cell: (r: BundleRow) => html`<code>${r.keyId ?? ''}</code>` },
        { label: 'Hash', cell: (r: BundleRow) => html`<code title=${r.hash}>${r.hash.slice(0, 19)}…</code>` },
      ]}
    />
  </section>`;
}

function PoliciesScreen(props: { route: Route }): VNode {
  const p = props.route.params;
  const query = {
    policy: p.get('policy') ?? undefined,
    rule: p.get('rule') ?? undefined,
    q: p.get('q') ?? undefined,
    expiring: p.get('expiring') === 'true' ? 'true' : undefined,
  };
  const { data, error } = usePolling(() => api.get<PoliciesView>('policies', query), 30_000, [p.toString()]);
  // The policy names for the filter come from the unfiltered list once it is loaded.
  const all = usePolling(() => api.get<PoliciesView>('policies', { limit: 1 }), 0, []);
  const names = (all.data?.policies ?? []).map((x) => x.name);
  const selected = query.rule;
  return html`<${PageHeader}
      title="Policies and rules"
      subtitle=${data?.enforcing !== undefined ? `Enforcing ${data.enforcing}.` : 'Every rule in force.'}
    />
    <${Filters} route=${props.route} policies=${names} />
    ${selected !== undefined ? html`<p>Showing rule <strong>${query.policy}/${selected}</strong>. <a href=${routeHref('policies', { policy: query.policy })}>Show the whole policy</a></p>` : null}
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The rules could not be read" />` : null}
    ${
      data === undefined
        ? error === undefined
          ? html`<${Loading} what="rules" />`
          : null
        : html`<section aria-labelledby="rules-h">
              <h2 id="rules-h">Rules</h2>
              <${DataTable}
                caption=${`Rules in force${data.truncated === true ? ` (first ${data.rules.length} of ${data.total ?? '?'})` : ` (${data.rules.length})`}`}
                rowKey=${(r: RuleRow) => `${r.policy}/${r.ruleId}`}
                rows=${data.rules}
                empty="No rule matches."
                columns=${[
                  {
                    label: 'Rule',
                    rowHeader: true,
                    cell: (r: RuleRow) =>
                      html`<a href=${routeHref('policies', { policy: r.policy, rule: r.ruleId })}
                          >${r.policy}/${r.ruleId}</a
                        >${r.mode === 'report' ? ' (report mode)' : ''}`,
                  },
                  { label: 'Destinations', cell: (r: RuleRow) => r.destinations.join(', ') },
                  {
                    label: 'Ports',
                    cell: (r: RuleRow) =>
                      `${r.ports.join(', ')} (${r.protocol === '-1' ? 'any' : r.protocol})`,
                  },
                  { label: 'Owner', cell: (r: RuleRow) => r.owner ?? '—' },
                  { label: 'Justification', cell: (r: RuleRow) => r.justification ?? '—' },
                  { label: 'Data class', cell: (r: RuleRow) => r.dataClass ?? '—' },
                  { label: 'Expires', cell: (r: RuleRow) => html`<${ExpiryCell} row=${r} />` },
                  { label: 'Declared in', cell: (r: RuleRow) => html`<code>${r.declaredIn}</code>` },
                ]}
              />
            </section>
            <${Bundles} view=${data} />`
    }`;
}

/** The Policies and rules screen. */
export const policiesScreen: Screen = {
  path: 'policies',
  title: 'Policies and rules',
  component: PoliciesScreen,
};
