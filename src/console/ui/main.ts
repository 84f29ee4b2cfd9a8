/**
 * @module console/ui/main — the console's shell: the sign-in page, then the header (who is
 * signed in, with which role; theme; sign out), the navigation built from the screen registry,
 * the break-glass banner on every screen, and the hash router (`#/<screen>/…?<query>`) that
 * shows one screen in the main landmark.
 */
import { render } from 'preact';
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, ErrorBox, currentSession, html, parseRoute, setSession, whenSignedOut } from './lib.js';
import type { Route, SessionInfo } from './lib.js';
import { BreakglassBanner } from './banner.js';
import { SCREENS } from './screens/index.js';

/** The navigation's order; screens not named here follow, in registry order. */
const NAV_ORDER = [
  'overview',
  'decisions',
  'workloads',
  'policies',
  'security-groups',
  'exceptions',
  'breakglass',
  'audit',
];

const screens = [...SCREENS].sort((a, b) => rank(a.path) - rank(b.path));
function rank(path: string): number {
  const i = NAV_ORDER.indexOf(path);
  return i < 0 ? NAV_ORDER.length : i;
}

type Theme = 'light' | 'dark';
const THEME_KEY = 'weir-console-theme';

/** The theme in force: the user's choice, else the system's. */
function effectiveTheme(): Theme {
  const chosen = localStorage.getItem(THEME_KEY);
  if (chosen === 'light' || chosen === 'dark') return chosen;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function applyTheme(): void {
  const chosen = localStorage.getItem(THEME_KEY);
  if (chosen === 'light' || chosen === 'dark') document.documentElement.dataset['theme'] = chosen;
  else delete document.documentElement.dataset['theme'];
}

function ThemeToggle(): VNode {
  const [theme, setTheme] = useState<Theme>(effectiveTheme());
  const other: Theme = theme === 'dark' ? 'light' : 'dark';
  return html`<button
    type="button"
    class="secondary"
    onClick=${() => {
      localStorage.setItem(THEME_KEY, other);
      applyTheme();
      setTheme(other);
    }}
  >
    ${other === 'dark' ? 'Dark theme' : 'Light theme'}
  </button>`;
}

function SignIn(props: { notice: string | undefined; onSignedIn: (s: SessionInfo) => void }): VNode {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      const res = await fetch('/console/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({
          accessKeyId: String(form.get('accessKeyId') ?? '').trim(),
          secretAccessKey: String(form.get('secretAccessKey') ?? ''),
        }),
      });
      const json = (await res.json()) as SessionInfo & { error?: { code: string; message: string } };
      if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'Error', json.error?.message ?? '');
      props.onSignedIn(json);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main id="main" class="sign-in">
    <h1>Weir Console</h1>
    <p>Sign in with an access key from the server's credentials file (<code>weir-data/credentials</code>).</p>
    ${props.notice !== undefined ? html`<p class="notice" role="status">${props.notice}</p>` : null}
    ${error !== undefined ? html`<${ErrorBox} error=${error} title="Sign-in failed" />` : null}
    <form onSubmit=${submit}>
      <label for="accessKeyId">Access key ID</label>
      <input id="accessKeyId" name="accessKeyId" autocomplete="username" required spellcheck="false" />
      <label for="secretAccessKey">Secret access key</label>
      <input
        id="secretAccessKey"
        name="secretAccessKey"
        type="password"
        autocomplete="current-password"
        required
      />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

async function signOut(): Promise<void> {
  const s = currentSession();
  await fetch('/console/session/sign-out', {
    method: 'POST',
    headers: s !== undefined ? { 'x-weir-csrf': s.csrfToken } : {},
    credentials: 'same-origin',
  }).catch(() => undefined);
}

function Shell(props: { session: SessionInfo; onSignOut: () => void }): VNode {
  const route = useRoute();
  const mainRef = useRef<HTMLElement>(null);
  const first = route.path[0] ?? screens[0]?.path;
  const screen = screens.find((s) => s.path === first);
  const shown = useRef<string | undefined>(undefined);
  useEffect(() => {
    document.title = `${screen?.title ?? 'Not found'} · Weir Console`;
    // A new screen takes the focus (a screen reader then reads it from its heading); the first
    // one after sign-in and a change of filters within a screen do not move it.
    if (shown.current !== undefined && shown.current !== screen?.path) mainRef.current?.focus();
    shown.current = screen?.path ?? '';
  }, [screen]);
  const s = props.session;
  return html`<a
      class="skip"
      href="#main"
      onClick=${(e: Event) => {
        e.preventDefault();
        mainRef.current?.focus();
      }}
      >Skip to content</a
    >
    <header class="top">
      <span class="brand">Weir Console</span>
      <span class="who">
        Signed in as <strong>${s.principal}</strong> (${s.role}, key ${s.accessKeyId})
      </span>
      <${ThemeToggle} />
      <button type="button" class="secondary" onClick=${props.onSignOut}>Sign out</button>
    </header>
    <nav aria-label="Screens">
      <ul>
        ${screens.map(
          (x) =>
            html`<li>
              <a href=${`#/${x.path}`} aria-current=${x === screen ? 'page' : undefined}>${x.title}</a>
            </li>`,
        )}
      </ul>
    </nav>
    <${BreakglassBanner} />
    <main id="main" tabindex="-1" ref=${mainRef}>
      ${
        screen !== undefined
          ? html`<${screen.component} key=${screen.path} route=${route} />`
          : html`<h1>Not found</h1>
              <p>No screen at <code>${location.hash}</code>. Pick one from the navigation.</p>`
      }
    </main>`;
}

function App(): VNode {
  const [state, setState] = useState<{ phase: 'loading' | 'out' | 'in'; notice?: string }>({
    phase: 'loading',
  });
  useEffect(() => {
    whenSignedOut((reason) => setState({ phase: 'out', notice: `Signed out: ${reason}` }));
    fetch('/console/session', { credentials: 'same-origin' })
      .then(async (res) => {
        if (!res.ok) return setState({ phase: 'out' });
        setSession((await res.json()) as SessionInfo);
        setState({ phase: 'in' });
      })
      .catch(() => setState({ phase: 'out', notice: 'The server could not be reached.' }));
  }, []);
  const session = currentSession();
  if (state.phase === 'loading') return html`<main id="main"><p role="status">Loading…</p></main>`;
  if (state.phase === 'out' || session === undefined)
    return html`<${SignIn}
      notice=${state.notice}
      onSignedIn=${(s: SessionInfo) => {
        setSession(s);
        setState({ phase: 'in' });
      }}
    />`;
  return html`<${Shell}
    session=${session}
    onSignOut=${async () => {
      await signOut();
      setSession(undefined);
      setState({ phase: 'out', notice: 'You have signed out.' });
    }}
  />`;
}

applyTheme();
const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
