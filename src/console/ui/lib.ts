/**
 * @module console/ui/lib — what every console screen uses: `html` (htm bound to Preact: tagged
 * templates, no JSX step, text escaped by construction), the Weir API client (`api.get`,
 * `api.post`: the session cookie goes along, writes carry the CSRF token, errors carry the API's
 * `{error:{code,message}}`, a 401 sends the user back to sign-in), the signed-in session, the
 * route, and shared pieces: page header, data table, error box, loading state, time formatting
 * and a polling hook. Screens import from here and nothing of each other.
 */
import { Fragment, h } from 'preact';
import type { ComponentChildren, VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const bound = htm.bind(h);

/**
 * Preact's `h` as tagged templates: `html\`<p>${text}</p>\`` (values are text, never markup).
 * Several top-level elements come back as one Fragment, so a template is always one VNode.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): VNode {
  const out = bound(strings, ...values);
  return Array.isArray(out) ? h(Fragment, null, out) : out;
}

/** The signed-in session, as `GET /console/session` answers it. */
export interface SessionInfo {
  readonly principal: string;
  readonly role: 'admin' | 'approver' | 'readonly';
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

let session: SessionInfo | undefined;
let onSignedOut: (reason: string) => void = () => undefined;

/** The session in force (undefined before sign-in). */
export function currentSession(): SessionInfo | undefined {
  return session;
}

/** Sets the session (the shell does, after sign-in or on load). */
export function setSession(s: SessionInfo | undefined): void {
  session = s;
}

/** What the shell does when the server says the session has ended (a 401). */
export function whenSignedOut(handler: (reason: string) => void): void {
  onSignedOut = handler;
}

/** Whether the signed-in role may do what `role` may (readonly < approver < admin). */
export function hasRole(role: SessionInfo['role']): boolean {
  const order = ['readonly', 'approver', 'admin'];
  return session !== undefined && order.indexOf(session.role) >= order.indexOf(role);
}

/** An answer of the Weir API that is not a success: its code, message and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Query values; undefined and empty ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** `path` under /weir/v1/ (or absolute when it starts with `/`) with `query`. */
export function apiUrl(path: string, query: Query = {}): string {
  const base = path.startsWith('/') ? path : `/weir/v1/${path}`;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs === '' ? base : `${base}?${qs}`;
}

async function call<T>(method: string, path: string, query: Query, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (session !== undefined) headers['x-weir-csrf'] = session.csrfToken;
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path, query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new ApiError(0, 'NetworkError', `the server could not be reached (${String(err)})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'InvalidResponse', `the server answered ${res.status} with no JSON`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    const err = new ApiError(res.status, e?.code ?? `HTTP${res.status}`, e?.message ?? res.statusText);
    if (res.status === 401 && session !== undefined) {
      session = undefined;
      onSignedOut(err.message);
    }
    throw err;
  }
  return json as T;
}

/** The Weir API client the screens use. */
export const api = {
  /** `GET /weir/v1/<path>?<query>`. */
  get: <T = Record<string, unknown>>(path: string, query: Query = {}): Promise<T> =>
    call<T>('GET', path, query),
  /** `POST /weir/v1/<path>` with a JSON body and the CSRF token. */
  post: <T = Record<string, unknown>>(path: string, body: unknown = {}, query: Query = {}): Promise<T> =>
    call<T>('POST', path, query, body),
};

/** Where the user is: `#/audit?principal=x` → `{ path: ['audit'], params }`. */
export interface Route {
  readonly path: readonly string[];
  readonly params: URLSearchParams;
}

/** Reads a location hash into a {@link Route}. */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const pathText = q < 0 ? text : text.slice(0, q);
  return {
    path: pathText.split('/').filter((p) => p !== ''),
    params: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)),
  };
}

/** The hash of a route: `routeHref('audit', {principal: 'x'})` → `#/audit?principal=x`. */
export function routeHref(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return `#/${path}${qs === '' ? '' : `?${qs}`}`;
}

/** Goes to a route (the shell re-renders on `hashchange`). */
export function navigate(path: string, query: Query = {}): void {
  location.hash = routeHref(path, query);
}

/** One screen of the console, registered in screens/index.ts. */
export interface Screen {
  /** First path segment: `#/<path>` and `#/<path>/…`. */
  readonly path: string;
  /** Its name in the navigation and its heading. */
  readonly title: string;
  readonly component: (props: { route: Route }) => VNode;
}

/** A screen's heading (the page's only `<h1>`) with an optional line under it and actions. */
export function PageHeader(props: { title: string; subtitle?: string; children?: ComponentChildren }): VNode {
  return html`<header class="page-header">
    <h1>${props.title}</h1>
    ${props.subtitle !== undefined ? html`<p class="subtitle">${props.subtitle}</p>` : null}
    ${props.children !== undefined ? html`<div class="actions">${props.children}</div>` : null}
  </header>`;
}

/** A column of {@link DataTable}: its header, and how a row shows in it. */
export interface Column<R> {
  readonly label: string;
  readonly cell: (row: R) => ComponentChildren;
  /** A row's header cell (`<th scope="row">`): one column per table names the row. */
  readonly rowHeader?: boolean;
}

/** A table with a caption, `<th scope="col">` headers, and a line when there are no rows. */
export function DataTable<R>(props: {
  caption: string;
  columns: readonly Column<R>[];
  rows: readonly R[];
  rowKey: (row: R) => string;
  empty?: string;
}): VNode {
  const { columns, rows } = props;
  return html`<div class="table-wrap">
    <table>
      <caption>
        ${props.caption}
      </caption>
      <thead>
        <tr>
          ${columns.map((c) => html`<th scope="col">${c.label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${
          rows.length === 0
            ? html`<tr>
                <td colspan=${columns.length} class="empty">${props.empty ?? 'Nothing to show.'}</td>
              </tr>`
            : rows.map(
                (r) =>
                  html`<tr key=${props.rowKey(r)}>
                    ${columns.map((c) =>
                      c.rowHeader === true
                        ? html`<th scope="row">${c.cell(r)}</th>`
                        : html`<td>${c.cell(r)}</td>`,
                    )}
                  </tr>`,
              )
        }
      </tbody>
    </table>
  </div>`;
}

/** An error, said in words (role=alert), with the API's code. */
export function ErrorBox(props: { error: unknown; title?: string }): VNode {
  const e = props.error;
  const code = e instanceof ApiError ? e.code : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return html`<div class="error-box" role="alert">
    <p><strong>${props.title ?? 'Error'}${code !== undefined ? ` (${code})` : ''}:</strong> ${message}</p>
  </div>`;
}

/** A loading line for screen readers and eyes alike. */
export function Loading(props: { what?: string }): VNode {
  return html`<p class="loading" role="status">
    Loading${props.what !== undefined ? ` ${props.what}` : ''}…
  </p>`;
}

/** `2026-12-08T10:00:00Z` → local `2026-12-08 11:00:00` (invalid: the text as given). */
export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A span of time in words: `3 h 5 min`, `45 s`, `2 d 4 h`. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return min % 60 === 0 ? `${hours} h` : `${hours} h ${min % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** `3 min ago` / `in 2 h` relative to `now`. */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = t - now;
  return d >= 0 ? `in ${formatSpan(d)}` : `${formatSpan(-d)} ago`;
}

/** What is left until `iso`: `2 h 5 min left`, or `expired`. */
export function formatTimeLeft(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return t <= now ? 'expired' : `${formatSpan(t - now)} left`;
}

/** What {@link usePolling} gives a screen. */
export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Loads now (after a write, say). */
  readonly refresh: () => void;
}

/**
 * Loads with `load` now and every `intervalMs` while the screen is shown and the tab visible:
 * polling stops when the component unmounts and pauses while the tab is hidden (reloading when it
 * shows again). `deps` reload it at once when they change (a new filter).
 */
export function usePolling<T>(
  load: () => Promise<T>,
  intervalMs: number,
  deps: readonly unknown[] = [],
): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    loadRef.current().then(
      (data) => {
        if (mine === generation.current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
  }, []);
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    run();
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = (): void => {
      if (timer === undefined && intervalMs > 0) timer = setInterval(run, intervalMs);
    };
    const stop = (): void => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = (): void => {
      if (document.hidden) stop();
      else {
        run();
        start();
      }
    };
    if (!document.hidden) start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
      // Answers still in flight are dropped.
      generation.current++;
    };
  }, [run, intervalMs, ...deps]);
  return { ...state, refresh: run };
}
