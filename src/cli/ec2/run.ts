/**
 * @module cli/ec2/run — `weir ec2 …` and `weir sts …` end to end, in process: global options,
 * command, arguments, `--cli-input-json`/`-yaml`, `--generate-cli-skeleton`, configuration,
 * validation, the call (paginated or not), output; and the AWS CLI's error messages with AWS CLI
 * v2's exit codes: 252 bad syntax or parameters, 253 bad configuration or credentials, 254 the
 * service answered with an error, 255 anything else. A `DryRunOperation` answer is the success of
 * the check it asked for: its message is printed as the CLI prints it and the exit code is 0.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ArgParseError, invalidChoiceMessage, parseKnownArgs } from './argparse.js';
import type { OptionSpec, ParsedArgs } from './argparse.js';
import {
  ConvenienceOptionError,
  argumentTable,
  buildCallParameters,
  checkConvenienceOptions,
  commandName,
  optionSpecs,
  relaxesRequired,
} from './arguments.js';
import { Client, ClientError, PaginationError, paginate } from './client.js';
import type { PagingOptions } from './client.js';
import { ConfigError, NoCredentialsError, NoRegionError, awsEndpoint, resolveConfig } from './config.js';
import { operationHelp, serviceHelp } from './help.js';
import { ConnectionError } from './http.js';
import { QueryError, checkQuery, formatOutput, formatPagedOutput, mergePages } from './output.js';
import type { FormatOptions, OutputFormat } from './output.js';
import { ResourceLoadingError, getParamfile } from './paramfile.js';
import { ParamError } from './params.js';
import { ResponseParserError } from './parse.js';
import { JsonDecodeError, pyJsonDumps, pyJsonLoads } from './pyjson.js';
import { PythonError, pyTypeName } from './python.js';
import { serviceModel } from './service.js';
import type { ServiceModel } from './service.js';
import { generateSkeleton } from './skeleton.js';
import { ParamValidationError, validateParams } from './validate.js';
import { dumpYaml } from './yaml.js';

/** AWS CLI v2's documented return codes. */
export const EXIT = {
  OK: 0,
  SYNTAX: 252,
  CONFIG: 253,
  SERVICE: 254,
  OTHER: 255,
} as const;

/** Where a run reads and writes; every field defaults to the process's own. */
export interface CliIO {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
  /** Whether stdout is a terminal (`--color auto`). */
  readonly stdoutIsTTY?: boolean;
  /** Columns for table output; the CLI measures the terminal and assumes 80 otherwise. */
  readonly terminalWidth?: number;
  /** Waits between retries. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const OUTPUTS = ['json', 'text', 'table', 'yaml', 'yaml-stream'] as const;

const GLOBAL_SPECS: readonly OptionSpec[] = [
  { name: 'debug', dest: 'debug', nargs: 'flag', flagValue: true },
  { name: 'endpoint-url', dest: 'endpoint_url', nargs: 'one' },
  { name: 'no-verify-ssl', dest: 'verify_ssl', nargs: 'flag', flagValue: false },
  { name: 'no-paginate', dest: 'paginate', nargs: 'flag', flagValue: false },
  { name: 'output', dest: 'output', nargs: 'one', choices: OUTPUTS },
  { name: 'query', dest: 'query', nargs: 'one' },
  { name: 'profile', dest: 'profile', nargs: 'one' },
  { name: 'region', dest: 'region', nargs: 'one' },
  { name: 'color', dest: 'color', nargs: 'one', choices: ['on', 'off', 'auto'] },
  { name: 'no-sign-request', dest: 'sign_request', nargs: 'flag', flagValue: false },
  { name: 'ca-bundle', dest: 'ca_bundle', nargs: 'one' },
  { name: 'cli-read-timeout', dest: 'read_timeout', nargs: 'one', type: 'int' },
  { name: 'cli-connect-timeout', dest: 'connect_timeout', nargs: 'one', type: 'int' },
  {
    name: 'cli-binary-format',
    dest: 'cli_binary_format',
    nargs: 'one',
    choices: ['base64', 'raw-in-base64-out'],
  },
  { name: 'no-cli-pager', dest: 'cli_pager', nargs: 'flag', flagValue: false },
  { name: 'no-cli-auto-prompt', dest: 'cli_auto_prompt', nargs: 'flag', flagValue: false },
];

const USAGE =
  'usage: weir [options] <command> <subcommand> [<subcommand> ...] [parameters]\n' +
  'To see help text, you can run:\n\n' +
  '  weir help\n' +
  '  weir <command> help\n' +
  '  weir <command> <subcommand> help\n';

const USER_AGENT = `weir-cli (aws-cli compatible) node/${process.version.replace(/^v/, '')}`;

/** An error already turned into what the CLI prints and its exit code. */
class Exit extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}

