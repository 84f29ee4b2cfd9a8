/**
 * @module console/ui/screens/exception-detail — one exception at `#/exceptions/<id>`: every field,
 * the time left (live), the two-person rule (who asked, who may still approve, the policies'
 * approver lists), the decisions the signed-in key may take (approve with a TTL and comment, deny
 * or revoke with a reason) and, for the others, the server's reason why not; and the policy rule
 * it becomes when promoted, with a copy button. It reads `GET exceptions/review`; every write is
 * decided again by the server, whose refusal is shown as it says it.
 */
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import {
  ErrorBox,
  Loading,
  PageHeader,
  api,
  formatTime,
  formatTimeLeft,
  hasRole,
  html,
  routeHref,
  usePolling,
} from '../lib.js';
import type { Route } from '../lib.js';
import { STATE_TEXT, untilOf, useNow } from './exception-common.js';
import type { ExceptionJson, ExceptionReview, May } from './exception-common.js';

type Action = 'approve' | 'deny' | 'revoke';

const ACTION_TEXT: Readonly<Record<Action, { verb: string; done: string }>> = {
  approve: { verb: 'Approve', done: 'Approved' },
  deny: { verb: 'Deny', done: 'Denied' },
  revoke: { verb: 'Revoke', done: 'Revoked' },
};

