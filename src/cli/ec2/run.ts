/**
 * @module cli/ec2/run — `weir ec2 …` and `weir sts …` end to end, in process: global options,
 * command, arguments, `--cli-input-json`/`-yaml`, `--generate-cli-skeleton`, configuration,
 * validation, the call (paginated or not), output; and the AWS CLI's error messages with AWS CLI
 * v2's exit codes: 252 bad syntax or parameters, 253 bad configuration or credentials, 254 the
 * service answered with an error, 255 anything else. A `DryRunOperation` answer is the success of
 * the check it asked for: its message is printed as the CLI prints it and the exit code is 0.
 * Follows awscli 1.45.11's `awscli/clidriver.py` (`CLIDriver.main`, `ServiceCommand`,
 * `ServiceOperation`, `CLIOperationCaller`).
 */
import { randomUUID } from 'node:crypto';
import { mergeCliInput } from './cli-input.js';
import { EXIT, Exit, USAGE, classify, usageError } from './exit.js';
import { operationHelp, serviceHelp } from './help.js';
import {
  argumentTable,
  buildCallParameters,
  checkConvenienceOptions,
  commandName,
  generateSkeleton,
  invalidChoiceMessage,
  optionSpecs,
  parseKnownArgs,
  relaxesRequired,
} from './input/index.js';
import type { CliArgument, OptionSpec, ParsedArgs } from './input/index.js';
import { QueryError, checkQuery, formatOutput, formatPagedOutput, mergePages } from './output/index.js';
import type { FormatOptions, OutputFormat } from './output/index.js';
import { dumpYaml, pyJsonDumps } from './python/index.js';
import { serviceModel } from './service.js';
import type { PaginatorConfig, ServiceModel } from './service.js';
import {
  Client,
  NoRegionError,
  PaginationError,
  awsEndpoint,
  paginate,
  resolveConfig,
  validateParams,
} from './wire/index.js';
import type { PagingOptions } from './wire/index.js';

export { EXIT } from './exit.js';

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

const USER_AGENT = `weir-cli (aws-cli compatible) node/${process.version.replace(/^v/, '')}`;

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

/** `CliIO` with the process's defaults filled in. */
type RunIO = Required<Omit<CliIO, 'sleep'>> & Pick<CliIO, 'sleep'>;

/** What every step of one run reads: its I/O, the service, the global options. */
interface RunContext {
  readonly io: RunIO;
  readonly model: ServiceModel;
  readonly globals: ParsedArgs['values'];
  /** awscli's `--debug` log to stderr; undefined without `--debug`. */
  readonly debug: ((line: string) => void) | undefined;
  readonly query: string | undefined;
}

/** The operation a run calls, its argument table and the values parsed against it. */
interface OperationCall {
  readonly operation: string;
  readonly table: readonly CliArgument[];
  readonly values: ParsedArgs['values'];
}

/** Whether the call goes through the paginator (awscli's `--no-paginate` and its automatic off). */
interface PagingPlan {
  readonly paginator: PaginatorConfig | undefined;
  readonly paginate: boolean;
}

/** The service, the global options and the arguments left for the operation. */
function startRun(argv: readonly string[], io: RunIO): { ctx: RunContext; serviceArgs: readonly string[] } {
  const [serviceName, ...rest] = argv;
  const model: ServiceModel | undefined = serviceModel(serviceName ?? '');
  if (!model)
    throw usageError(`argument command: ${invalidChoiceMessage(['ec2', 'sts'], serviceName ?? '')}`);

  const globals = parseKnownArgs(rest, GLOBAL_SPECS);
  const debug = debugLogger(globals.values.get('debug') === true, io.stderr);
  debug?.(`Arguments entered to CLI: ${JSON.stringify(argv)}`);
  const query = str(globals.values, 'query');
  if (query !== undefined) {
    try {
      checkQuery(query);
    } catch (err) {
      if (err instanceof QueryError) throw new Exit(EXIT.SYNTAX, `\n${err.message}\n`);
      throw err;
    }
  }
  return { ctx: { io, model, globals: globals.values, debug, query }, serviceArgs: globals.extras };
}

/** The command names of a service (`describe-security-groups`, …), for shell completion. */
export function serviceCommands(service: 'ec2' | 'sts'): string[] {
  return serviceModel(service)?.operations.map(commandName) ?? [];
}

