/**
 * @module console/ui/screens/exception-request — the request form at
 * `#/exceptions/request?identity=…&to=…&reason=…`: prefilled from its route, so a denied decision
 * is one click from a request (the Decisions screen links here with the denial's identity and
 * `destinationText()`). It posts `POST exceptions`; a refusal that names a field (`field 'ttl': …`)
 * is shown next to that field (`aria-describedby`, `aria-invalid`), any other above the form.
 */
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, ErrorBox, PageHeader, api, html, navigate, routeHref } from '../lib.js';
import type { Route } from '../lib.js';
import { fieldOfError, splitDestinations } from './exception-common.js';
import type { ExceptionJson } from './exception-common.js';

/** One field of the form: its request name, label, hint, and how it is typed. */
interface FieldDef {
  readonly name: 'identity' | 'to' | 'reason' | 'ttl' | 'dataClass' | 'window';
  readonly label: string;
  readonly hint: string;
  readonly required?: boolean;
  readonly multiline?: boolean;
}

const FIELDS: readonly FieldDef[] = [
  {
    name: 'identity',
    label: 'Workload identity',
    hint: 'One exact identity, e.g. spiffe://prod.example/ns/shop/sa/web.',
    required: true,
  },
  {
    name: 'to',
    label: 'Destinations',
    hint: 'One per line, as weir check writes them: api.github.com:443, dns.example:53/udp, 203.0.113.0/24:443 (up to 20).',
    required: true,
    multiline: true,
  },
  { name: 'reason', label: 'Reason', hint: 'One line: the approver reads it.', required: true },
  {
    name: 'ttl',
    label: 'Time to live',
    hint: 'From 5s to the policy maximum (default 24h); starts at approval.',
  },
  { name: 'dataClass', label: 'Data class', hint: "Must fit the workload's (e.g. pci); empty for none." },
  {
    name: 'window',
    label: 'Change window',
    hint: 'Optional START/END in ISO 8601, e.g. 2027-01-10T22:00:00Z/2027-01-11T02:00:00Z.',
  },
];

function Field(props: { def: FieldDef; value: string; error: string | undefined }): VNode {
  const { def } = props;
  const id = `req-${def.name}`;
  const described = `${id}-hint${props.error !== undefined ? ` ${id}-error` : ''}`;
  const common = {
    id,
    name: def.name,
    required: def.required === true,
    'aria-describedby': described,
    'aria-invalid': props.error !== undefined ? 'true' : undefined,
    spellcheck: false,
  };
  // No wrapper: each part is a row of the form's grid (form.stack), label above its input.
  return html`<label for=${id}>${def.label}${def.required === true ? ' (required)' : ''}</label>
    ${
      def.multiline === true
        ? html`<textarea ...${common} rows="3" value=${props.value}></textarea>`
        : html`<input ...${common} value=${props.value} />`
    }
    <small id=${`${id}-hint`} class="hint">${def.hint}</small>
    ${
      props.error !== undefined
        ? html`<p id=${`${id}-error`} class="field-error bad" role="alert">✖ ${props.error}</p>`
        : null
    }`;
}

/** The request form, prefilled from `route.params` (`identity`, `to` — repeatable — and `reason`). */
export function RequestForm(props: { route: Route }): VNode {
  const p = props.route.params;
  const [values, setValues] = useState<Record<string, string>>({
    identity: p.get('identity') ?? '',
    to: p.getAll('to').join('\n'),
    reason: p.get('reason') ?? '',
    ttl: p.get('ttl') ?? '',
    dataClass: p.get('dataClass') ?? '',
    window: p.get('window') ?? '',
  });
  const [error, setError] = useState<{ field?: string; err: unknown } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const v = Object.fromEntries(FIELDS.map((d) => [d.name, String(f.get(d.name) ?? '').trim()]));
    setValues(v);
    setBusy(true);
    try {
      const optional = (['ttl', 'dataClass', 'window'] as const).filter((k) => v[k] !== '');
      const out = await api.post<{ exception: ExceptionJson }>('exceptions', {
        identity: v['identity'],
        to: splitDestinations(v['to'] ?? ''),
        reason: v['reason'],
        ...Object.fromEntries(optional.map((k) => [k, v[k]])),
      });
      setError(undefined);
      navigate(`exceptions/${out.exception.id}`, { requested: 'true' });
    } catch (err) {
      const field = err instanceof ApiError ? fieldOfError(err.message) : undefined;
      setError(FIELDS.some((d) => d.name === field) ? { field: field as string, err } : { err });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name: string): string | undefined =>
    error?.field === name && error.err instanceof Error ? error.err.message : undefined;
  return html`<${PageHeader}
      title="Request an exception"
      subtitle="Temporary access for one workload, approved by a second person."
    >
      <a href=${routeHref('exceptions')}>Back to exceptions</a>
    </${PageHeader}>
    ${
      error !== undefined && error.field === undefined
        ? html`<${ErrorBox} error=${error.err} title="Not requested" />`
        : null
    }
    <form class="stack" aria-label="Request an exception" onSubmit=${submit} noValidate>
      ${FIELDS.map(
        (d) =>
          html`<${Field} key=${d.name} def=${d} value=${values[d.name] ?? ''} error=${fieldError(d.name)} />`,
      )}
      <button type="submit" disabled=${busy}>${busy ? 'Requesting…' : 'Request'}</button>
    </form>`;
}