/** One decision's form: approve takes an optional shorter TTL and a comment; deny and revoke a reason. */
function DecisionForm(props: {
  action: Action;
  exception: ExceptionJson;
  maxTtl: string;
  onDone: (text: string) => void;
}): VNode {
  const { action, exception: e } = props;
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const text = ACTION_TEXT[action];
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const get = (n: string): string => String(f.get(n) ?? '').trim();
    const body: Record<string, string> = { id: e.id };
    if (action === 'approve') {
      if (get('ttl') !== '') body['ttl'] = get('ttl');
      if (get('comment') !== '') body['comment'] = get('comment');
    } else body['reason'] = get('reason');
    setBusy(true);
    try {
      await api.post(`exceptions/${action}`, body);
      setError(undefined);
      form.reset();
      props.onDone(`${text.done} ${e.id}.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const id = (n: string): string => `${action}-${n}`;
  return html`<form class="stack" aria-labelledby=${id('h')} onSubmit=${submit} novalidate>
    <h3 id=${id('h')}>${text.verb}</h3>
    ${
      action === 'approve'
        ? html`<label for=${id('ttl')}>Time to live (asked: ${e.ttl}; at most ${props.maxTtl})</label>
            <input id=${id('ttl')} name="ttl" placeholder=${e.ttl} spellcheck="false" />
            <label for=${id('comment')}>Comment (optional)</label>
            <input id=${id('comment')} name="comment" />`
        : html`<label for=${id('reason')}>
              Reason for ${action === 'deny' ? 'denying' : 'revoking'} (required; the requester is told)
            </label>
            <input id=${id('reason')} name="reason" required />`
    }
    <button type="submit" class=${action === 'approve' ? '' : 'secondary'} disabled=${busy}>
      ${busy ? `${text.verb}…` : `${text.verb} ${e.id}`}
    </button>
    ${error !== undefined ? html`<${ErrorBox} error=${error} title=${`Not ${text.done.toLowerCase()}`} />` : null}
  </form>`;
}

/** The forms the signed-in key may use; for the others, why not, in the server's words. */
function Decisions(props: { review: ExceptionReview; onDone: (text: string) => void }): VNode {
  const { review } = props;
  const e = review.exception;
  const offered: Action[] =
    e.state === 'pending' ? ['approve', 'deny', 'revoke'] : e.state === 'active' ? ['revoke'] : [];
  if (offered.length === 0)
    return html`<p>This exception is ${e.state}: there is nothing left to decide.</p>`;
  // Approve and deny are for approvers and admins: a read-only key is not offered them at all.
  const shown = offered.filter((a) => a === 'revoke' || hasRole('approver'));
  const may = (a: Action): May => review.caller[a];
  return html`${
    hasRole('approver')
      ? null
      : html`<p class="notice">
          Your role (${review.caller.role ?? 'readonly'}) may request and withdraw your own requests; an
          approver or admin approves or denies.
        </p>`
  }
  ${shown.map((a) =>
    may(a).allowed
      ? html`<${DecisionForm}
          key=${a}
          action=${a}
          exception=${e}
          maxTtl=${review.approval.maxTtl}
          onDone=${props.onDone}
        />`
      : html`<p key=${a} class="notice" data-refused=${a}>
          <strong>You may not ${a} it:</strong> ${may(a).why ?? ''}
        </p>`,
  )}`;
}

/** The principals who may approve, in words (htm drops a line break between text and a value). */
const namedApprovers = (principals: readonly string[] | undefined): string =>
  principals !== undefined && principals.length > 0
    ? principals.join(', ')
    : 'nobody (no principal is on every approver list)';

/** Who asked and who may still approve: the two-person rule and the policies' approver lists. */
function TwoPersonRule(props: { review: ExceptionReview }): VNode {
  const a = props.review.approval;
  const m = a.mayApprove;
  return html`<section aria-labelledby="two-person-h">
    <h2 id="two-person-h">Approval (two-person rule)</h2>
    <p>Requested by <strong>${a.requester}</strong>, who may not approve it.</p>
    ${a.decidedBy !== undefined ? html`<p>Decided by <strong>${a.decidedBy}</strong>.</p>` : null}
    ${
      m === undefined
        ? null
        : m.anyApprover
          ? html`<p>May approve: any approver or admin except ${m.except.join(', ')}.</p>`
          : html`<p>May approve: ${namedApprovers(m.principals)}.</p>`
    }
    ${
      a.approverLists.length > 0
        ? html`<ul>
            ${a.approverLists.map(
              (l) =>
                html`<li>
                  Policy <code>${l.policy}</code> allows ${l.approvers.join(', ') || 'nobody'} to approve.
                </li>`,
            )}
          </ul>`
        : null
    }
    <p>Longest time to live for this workload: ${a.maxTtl}.</p>
  </section>`;
}

/** The rule YAML to paste under `spec.rules`, fetched on demand, with a copy button. */
function Promote(props: { id: string }): VNode {
  const [yaml, setYaml] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [copied, setCopied] = useState<string | undefined>(undefined);
  const load = async (): Promise<void> => {
    try {
      setYaml((await api.get<{ yaml: string }>('exceptions/promote', { id: props.id })).yaml);
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  };
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(yaml ?? '');
      setCopied('Copied to the clipboard.');
    } catch {
      // No clipboard (permissions, an insecure origin): select the text for Ctrl+C instead.
      const pre = document.getElementById('promote-yaml');
      if (pre !== null) getSelection()?.selectAllChildren(pre);
      setCopied('Selected: press Ctrl+C (or ⌘C) to copy.');
    }
  };
  return html`<section aria-labelledby="promote-h">
    <h2 id="promote-h">Promote to a policy rule</h2>
    <p>
      The reviewed, permanent way: paste this under <code>spec.rules</code> of the workload's policy, then
      lint, test and apply it like any policy change.
    </p>
    ${
      yaml === undefined
        ? html`<button type="button" class="secondary" onClick=${load}>Show the rule to paste</button>`
        : html`<pre id="promote-yaml" tabindex="0" aria-label="Policy rule YAML">${yaml}</pre>
            <button type="button" onClick=${copy}>Copy the rule</button>
            ${copied !== undefined ? html`<span role="status" class="good"> ✔ ${copied}</span>` : null}`
    }
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The rule could not be made" />` : null}
  </section>`;
}

function Facts(props: { e: ExceptionJson; now: number }): VNode {
  const { e } = props;
  const until = untilOf(e);
  const rows: [string, string | undefined][] = [
    ['State', STATE_TEXT[e.state]],
    ['Time left', e.state === 'active' && until !== undefined ? formatTimeLeft(until, props.now) : undefined],
    ['Identity', e.identity],
    ['Destinations', e.destinations.join(', ')],
    ['Reason', e.reason],
    ['Data class', e.dataClass],
    ['Time to live', e.ttl],
    [
      'Window',
      e.window !== undefined ? `${formatTime(e.window.start)} to ${formatTime(e.window.end)}` : undefined,
    ],
    ['Requested by', e.requester],
    ['Requested', formatTime(e.requestedAt)],
    ['Decided by', e.decidedBy],
    ['Decided', e.decidedAt !== undefined ? formatTime(e.decidedAt) : undefined],
    [e.state === 'denied' ? 'Reason for denial' : 'Comment', e.comment],
    ['Expires', e.expires !== undefined ? formatTime(e.expires) : undefined],
    ['Revoked by', e.revokedBy],
    ['Revoked', e.revokedAt !== undefined ? formatTime(e.revokedAt) : undefined],
    ['Reason for revoking', e.revokeReason],
  ];
  return html`<dl class="facts">
    ${rows
      .filter((r): r is [string, string] => r[1] !== undefined)
      .map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd data-fact=${k}>${v}</dd>`,
      )}
  </dl>`;
}

/** The detail view of exception `id`, polled so a decision taken elsewhere shows. */
export function ExceptionDetail(props: { id: string; route: Route }): VNode {
  const { data, error, loading, refresh } = usePolling(
    () => api.get<ExceptionReview>('exceptions/review', { id: props.id }),
    5000,
    [props.id],
  );
  const now = useNow();
  const [done, setDone] = useState<string | undefined>(
    props.route.params.get('requested') === 'true'
      ? `Requested ${props.id}: an approver decides it.`
      : undefined,
  );
  return html`<${PageHeader} title=${`Exception ${props.id}`} subtitle=${data?.exception.identity ?? ''}>
      <a href=${routeHref('exceptions')}>Back to exceptions</a>
    </${PageHeader}>
    ${done !== undefined ? html`<p role="status" class="good">✔ ${done}</p>` : null}
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="The exception could not be read" />` : null}
    ${
      data === undefined
        ? loading
          ? html`<${Loading} what="the exception" />`
          : null
        : html`<section aria-labelledby="facts-h">
              <h2 id="facts-h">Details</h2>
              <${Facts} e=${data.exception} now=${now} />
            </section>
            <${TwoPersonRule} review=${data} />
            <section aria-labelledby="decide-h">
              <h2 id="decide-h">Decide</h2>
              <${Decisions}
                review=${data}
                onDone=${(text: string) => {
                  setDone(text);
                  refresh();
                }}
              />
            </section>
            <${Promote} id=${props.id} />`
    }`;
}