/** The operation and its parsed arguments, or the help page asked for instead. */
function selectOperation(ctx: RunContext, serviceArgs: readonly string[]): OperationCall | { help: string } {
  const { model } = ctx;
  const commands = model.operations.map(commandName);
  const opIndex = serviceArgs.findIndex((a) => !a.startsWith('-') || a === '-');
  if (opIndex < 0) {
    if (serviceArgs.includes('--help') || serviceArgs.includes('-h'))
      return { help: serviceHelp(model, commands) };
    throw usageError('the following arguments are required: operation');
  }
  const command = serviceArgs[opIndex]!;
  const opArgs = [...serviceArgs.slice(0, opIndex), ...serviceArgs.slice(opIndex + 1)];
  if (command === 'help') return { help: serviceHelp(model, commands) };
  const opIdx = commands.indexOf(command);
  if (opIdx < 0)
    throw usageError(`argument operation: ${invalidChoiceMessage([...commands, 'help'], command)}`);
  const operation = model.operations[opIdx]!;
  const table = argumentTable(model, operation);

  if ((opArgs.length === 1 && opArgs[0] === 'help') || opArgs.includes('--help') || opArgs.includes('-h')) {
    return { help: operationHelp(model, operation, table) };
  }
  const parsed = parseKnownArgs(opArgs, optionSpecs(table, relaxesRequired(opArgs)), true);
  if (parsed.positional === 'help') return { help: operationHelp(model, operation, table) };
  const unknown = [...parsed.extras, ...(parsed.positional !== undefined ? [parsed.positional] : [])];
  if (unknown.length > 0) throw new Exit(EXIT.SYNTAX, `${USAGE}\nUnknown options: ${unknown.join(', ')}\n`);
  return { operation, table, values: parsed.values };
}

/**
 * awscli's operation-args-parsed handlers: the convenience options' check, then the paging
 * switches (a manual `--next-token`/`--max-results` turns pagination off; `--no-paginate` refuses
 * the unified paging options).
 */
