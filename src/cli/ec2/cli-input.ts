/**
 * @module cli/ec2/cli-input — awscli's `--cli-input-json` / `--cli-input-yaml` customization
 * (awscli 1.x `awscli/customizations/cliinputjson.py`; the YAML variant is AWS CLI v2's): the
 * value (inline or `file://`) read as a JSON or YAML object whose keys fill the call parameters
 * the command line left unset.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { ParsedArgs } from './input/index.js';
import { ParamError, ResourceLoadingError, getParamfile } from './input/index.js';
import { JsonDecodeError, pyJsonLoads, pyTypeName } from './python/index.js';
import { EXIT, Exit, usageError } from './exit.js';

function str(values: ParsedArgs['values'], key: string): string | undefined {
  const v = values.get(key);
  return typeof v === 'string' ? v : undefined;
}

/** The option's text: inline, or the contents of its `file://` / `fileb://` value. */
function readCliInput(raw: string, env: Readonly<Record<string, string | undefined>>): string {
  try {
    const content = getParamfile(raw, { env });
    return content === undefined
      ? raw
      : typeof content === 'string'
        ? content
        : Buffer.from(content).toString('utf8');
  } catch (err) {
    if (err instanceof ResourceLoadingError) throw new Exit(EXIT.SYNTAX, `\n${err.message}\n`);
    throw err;
  }
}

/** The option's text decoded as JSON (Python's `json.loads`) or YAML, with the CLI's messages. */
function decodeCliInput(name: 'cli-input-json' | 'cli-input-yaml', text: string): unknown {
  if (name === 'cli-input-json') {
    try {
      return pyJsonLoads(text);
    } catch (err) {
      if (err instanceof JsonDecodeError) {
        throw new Exit(
          EXIT.SYNTAX,
          `\n${new ParamError(name, `Invalid JSON: ${err.message}\nJSON received: ${text}`).message}\n`,
        );
      }
      throw err;
    }
  }
  try {
    return loadYaml().parse(text) as unknown;
  } catch (err) {
    throw new Exit(
      EXIT.SYNTAX,
      `\n${new ParamError(name, `Invalid YAML: ${(err as Error).message}`).message}\n`,
    );
  }
}

/**
 * The yaml package, loaded on first use: it is 33 modules, and only `--cli-input-yaml` needs it,
 * so every other `weir ec2` call starts without it (a synchronous require keeps this path sync).
 */
function loadYaml(): typeof Yaml {
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}

/** Merges `--cli-input-json`/`--cli-input-yaml` into the parameters: the command line wins. */
export function mergeCliInput(
  params: Record<string, unknown>,
  values: ParsedArgs['values'],
  env: Readonly<Record<string, string | undefined>>,
): void {
  const json = str(values, 'cli_input_json');
  const yaml = str(values, 'cli_input_yaml');
  if (json !== undefined && yaml !== undefined) {
    throw usageError('argument --cli-input-yaml: not allowed with argument --cli-input-json');
  }
  const raw = json ?? yaml;
  if (raw === undefined) return;
  const text = readCliInput(raw, env);
  const data = decodeCliInput(json !== undefined ? 'cli-input-json' : 'cli-input-yaml', text);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Exit(EXIT.SYNTAX, `\n'${pyTypeName(data)}' object has no attribute 'keys'\n`);
  }
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (!Object.hasOwn(params, key)) params[key] = value;
  }
}
