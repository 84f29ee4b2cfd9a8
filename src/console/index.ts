/**
 * @module console — the Weir Console's server side: its built files under `/console/` and the
 * signed-in sessions whose cookie the Weir API accepts (docs/console.md). The browser code is in
 * console/ui (bundled by scripts/build-console.mjs; nothing here imports it).
 */
export { createConsole, SIGNIN_EVENT_SOURCE } from './front.js';
export type { ConsoleOptions } from './front.js';
export { CONSOLE_CSP, DEFAULT_ASSETS_DIR } from './assets.js';
export { DEFAULT_SESSION_TTL_MS, DEFAULT_SESSION_IDLE_MS } from './sessions.js';
