// @ts-check
/**
 * @module scripts/build-console — bundles the console's browser code (src/console/ui/main.ts:
 * Preact, htm, uPlot and the screens) into one file, `dist/console/app.js`, and copies the page,
 * the style sheet and uPlot's style sheet beside it. `npm run build` runs it after tsc, and
 * `npm ci` runs the build (`prepare`), so a checkout serves the console with no further step.
 * One bundle with no external URL: the console works offline and its CSP allows only 'self'.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ui = join(root, 'src/console/ui');
const out = join(root, 'dist/console');

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(ui, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  tsconfig: join(ui, 'tsconfig.json'),
});
copyFileSync(join(ui, 'index.html'), join(out, 'index.html'));
copyFileSync(join(ui, 'app.css'), join(out, 'app.css'));
copyFileSync(join(root, 'node_modules/uplot/dist/uPlot.min.css'), join(out, 'uplot.css'));
