/**
 * @module report/pdf — prints the report's HTML to PDF with headless Chromium, the browser the
 * operator has installed (`--chromium PATH`, `WEIR_CHROMIUM`, else `chromium`, `chromium-browser`,
 * `google-chrome` or `google-chrome-stable` on PATH). Weir ships no browser and needs no browser
 * library at run time: Chromium's own `--print-to-pdf` does the printing, on a temp copy of the
 * HTML, in a throwaway profile, with no network.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WeirError } from '../model/index.js';

/** The executable names looked for on PATH, in order. */
export const CHROMIUM_NAMES = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
] as const;
/** A print that takes longer than this is stopped (a wedged browser must not hang the CLI). */
const PRINT_TIMEOUT_MS = 120_000;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium to print with: `explicit` (the `--chromium` option), else `WEIR_CHROMIUM`, else
 * the first of {@link CHROMIUM_NAMES} on PATH. A precise error when there is none.
 */
export function findChromium(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const named = explicit ?? env.WEIR_CHROMIUM;
  if (named !== undefined && named !== '') {
    const from = explicit !== undefined ? '--chromium' : 'WEIR_CHROMIUM';
    if (isAbsolute(named) || named.includes('/')) {
      if (executable(named)) return named;
      throw new WeirError('BAD_OPTION', `${from} ${named}: not an executable file`);
    }
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir !== '' && executable(join(dir, named))) return join(dir, named);
    }
    throw new WeirError('BAD_OPTION', `${from} ${named}: not found on PATH`);
  }
  for (const name of CHROMIUM_NAMES) {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir !== '' && executable(join(dir, name))) return join(dir, name);
    }
  }
  throw new WeirError(
    'BAD_OPTION',
    `--format pdf needs headless Chromium, and none was found (looked for ${CHROMIUM_NAMES.join(', ')} on PATH): install it (Debian: apt-get install chromium), give --chromium PATH or WEIR_CHROMIUM, or write --format html and print that`,
  );
}

/** Prints `htmlText` to the PDF file `out` with the Chromium at `chromium`. */
export async function printPdf(chromium: string, htmlText: string, out: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-report-'));
  try {
    const page = join(dir, 'report.html');
    writeFileSync(page, htmlText, { mode: 0o600 });
    const args = [
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      // The page is ours and loads nothing (its CSP forbids it); the proxy setting keeps even
      // Chromium's own background requests off the network.
      '--proxy-server=127.0.0.1:9',
      '--proxy-bypass-list=<-loopback>',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--no-pdf-header-footer',
      `--print-to-pdf=${out}`,
      // Chromium refuses to run as root with its sandbox (containers, CI): without it it can print.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      pathToFileURL(page).href,
    ];
    await new Promise<void>((resolveRun, reject) => {
      execFile(chromium, args, { timeout: PRINT_TIMEOUT_MS, maxBuffer: 4 << 20 }, (err, _stdout, stderr) => {
        if (err !== null) {
          const tail = String(stderr).trim().split('\n').slice(-3).join(' | ');
          reject(
            new WeirError(
              'PDF_FAILED',
              `${chromium} could not print the report (${err.message.split('\n')[0] ?? ''})${tail !== '' ? `: ${tail}` : ''}`,
            ),
          );
        } else resolveRun();
      });
    });
    let size = 0;
    try {
      size = statSync(out).size;
    } catch {
      // reported below
    }
    if (size === 0) throw new WeirError('PDF_FAILED', `${chromium} ran but wrote no PDF to ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
