/**
 * @module cli/config-file — `weir serve --config FILE`: the same settings as the flags, in YAML.
 *
 * A key is a flag's name without the dashes (`api-listen: 127.0.0.1:8484`), and its value goes
 * through the flag's own parser, so a file can say exactly what a command line can and is checked
 * the same way. A flag given on the command line wins over the file; the file wins over defaults.
 * The mapping is read from commander's option list, so a flag added later is a key at once.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Command, Option } from 'commander';
import { InvalidArgumentError } from 'commander';
import { WeirError } from '../model/index.js';

/** The flags a config file cannot set: itself. */
const NOT_IN_FILE = new Set(['--config', '--help']);

function configError(file: string, message: string): WeirError {
  return new WeirError('InvalidArgument', `--config ${file}: ${message}`);
}

/** Reads FILE as one YAML mapping. */
function readMapping(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configError(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  // yaml is loaded only for a config file: most commands never need it.
  const { parseDocument } = createYaml();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) throw configError(file, `not valid YAML: ${first.message}`);
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw configError(file, 'must be a mapping of flag names to values (e.g. api-listen: 127.0.0.1:8484)');
  return value as Record<string, unknown>;
}

function createYaml(): typeof Yaml {
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}

/** One scalar as the text a flag would carry. */
function scalarText(file: string, key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  throw configError(
    file,
    `${key}: must be a string or a number, not ${value === null ? 'null' : typeof value}`,
  );
}

/** The value `option` takes for `value` from the file, through the flag's own parser. */
function optionValue(file: string, key: string, option: Option, value: unknown, current: unknown): unknown {
  // A flag without a value (`--resolve`) is a boolean in the file.
  if (!option.required && !option.optional) {
    if (typeof value !== 'boolean') throw configError(file, `${key}: must be true or false`);
    return option.negate ? !value : value;
  }
  const parse = (text: string, previous: unknown): unknown => {
    if (option.parseArg === undefined) return text;
    try {
      return option.parseArg(text, previous);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw configError(file, `${key}: ${err.message}`);
      throw err;
    }
  };
  if (!Array.isArray(value)) return parse(scalarText(file, key, value), current);
  // A repeatable flag (its default is a list) takes each item in turn; another flag takes the
  // list the way it would on the command line, joined by commas (`eth0,eth1`).
  if (Array.isArray(option.defaultValue)) {
    return value.reduce<unknown>(
      (previous, item) => parse(scalarText(file, key, item), previous),
      [...(option.defaultValue as unknown[])],
    );
  }
  return parse(value.map((item) => scalarText(file, key, item)).join(','), current);
}

/**
 * Applies the settings of `file` to `command`'s options: every key must name one of its flags;
 * options set on the command line (or from the environment) keep their values.
 */
export function applyConfigFile(command: Command, file: string): void {
  const settings = readMapping(file);
  const byName = new Map(
    command.options
      .filter((o) => o.long !== undefined && !NOT_IN_FILE.has(o.long))
      .map((o) => [o.long!.slice(2), o]),
  );
  for (const [key, value] of Object.entries(settings)) {
    const option = byName.get(key);
    if (option === undefined) {
      throw configError(
        file,
        `unknown setting "${key}": the keys are the flags of weir ${command.name()} without the dashes (weir ${command.name()} --help lists them)`,
      );
    }
    const name = option.attributeName();
    const source = command.getOptionValueSource(name);
    if (source === 'cli' || source === 'env') continue;
    command.setOptionValueWithSource(
      name,
      optionValue(file, key, option, value, command.getOptionValue(name)),
      'config',
    );
  }
}
