/**
 * @module cli/ec2/input/paramfile — `file://` and `fileb://` parameter values, read as the AWS CLI reads
 * them: `~` and `$VAR` expanded, text decoded as UTF-8 with universal newlines, bytes as they are,
 * and its error messages. (The CLI v1 also fetches `http://`/`https://` values; v2 does not, and
 * neither does Weir.)
 * Port of awscli 1.45.11's `awscli/paramfile.py` (`get_paramfile`, `get_file`,
 * `ResourceLoadingError`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { pyRepr } from '../python/index.js';

/** What a paramfile resolves to: text for `file://`, bytes for `fileb://`. */
export type ParamfileContent = string | Uint8Array;

/** How paramfiles are read; tests replace the file system and environment. */
export interface ParamfileOptions {
  /** Reads a file's bytes; throws a Node `ErrnoException` on failure. Default: `fs.readFileSync`. */
  readonly readFile?: (path: string) => Uint8Array;
  /** Environment for `$VAR` expansion. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The AWS CLI's `ResourceLoadingError`: a paramfile could not be read or decoded. */
export class ResourceLoadingError extends Error {
  override readonly name = 'ResourceLoadingError';
}

const PREFIXES = [
  ['file://', 'text'],
  ['fileb://', 'bytes'],
] as const;

const ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EIO: [5, 'Input/output error'],
  EACCES: [13, 'Permission denied'],
  ENOTDIR: [20, 'Not a directory'],
  EISDIR: [21, 'Is a directory'],
  EMFILE: [24, 'Too many open files'],
  ENAMETOOLONG: [36, 'File name too long'],
  ELOOP: [40, 'Too many levels of symbolic links'],
};

/** Python's `os.path.expanduser` for `~` and `~/…` (not `~user`). */
function expandUser(path: string, env: Readonly<Record<string, string | undefined>>): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  const home = (env.HOME ?? homedir()).replace(/\/+$/, '') || '/';
  return home + path.slice(1);
}

/** Python's `os.path.expandvars`: `$name` and `${name}`, unknown names left as they are. */
function expandVars(path: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!path.includes('$')) return path;
  return path.replace(/\$([A-Za-z0-9_]+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    const value = env[key];
    return value === undefined ? whole : value;
  });
}

function osErrorText(err: unknown, filePath: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const known = code === undefined ? undefined : ERRNO[code];
  if (known) return `[Errno ${known[0]}] ${known[1]}: ${pyRepr(filePath)}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Resolves a `file://` or `fileb://` value, or returns `undefined` when `value` is neither (the
 * value is then used as it is).
 * @throws ResourceLoadingError with the AWS CLI's message when the file cannot be read or decoded.
 */
export function getParamfile(value: string, opts: ParamfileOptions = {}): ParamfileContent | undefined {
  const env = opts.env ?? process.env;
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p));
  let data: ParamfileContent | undefined;
  for (const [prefix, mode] of PREFIXES) {
    if (!value.startsWith(prefix)) continue;
    const filePath = expandVars(expandUser(value.slice(prefix.length), env), env);
    let bytes: Uint8Array;
    try {
      bytes = readFile(filePath);
    } catch (err) {
      throw new ResourceLoadingError(`Unable to load paramfile ${value}: ${osErrorText(err, filePath)}`);
    }
    if (mode === 'bytes') {
      data = bytes;
      continue;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new ResourceLoadingError(
        `Unable to load paramfile (${filePath}), text contents could not be decoded.  If this is a ` +
          'binary file, please use the fileb:// prefix instead of the file:// prefix.',
      );
    }
    // Python's text mode reads with universal newlines.
    data = text.replace(/\r\n?/g, '\n');
  }
  return data;
}
