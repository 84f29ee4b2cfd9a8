/**
 * @module cli/ec2/output/format — prints a parsed response the way the AWS CLI does for `--output
 * json|text|table|yaml|yaml-stream` and `--query`: `ResponseMetadata` dropped, the JMESPath query
 * applied, then the formatter — JSON with 4-space indent and the keys in the order given, awscli's
 * text and table layouts, and AWS CLI v2's YAML. Paginated operations print from pages: JSON,
 * table and YAML from the merged result, text and yaml-stream page by page (with `--query` applied
 * to each page), as the CLI does.
 * Port of awscli 1.45.11's `awscli/formatter.py` (`get_formatter`, `JSONFormatter`,
 * `TextFormatter`, `TableFormatter`) and of `--query` as `awscli/clidriver.py` applies it (JMESPath
 * by jmespath.js 0.16, not Python's jmespath); the YAML formatters are AWS CLI v2's
 * (`awscli/formatter.py` in v2), which v1 does not have.
 */
import jmespath from 'jmespath';
import { dumpYaml, pyJsonDumps } from '../python/index.js';
import { formatTable } from './table.js';
import { formatText } from './text.js';

/** The CLI's output formats. */
export type OutputFormat = 'json' | 'text' | 'table' | 'yaml' | 'yaml-stream';

/** Options of {@link formatOutput}. */
export interface FormatOptions {
  readonly output: OutputFormat;
  /** A JMESPath expression (`--query`), applied before formatting. */
  readonly query?: string;
  /** The operation name, e.g. `DescribeSecurityGroups`: the table's title. */
  readonly operation: string;
  /** `--color on` (table output only colors anything). Default false, as when stdout is not a terminal. */
  readonly color?: boolean;
  /** Terminal columns for table output; default 80, what the CLI assumes when stdout is not a terminal. */
  readonly terminalWidth?: number;
}

/** A `--query` expression that does not parse. `message` is the CLI's `Bad value for --query …`. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
}

/**
 * Checks a `--query` expression as the CLI does when it reads its options.
 * @throws QueryError `Bad value for --query <expr>: <parser message>`.
 */
export function checkQuery(query: string): void {
  try {
    jmespath.compile(query);
  } catch (err) {
    throw new QueryError(
      `Bad value for --query ${query}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Python's `datetime.isoformat()` of the same instant in UTC (botocore's tz-aware datetimes). */
function pyIsoformat(d: Date): string {
  const date = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  return `${date}T${time}${ms ? `.${String(ms * 1000).padStart(6, '0')}` : ''}+00:00`;
}

/** A JSON-like copy: Dates as ISO strings, bytes as base64, `undefined` members dropped. */
function toPlain(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return pyIsoformat(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined)
        Object.defineProperty(out, k, {
          value: toPlain(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return out;
  }
  return value;
}

const isDict = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The response without the call's metadata (`ResponseMetadata`; the AWS SDK's `$metadata` too). */
function withoutMetadata(response: unknown): unknown {
  const plain = toPlain(response);
  if (isDict(plain)) {
    delete plain.ResponseMetadata;
    delete plain.$metadata;
  }
  return plain;
}

function search(data: unknown, query: string | undefined): unknown {
  if (query === undefined) return data;
  checkQuery(query);
  let result: unknown;
  try {
    result = jmespath.search(data, query);
  } catch (err) {
    // jmespath.js lets some malformed expressions through compile and fails while searching.
    throw new QueryError(
      `Bad value for --query ${query}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return result === undefined ? null : result;
}

const isEmptyDict = (v: unknown): boolean => isDict(v) && Object.keys(v).length === 0;

/** AWS CLI v2's YAML dumper: JSON for scalars (no `...` document end), ruamel's YAML otherwise. */
function dumpCliYaml(value: unknown): string {
  if (value === null || typeof value !== 'object') return pyJsonDumps(value) + '\n';
  return dumpYaml(value);
}

/** Formats data that is already queried, for the fully buffered formats. */
function formatBuffered(data: unknown, opts: FormatOptions): string {
  switch (opts.output) {
    case 'json':
      return isEmptyDict(data) ? '' : pyJsonDumps(data, { indent: 4 }) + '\n';
    case 'yaml':
      return isEmptyDict(data) ? '' : dumpCliYaml(data);
    case 'table':
      return formatTable(opts.operation, data, {
        color: opts.color ?? false,
        terminalWidth: opts.terminalWidth ?? 80,
      });
    case 'text':
      return formatText(data);
    case 'yaml-stream':
      return dumpCliYaml([data]);
  }
}

/**
 * What the AWS CLI prints for `response` (a parsed response, e.g. botocore's or the AWS SDK's
 * output) with `--output opts.output` and `--query opts.query`, byte for byte.
 * @throws QueryError for a query that does not parse.
 */
export function formatOutput(response: object, opts: FormatOptions): string {
  return formatBuffered(search(withoutMetadata(response), opts.query), opts);
}

/** The pages of a paginated call. */
export interface PagedResponse {
  /** Every page, in order, as parsed. */
  readonly pages: readonly object[];
  /** The paginator's result keys, e.g. `['SecurityGroups']`. */
  readonly resultKeys: readonly string[];
}

/** botocore's `PageIterator.build_full_result` for plain result keys: lists extended, others summed. */
export function mergePages(paged: PagedResponse): Record<string, unknown> {
  const complete: Record<string, unknown> = {};
  for (const page of paged.pages) {
    const plain = toPlain(page) as Record<string, unknown>;
    for (const key of paged.resultKeys) {
      const value = jmespath.search(plain, key) as unknown;
      if (value === null || value === undefined) continue;
      const existing = complete[key];
      if (existing === undefined || existing === null) complete[key] = value;
      else if (Array.isArray(value) && Array.isArray(existing)) existing.push(...(value as unknown[]));
      else if (typeof value === 'number' && typeof existing === 'number') complete[key] = existing + value;
      else if (typeof value === 'string' && typeof existing === 'string') complete[key] = existing + value;
    }
  }
  return complete;
}

/**
 * What the AWS CLI prints for a paginated operation (automatic pagination): JSON, table and YAML
 * format the merged result keys; text and yaml-stream print each page in turn, the query applied to
 * each (text sees only the result keys of each page, yaml-stream the whole page).
 * @throws QueryError for a query that does not parse.
 */
export function formatPagedOutput(paged: PagedResponse, opts: FormatOptions): string {
  if (opts.output === 'text') {
    return paged.pages
      .map((page) => {
        const plain = toPlain(page);
        const current: Record<string, unknown> = {};
        for (const key of paged.resultKeys) current[key] = jmespath.search(plain, key) ?? null;
        return formatText(search(current, opts.query));
      })
      .join('');
  }
  if (opts.output === 'yaml-stream') {
    return paged.pages.map((page) => dumpCliYaml([search(withoutMetadata(page), opts.query)])).join('');
  }
  return formatBuffered(search(mergePages(paged), opts.query), opts);
}
