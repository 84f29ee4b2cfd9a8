/**
 * @module console/ui/screens/breakglass — break-glass: the open and recent sessions and drills
 * (`GET breakglass?all=true`), closing one with a reason, and the form that opens a session or
 * records a drill (identity, destinations, reason, TTL and the principal's one-time code). The API
 * decides who may: any role may open with its own TOTP code; the opener, an approver or an admin
 * may close.
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
  formatTimeLeft,
  html,
  usePolling,
} from '../lib.js';
import type { Screen } from '../lib.js';
import type { BreakglassSessionJson } from '../banner.js';

const STATE_TEXT: Readonly<Record<BreakglassSessionJson['state'], string>> = {
  open: '● open',
  closed: '○ closed',
  expired: '○ expired',
  drill: '◇ drill',
};

function CloseForm(props: { session: BreakglassSessionJson; onDone: () => void }): VNode {
  const [error, setError] = useState<unknown>(undefined);
  const id = `close-${props.session.id}`;
  return html`<form
    class="inline"
    onSubmit=${async (e: Event) => {
      e.preventDefault();
      const reason = String(new FormData(e.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
      try {
        await api.post('breakglass/close', { id: props.session.id, reason });
        setError(undefined);
        props.onDone();
      } catch (err) {
        setError(err);
      }
    }}
  >
    <label for=${id}>Reason to close ${props.session.id}</label>
    <input id=${id} name="reason" required placeholder="incident resolved" />
    <button type="submit">Close</button>
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="Not closed" />` : null}
  </form>`;
}

function OpenForm(props: { onDone: () => void }): VNode {
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  return html`<section aria-labelledby="open-h">
    <h2 id="open-h">Open a session or record a drill</h2>
    <p>
      A session lets one identity past its policy (never past the guardrails) until it ends. A drill records
      the same steps and grants nothing.
    </p>
    <form
      class="stack"
      onSubmit=${async (e: Event) => {
        e.preventDefault();
        const form = e.currentTarget as HTMLFormElement;
        const f = new FormData(form);
        const text = (n: string): string => String(f.get(n) ?? '').trim();
        const to = text('to')
          .split(/[\s,]+/)
          .filter((d) => d !== '');
        const ttl = text('ttl');
        try {
          const out = await api.post<{ session?: BreakglassSessionJson }>(
            f.get('drill') === 'on' ? 'breakglass/drill' : 'breakglass',
            {
              identity: text('identity'),
              to,
              reason: text('reason'),
              otp: text('otp'),
              ...(ttl !== '' ? { ttl } : {}),
            },
          );
          setError(undefined);
          setDone(
            out.session !== undefined ? `Recorded ${out.session.id} (${out.session.state}).` : 'Recorded.',
          );
          form.reset();
          props.onDone();
        } catch (err) {
          setDone(undefined);
          setError(err);
        }
      }}
    >
      <label for="bg-identity">Identity</label>
      <input
        id="bg-identity"
        name="identity"
        required
        placeholder="spiffe://prod.example/ns/payments/sa/checkout"
      />
      <label for="bg-to">Destinations (space or comma separated; empty: everything but the guardrails)</label>
      <input id="bg-to" name="to" placeholder="api.stripe.com:443" />
      <label for="bg-reason">Reason</label>
      <input id="bg-reason" name="reason" required placeholder="INC-1234: payments down" />
      <label for="bg-ttl">Duration (to open; e.g. 30m, at most the server's --breakglass-max-ttl)</label>
      <input id="bg-ttl" name="ttl" placeholder="30m" />
      <label for="bg-otp">One-time code from your authenticator</label>
      <input id="bg-otp" name="otp" required inputmode="numeric" autocomplete="one-time-code" />
      <div class="check">
        <input id="bg-drill" name="drill" type="checkbox" /><label for="bg-drill"
          >Drill only (grants nothing)</label
        >
      </div>
      <button type="submit">Open</button>
    </form>
    ${done !== undefined ? html`<p role="status" class="good">✔ ${done}</p>` : null}
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="Not opened" />` : null}
  </section>`;
}

function BreakglassScreen(): VNode {
  const { data, error, loading, refresh } = usePolling(
    () => api.get<{ sessions: BreakglassSessionJson[] }>('breakglass', { all: true }),
    5000,
  );
  const sessions = [...(data?.sessions ?? [])].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  const open = sessions.filter((s) => s.state === 'open');
  const rows = (list: BreakglassSessionJson[], caption: string, close: boolean): VNode =>
    html`<${DataTable}
      caption=${caption}
      rows=${list}
      rowKey=${(s: BreakglassSessionJson) => s.id}
      empty="None."
      columns=${[
        { label: 'Session', rowHeader: true, cell: (s: BreakglassSessionJson) => html`<code>${s.id}</code>` },
        { label: 'State', cell: (s: BreakglassSessionJson) => STATE_TEXT[s.state] },
        { label: 'Identity', cell: (s: BreakglassSessionJson) => html`<code>${s.identity}</code>` },
        {
          label: 'Destinations',
          cell: (s: BreakglassSessionJson) =>
            s.everything ? 'everything but the guardrails' : s.destinations.join(', '),
        },
        { label: 'Opened by', cell: (s: BreakglassSessionJson) => s.principal },
        { label: 'Reason', cell: (s: BreakglassSessionJson) => s.reason },
        { label: 'Opened', cell: (s: BreakglassSessionJson) => formatTime(s.openedAt) },
        {
          label: close ? 'Until' : 'Ended',
          cell: (s: BreakglassSessionJson) =>
            close
              ? `${formatTime(s.expires)} (${formatTimeLeft(s.expires)})`
              : s.drill
                ? 'a drill (granted nothing)'
                : s.closedAt !== undefined
                  ? `${formatTime(s.closedAt)} by ${s.closedBy ?? '?'}: ${s.closeReason ?? ''}`
                  : `${formatTime(s.expires)} (expired)`,
        },
        ...(close
          ? [
              {
                label: 'Close',
                cell: (s: BreakglassSessionJson) => html`<${CloseForm} session=${s} onDone=${refresh} />`,
              },
            ]
          : []),
      ]}
    />`;
  return html`<${PageHeader}
      title="Break-glass"
      subtitle="Emergency access: who opened it, why, and until when."
    />
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="Sessions could not be read" />` : null}
    ${
      data === undefined && loading
        ? html`<${Loading} what="sessions" />`
        : html`<section aria-labelledby="open-sessions-h">
              <h2 id="open-sessions-h">Open now</h2>
              ${rows(open, 'Open break-glass sessions', true)}
            </section>
            <section aria-labelledby="recent-h">
              <h2 id="recent-h">Recent sessions and drills</h2>
              ${rows(
                sessions.filter((s) => s.state !== 'open'),
                'Closed and expired sessions, and drills',
                false,
              )}
            </section>`
    }
    <${OpenForm} onDone=${refresh} />`;
}

/** The Break-glass screen. */
export const breakglassScreen: Screen = {
  path: 'breakglass',
  title: 'Break-glass',
  component: BreakglassScreen,
};
