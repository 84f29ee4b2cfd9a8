/**
 * @module console/assets — the console's files (`npm run build` puts them in dist/console): read
 * once at start into a fixed map, so a request can name only these (no path reaches the file
 * system: nothing to traverse), each with a strong ETag. The headers every console answer carries
 * are here too: a CSP that allows only this origin (no inline script or style, no frames).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * dist/console of this checkout: from src/console (run with tsx) and from dist/console (built)
 * alike, two folders up and into dist/console.
 */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/** The files served, by the name after `/console/`, with their types. */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'uplot.css': 'text/css; charset=utf-8',
};

/** The Content-Security-Policy of every console answer. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Headers on every console answer, file or JSON. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** One file, in memory. */
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** The files found, by name; empty when the console was not built. */
export type Assets = ReadonlyMap<string, Asset>;

/** Reads the console's files from `dir`; a missing one is left out (index.html missing: not built). */
export function loadAssets(dir: string = DEFAULT_ASSETS_DIR): Assets {
  const out = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      continue;
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    out.set(name, { body, type, etag });
  }
  return out;
}

/** What a request for a missing build gets: what to do about it. */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Weir Console: not built</title></head>
<body>
<main>
<h1>The Weir Console is not built</h1>
<p>This server found no console files in <code>dist/console/</code>. Run
<code>npm run build</code> in the Weir checkout (<code>npm ci</code> does it too), then
restart <code>weir serve</code>.</p>
<p>The API works without it: <a href="/">back to the start page</a>.</p>
</main>
</body>
</html>
`;

/** What a request for a file the console does not have gets. */
export const NOT_FOUND_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Weir Console: not found</title></head>
<body>
<main>
<h1>Not found</h1>
<p>The console has no such file. <a href="/console/">Open the console</a>.</p>
</main>
</body>
</html>
`;
