/**
 * @module cli/ec2/exit — how a `weir ec2|sts` run ends: AWS CLI v2's exit codes, the usage text
 * argparse prints before a syntax error, and every error class of the CLI mapped to the code and
 * the text the AWS CLI prints for it.
 * The codes are AWS CLI v2's (`aws help return-codes`); the messages are what awscli 1.45.11's
 * `awscli/clidriver.py` (`CLIDriver.main`, `write_exception`) prints for each error.
 */
import { ArgParseError, ConvenienceOptionError, ParamError, ResourceLoadingError } from './input/index.js';
import { QueryError } from './output/index.js';
import { PythonError } from './python/index.js';
import {
  ClientError,
  ConfigError,
  ConnectionError,
  NoCredentialsError,
  NoRegionError,
  PaginationError,
  ParamValidationError,
  ResponseParserError,
} from './wire/index.js';

/** AWS CLI v2's documented return codes. */
export const EXIT = {
  OK: 0,
  SYNTAX: 252,
  CONFIG: 253,
  SERVICE: 254,
  OTHER: 255,
} as const;

/** What argparse prints in front of `weir: error: …`. */
export const USAGE =
  'usage: weir [options] <command> <subcommand> [<subcommand> ...] [parameters]\n' +
  'To see help text, you can run:\n\n' +
  '  weir help\n' +
  '  weir <command> help\n' +
  '  weir <command> <subcommand> help\n';

/** An error already turned into what the CLI prints and its exit code. */
export class Exit extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}

/** argparse's usage error: the usage text, then `weir: error: <message>`. */
export const usageError = (message: string): Exit =>
  new Exit(EXIT.SYNTAX, `${USAGE}weir: error: ${message}\n`);

/** The exit code and stderr text of an error thrown anywhere in a run. */
export function classify(err: unknown): [number, string] {
  if (err instanceof Exit) return [err.code, err.text];
  if (err instanceof ArgParseError) return [EXIT.SYNTAX, `${USAGE}weir: error: ${err.message}\n`];
  if (err instanceof ClientError)
    return [err.code === 'DryRunOperation' ? EXIT.OK : EXIT.SERVICE, `\n${err.message}\n`];
  if (err instanceof NoCredentialsError || err instanceof NoRegionError)
    return [EXIT.CONFIG, `${err.message}\n`];
  if (err instanceof ConfigError) return [EXIT.CONFIG, `\n${err.message}\n`];
  if (
    err instanceof ParamError ||
    err instanceof PythonError ||
    err instanceof ConvenienceOptionError ||
    err instanceof ParamValidationError ||
    err instanceof ResourceLoadingError
  ) {
    return [EXIT.SYNTAX, `\n${err.message}\n`];
  }
  if (err instanceof PaginationError)
    return [err.message.includes('--no-paginate') ? EXIT.SYNTAX : EXIT.OTHER, `\n${err.message}\n`];
  if (err instanceof ConnectionError || err instanceof ResponseParserError)
    return [EXIT.OTHER, `\n${err.message}\n`];
  if (err instanceof QueryError) return [EXIT.SYNTAX, `\n${err.message}\n`];
  return [EXIT.OTHER, `\n${err instanceof Error ? err.message : String(err)}\n`];
}