const usageError = (message: string): Exit => new Exit(EXIT.SYNTAX, `${USAGE}weir: error: ${message}\n`);

function str(values: ParsedArgs['values'], key: string): string | undefined {
  const v = values.get(key);
  return typeof v === 'string' ? v : undefined;
}

function num(values: ParsedArgs['values'], key: string): number | undefined {
  const v = values.get(key);
  return typeof v === 'number' ? v : undefined;
}

function debugLogger(enabled: boolean, stderr: (t: string) => void): ((line: string) => void) | undefined {
  if (!enabled) return undefined;
  return (line: string) => {
    const now = new Date();
    const stamp = now.toISOString().replace('T', ' ').replace('Z', '').replace('.', ',');
    stderr(`${stamp} - MainThread - weir.cli - DEBUG - ${line}\n`);
  };
}

/** The endpoint as a URL, refused as botocore refuses it. */
function endpointUrl(text: string): URL {
  let url: URL | undefined;
  try {
    url = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]/.test(text) ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || url.hostname === '') throw new Exit(EXIT.SYNTAX, `\nInvalid endpoint: ${text}\n`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Exit(
      EXIT.OTHER,
      `\nAn HTTP Client raised an unhandled exception: Not supported URL scheme ${url.protocol.slice(0, -1)}\n`,
    );
  }
  return url;
}

/** Merges `--cli-input-json`/`--cli-input-yaml` into the parameters: the command line wins. */
function mergeCliInput(
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
  const name = json !== undefined ? 'cli-input-json' : 'cli-input-yaml';
  let text: string;
  try {
    const content = getParamfile(raw, { env });
    text =
      content === undefined
        ? raw
        : typeof content === 'string'
          ? content
          : Buffer.from(content).toString('utf8');
  } catch (err) {
    if (err instanceof ResourceLoadingError) throw new Exit(EXIT.SYNTAX, `\n${err.message}\n`);
    throw err;
  }
  let data: unknown;
  if (json !== undefined) {
    try {
      data = pyJsonLoads(text);
    } catch (err) {
      if (err instanceof JsonDecodeError) {
        throw new Exit(
          EXIT.SYNTAX,
          `\n${new ParamError(name, `Invalid JSON: ${err.message}\nJSON received: ${text}`).message}\n`,
        );
      }
      throw err;
    }
  } else {
    try {
      data = parseYaml(text) as unknown;
    } catch (err) {
      throw new Exit(
        EXIT.SYNTAX,
        `\n${new ParamError(name, `Invalid YAML: ${(err as Error).message}`).message}\n`,
      );
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Exit(EXIT.SYNTAX, `\n'${pyTypeName(data)}' object has no attribute 'keys'\n`);
  }
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (!Object.hasOwn(params, key)) params[key] = value;
  }
}