function pagingPlan(ctx: RunContext, call: OperationCall): PagingPlan {
  const { values } = call;
  if (call.table.some((a) => a.name === 'protocol')) checkConvenienceOptions(values);
  let paginateCalls = ctx.globals.get('paginate') !== false;
  const paginator = ctx.model.paginator(call.operation);
  if (paginator) {
    const manual = [paginator.input_token, paginator.limit_key].filter((k): k is string => k !== undefined);
    if (manual.some((m) => values.get(commandName(m).replaceAll('-', '_')) !== undefined)) {
      ctx.debug?.('User has specified a manual pagination arg. Automatically setting --no-paginate.');
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
  return { paginator, paginate: paginateCalls };
}

/** The API parameters (command line, then `--cli-input-*`) and the unified paging options apart. */
function callParameters(
  ctx: RunContext,
  call: OperationCall,
): { params: Record<string, unknown>; paging: PagingOptions } {
  const params = buildCallParameters(call.table, call.values, { paramfile: { env: ctx.io.env } });
  if (typeof params.PaginationConfig === 'object' && params.PaginationConfig !== null) {
    const maxItems = (params.PaginationConfig as PagingOptions).MaxItems;
    if (maxItems !== undefined && maxItems <= 0) {
      ctx.io.stderr('warning: Non-positive values for --max-items may result in undefined behavior.\n');
    }
  }
  const paging = (params.PaginationConfig ?? {}) as PagingOptions;
  delete params.PaginationConfig;
  mergeCliInput(params, call.values, ctx.io.env);
  ctx.debug?.(`Call parameters: ${JSON.stringify(params)}`);
  return { params, paging };
}

/** How `--output`, `--query` and `--color` ask for the result to be printed. */
function formatOptions(ctx: RunContext, operation: string, output: OutputFormat): FormatOptions {
  const colorOpt = str(ctx.globals, 'color') ?? 'auto';
  return {
    output,
    operation,
    color: colorOpt === 'on' || (colorOpt === 'auto' && ctx.io.stdoutIsTTY),
    terminalWidth: ctx.io.terminalWidth,
    ...(ctx.query !== undefined ? { query: ctx.query } : {}),
  };
}

/** What `--generate-cli-skeleton` prints, or undefined when it was not given. */
function skeletonText(
  ctx: RunContext,
  call: OperationCall,
  params: Record<string, unknown>,
): string | undefined {
  const skeleton = str(call.values, 'generate_cli_skeleton');
  const { model } = ctx;
  const { operation } = call;
  const op = model.operation(operation);
  if (skeleton === 'input' || skeleton === 'yaml-input') {
    const sample = op.input ? generateSkeleton(model, op.input.shape) : {};
    return skeleton === 'input' ? pyJsonDumps(sample, { indent: 4 }) + '\n' : dumpYaml(sample);
  }
  if (skeleton === 'output') {
    if (op.input) validateParams(model, operation, params);
    const sample = op.output ? (generateSkeleton(model, op.output.shape, true) as object) : {};
    const output = (str(ctx.globals, 'output') ?? 'json') as OutputFormat;
    return formatOutput(sample, formatOptions(ctx, operation, output));
  }
  return undefined;
}

/** Where the call goes, as whom, and how its answer is printed (configuration resolved). */
function resolveTarget(ctx: RunContext): { client: Client; output: OutputFormat } {
  const g = ctx.globals;
  const signRequest = g.get('sign_request') !== false;
  const endpointArg = str(g, 'endpoint_url');
  const profile = str(g, 'profile');
  const regionArg = str(g, 'region');
  const caBundleArg = str(g, 'ca_bundle');
  const resolved = resolveConfig(
    ctx.model.name,
    {
      ...(profile !== undefined ? { profile } : {}),
      ...(regionArg !== undefined ? { region: regionArg } : {}),
      ...(endpointArg !== undefined ? { endpointUrl: endpointArg } : {}),
      ...(caBundleArg !== undefined ? { caBundle: caBundleArg } : {}),
      signRequest,
    },
    { env: ctx.io.env, cwd: ctx.io.cwd },
  );
  for (const note of resolved.notes) ctx.debug?.(note);
  const output =
    (str(g, 'output') as OutputFormat | undefined) ?? (resolved.output as OutputFormat | undefined) ?? 'json';
  if (!(OUTPUTS as readonly string[]).includes(output))
    throw new Exit(EXIT.CONFIG, `\nUnknown output type: ${output}\n`);
  if (resolved.region === undefined) throw new NoRegionError();
  const region = resolved.region;
  const endpoint = endpointUrl(resolved.endpointUrl ?? awsEndpoint(ctx.model.name, region));
  ctx.debug?.(`Endpoint ${endpoint.href}, region ${region}, signing ${signRequest ? 'on' : 'off'}`);

  const client = new Client({
    model: ctx.model,
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
    ...(ctx.debug ? { debug: ctx.debug } : {}),
    ...(ctx.io.sleep ? { sleep: ctx.io.sleep } : {}),
  });
  return { client, output };
}

/** botocore fills each idempotency-token member the caller left out with a fresh UUID. */
function addIdempotencyTokens(model: ServiceModel, operation: string, params: Record<string, unknown>): void {
  const op = model.operation(operation);
  if (!op.input) return;
  const input = model.shape(op.input.shape);
  if (input.type !== 'structure') return;
  for (const [member, ref] of Object.entries(input.members)) {
    if (ref.idempotencyToken && !Object.hasOwn(params, member)) params[member] = randomUUID();
  }
}

/**
 * Calls through the paginator as awscli prints it: text and yaml-stream page by page (text ends
 * with the resume token), the other formats from the merged pages.
 */
async function callPaginated(
  client: Client,
  call: OperationCall,
  params: Record<string, unknown>,
  paginator: PaginatorConfig,
  paging: PagingOptions,
  opts: FormatOptions,
): Promise<string> {
  const paged = await paginate(client, call.operation, params, paginator, paging);
  const resultKeys = [paginator.result_key];
  if (opts.output === 'text') {
    let text = formatPagedOutput({ pages: paged.pages, resultKeys }, opts);
    if (paged.resumeToken !== undefined)
      text += formatOutput({ NextToken: { NextToken: paged.resumeToken } }, opts);
    return text;
  }
  if (opts.output === 'yaml-stream') return formatPagedOutput({ pages: paged.pages, resultKeys }, opts);
  const merged = mergePages({ pages: paged.pages, resultKeys });
  if (paged.resumeToken !== undefined) merged.NextToken = paged.resumeToken;
  return formatOutput(merged, opts);
}

/** Runs the command; resolves to the exit code. */
async function run(argv: readonly string[], io: RunIO): Promise<number> {
  const { ctx, serviceArgs } = startRun(argv, io);
  const call = selectOperation(ctx, serviceArgs);
  if ('help' in call) {
    io.stdout(call.help);
    return EXIT.OK;
  }
  const plan = pagingPlan(ctx, call);
  const { params, paging } = callParameters(ctx, call);
  const skeleton = skeletonText(ctx, call, params);
  if (skeleton !== undefined) {
    io.stdout(skeleton);
    return EXIT.OK;
  }
  const { client, output } = resolveTarget(ctx);
  addIdempotencyTokens(ctx.model, call.operation, params);
  const opts = formatOptions(ctx, call.operation, output);
  if (plan.paginator && plan.paginate) {
    io.stdout(await callPaginated(client, call, params, plan.paginator, paging, opts));
  } else {
    io.stdout(formatOutput(await client.call(call.operation, params), opts));
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