/** Runs the command; resolves to the exit code. */
async function run(
  argv: readonly string[],
  io: Required<Omit<CliIO, 'sleep'>> & Pick<CliIO, 'sleep'>,
): Promise<number> {
  const [serviceName, ...rest] = argv;
  const model: ServiceModel | undefined = serviceModel(serviceName ?? '');
  if (!model)
    throw usageError(`argument command: ${invalidChoiceMessage(['ec2', 'sts'], serviceName ?? '')}`);

  const globals = parseKnownArgs(rest, GLOBAL_SPECS);
  const g = globals.values;
  const debug = debugLogger(g.get('debug') === true, io.stderr);
  debug?.(`Arguments entered to CLI: ${JSON.stringify(argv)}`);
  const query = str(g, 'query');
  if (query !== undefined) {
    try {
      checkQuery(query);
    } catch (err) {
      if (err instanceof QueryError) throw new Exit(EXIT.SYNTAX, `\n${err.message}\n`);
      throw err;
    }
  }
  const endpointArg = str(g, 'endpoint_url');

  const commands = model.operations.map(commandName);
  const serviceArgs = globals.extras;
  const opIndex = serviceArgs.findIndex((a) => !a.startsWith('-') || a === '-');
  if (opIndex < 0) {
    if (serviceArgs.includes('--help') || serviceArgs.includes('-h')) {
      io.stdout(serviceHelp(model, commands));
      return EXIT.OK;
    }
    throw usageError('the following arguments are required: operation');
  }
  const command = serviceArgs[opIndex]!;
  const opArgs = [...serviceArgs.slice(0, opIndex), ...serviceArgs.slice(opIndex + 1)];
  if (command === 'help') {
    io.stdout(serviceHelp(model, commands));
    return EXIT.OK;
  }
  const opIdx = commands.indexOf(command);
  if (opIdx < 0)
    throw usageError(`argument operation: ${invalidChoiceMessage([...commands, 'help'], command)}`);
  const operation = model.operations[opIdx]!;
  const table = argumentTable(model, operation);

  if ((opArgs.length === 1 && opArgs[0] === 'help') || opArgs.includes('--help') || opArgs.includes('-h')) {
    io.stdout(operationHelp(model, operation, table));
    return EXIT.OK;
  }
  const parsed = parseKnownArgs(opArgs, optionSpecs(table, relaxesRequired(opArgs)), true);
  if (parsed.positional === 'help') {
    io.stdout(operationHelp(model, operation, table));
    return EXIT.OK;
  }
  const unknown = [...parsed.extras, ...(parsed.positional !== undefined ? [parsed.positional] : [])];
  if (unknown.length > 0) throw new Exit(EXIT.SYNTAX, `${USAGE}\nUnknown options: ${unknown.join(', ')}\n`);
  const values = parsed.values;

  // operation-args-parsed: the convenience options' check, then the paging switches.
  if (table.some((a) => a.name === 'protocol')) checkConvenienceOptions(values);
  let paginateCalls = g.get('paginate') !== false;
  const paginator = model.paginator(operation);
  if (paginator) {
    const manual = [paginator.input_token, paginator.limit_key].filter((k): k is string => k !== undefined);
    if (manual.some((m) => values.get(commandName(m).replaceAll('-', '_')) !== undefined)) {
      debug?.('User has specified a manual pagination arg. Automatically setting --no-paginate.');
      paginateCalls = false;
    }
    if (!paginateCalls) {
      const used = ['starting_token', 'page_size', 'max_items'].filter((k) => values.get(k) !== undefined);
      if (used.length > 0) {
        throw new PaginationError(
          `Cannot specify --no-paginate along with pagination arguments: ${used.map((u) => `--${u.replaceAll('_', '-')}`).join(', ')}`,
        );
      }
    }
  }

  const params = buildCallParameters(table, values, { paramfile: { env: io.env } });
  if (typeof params.PaginationConfig === 'object' && params.PaginationConfig !== null) {
    const maxItems = (params.PaginationConfig as PagingOptions).MaxItems;
    if (maxItems !== undefined && maxItems <= 0) {
      io.stderr('warning: Non-positive values for --max-items may result in undefined behavior.\n');
    }
  }
  const paging = (params.PaginationConfig ?? {}) as PagingOptions;
  delete params.PaginationConfig;
  mergeCliInput(params, values, io.env);
  debug?.(`Call parameters: ${JSON.stringify(params)}`);

  const skeleton = str(values, 'generate_cli_skeleton');
  const op = model.operation(operation);
  if (skeleton === 'input' || skeleton === 'yaml-input') {
    const sample = op.input ? generateSkeleton(model, op.input.shape) : {};
    io.stdout(skeleton === 'input' ? pyJsonDumps(sample, { indent: 4 }) + '\n' : dumpYaml(sample));
    return EXIT.OK;
  }

  const outputFormat = (str(g, 'output') ?? undefined) as OutputFormat | undefined;
  const colorOpt = str(g, 'color') ?? 'auto';
  const formatOpts = (output: OutputFormat): FormatOptions => ({
    output,
    operation,
    color: colorOpt === 'on' || (colorOpt === 'auto' && io.stdoutIsTTY),
    terminalWidth: io.terminalWidth,
    ...(query !== undefined ? { query } : {}),
  });

  if (skeleton === 'output') {
    if (op.input) validateParams(model, operation, params);
    const sample = op.output ? (generateSkeleton(model, op.output.shape, true) as object) : {};
    io.stdout(formatOutput(sample, formatOpts(outputFormat ?? 'json')));
    return EXIT.OK;
  }

  const signRequest = g.get('sign_request') !== false;
  const resolved = resolveConfig(
    model.name,
    {
      ...(str(g, 'profile') !== undefined ? { profile: str(g, 'profile')! } : {}),
      ...(str(g, 'region') !== undefined ? { region: str(g, 'region')! } : {}),
      ...(endpointArg !== undefined ? { endpointUrl: endpointArg } : {}),
      ...(str(g, 'ca_bundle') !== undefined ? { caBundle: str(g, 'ca_bundle')! } : {}),
      signRequest,
    },
    { env: io.env, cwd: io.cwd },
  );
  for (const note of resolved.notes) debug?.(note);
  const output = outputFormat ?? (resolved.output as OutputFormat | undefined) ?? 'json';
  if (!(OUTPUTS as readonly string[]).includes(output))
    throw new Exit(EXIT.CONFIG, `\nUnknown output type: ${output}\n`);
  if (resolved.region === undefined) throw new NoRegionError();
  const region = resolved.region;
  const endpoint = endpointUrl(resolved.endpointUrl ?? awsEndpoint(model.name, region));
  debug?.(`Endpoint ${endpoint.href}, region ${region}, signing ${signRequest ? 'on' : 'off'}`);

  if (op.input) {
    const input = model.shape(op.input.shape);
    if (input.type === 'structure') {
      for (const [member, ref] of Object.entries(input.members)) {
        if (ref.idempotencyToken && !Object.hasOwn(params, member)) params[member] = randomUUID();
      }
    }
  }

  const client = new Client({
    model,
    endpoint,
    region,
    ...(signRequest && resolved.credentials ? { credentials: resolved.credentials } : {}),
    signRequest,
    verifySsl: g.get('verify_ssl') !== false,
    ...(resolved.caBundle !== undefined ? { caBundle: resolved.caBundle } : {}),
    connectTimeout: num(g, 'connect_timeout') ?? 60,
    readTimeout: num(g, 'read_timeout') ?? 60,
    maxAttempts: resolved.maxAttempts,
    userAgent: USER_AGENT,
    ...(debug ? { debug } : {}),
    ...(io.sleep ? { sleep: io.sleep } : {}),
  });

  const opts = formatOpts(output);
  if (paginator && paginateCalls) {
    const paged = await paginate(client, operation, params, paginator, paging);
    const resultKeys = [paginator.result_key];
    let text: string;
    if (output === 'text') {
      text = formatPagedOutput({ pages: paged.pages, resultKeys }, opts);
      if (paged.resumeToken !== undefined)
        text += formatOutput({ NextToken: { NextToken: paged.resumeToken } }, opts);
    } else if (output === 'yaml-stream') {
      text = formatPagedOutput({ pages: paged.pages, resultKeys }, opts);
    } else {
      const merged = mergePages({ pages: paged.pages, resultKeys });
      if (paged.resumeToken !== undefined) merged.NextToken = paged.resumeToken;
      text = formatOutput(merged, opts);
    }
    io.stdout(text);
  } else {
    io.stdout(formatOutput(await client.call(operation, params), opts));
  }
  return EXIT.OK;
}

/**
 * Runs `weir <service> …` (`argv` starts with the service, `ec2` or `sts`) and resolves to the
 * exit code; output and errors go to `io` (the process's streams by default).
 */
export async function runCli(argv: readonly string[], io: CliIO = {}): Promise<number> {
  const full = {
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    stdout: io.stdout ?? ((t: string) => void process.stdout.write(t)),
    stderr: io.stderr ?? ((t: string) => void process.stderr.write(t)),
    stdoutIsTTY: io.stdoutIsTTY ?? process.stdout.isTTY === true,
    terminalWidth: io.terminalWidth ?? (process.stdout.isTTY === true ? process.stdout.columns : 80),
    ...(io.sleep ? { sleep: io.sleep } : {}),
  };
  try {
    return await run(argv, full);
  } catch (err) {
    const [code, text] = classify(err);
    full.stderr(text);
    return code;
  }
}

function classify(err: unknown): [number, string] {
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
