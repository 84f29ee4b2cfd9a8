/**
 * @module cli/token — gateway bearer tokens. `weir token issue --identity ID --ttl 24h` prints one
 * token alone on stdout (its ID on stderr): issued in the server's data dir (`--data-dir`: its
 * key and store; a directory that is no server's is refused), or by the server through the
 * Weir API when `--endpoint-url` or `--profile` is given. `weir token revoke --id ID | --token
 * TOKEN` records a revocation through the API, or in data-dir mode straight into the server's
 * store (`DATA/weir.sqlite`). `weir token list|inspect|list-revoked` read through the API.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ACCOUNT_ID, issueTokenInStore, MAX_TOKEN_TTL_MS, revokeTokenInStore } from '../api/index.js';
import { issueToken, loadTokenKey, parseTtl, TOKEN_KEY_FILE } from '../identity/index.js';
import { WeirError } from '../model/index.js';
import { auditLocalWrite, localAuditCall } from '../audit/index.js';
import { openSqliteStore } from '../store/index.js';
import { localDataDirPath } from './ec2/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags, WeirApiTarget } from './weir-api-client.js';
import { renderTable } from './table.js';

type Write = (s: string) => void;

/** The options of `weir token issue`. */
export interface TokenIssueFlags extends ApiFlags {
  identity: string;
  ttl: string;
  dataDir: string;
  /** Data-dir mode: the account the token is issued for (default the default gateway account). */
  account?: string;
  /** `text` (default: the token on stdout, its ID on stderr) or `json`. */
  output?: string;
}

/** The options of `weir token revoke`. */
export interface TokenRevokeFlags extends ApiFlags {
  id?: string;
  token?: string;
  dataDir: string;
  /** `text` (default) or `json`. */
  output?: string;
}

/** The options of `weir token list` and `weir token inspect`. */
export interface TokenReadFlags extends ApiFlags {
  /** `table` (default for list), `text` (default for inspect) or `json`. */
  output?: string;
  /** List expired tokens too. */
  all?: boolean;
}

/** `--data-dir` when not given: the local data dir every client command reads. */
const defaultDataDir = (): string => localDataDirPath({ env: process.env, cwd: process.cwd() });

/** The options as commander hands them over: `--data-dir` only when given. */
type WithOptionalDataDir<T extends { dataDir: string }> = Omit<T, 'dataDir'> & { dataDir?: string };

const DATA_DIR_DEFAULT = '(default: WEIR_DATA_DIR, else ./weir-data)';

/** API mode is chosen by naming where the API is or as whom to call it. */
const apiMode = (flags: ApiFlags): boolean => flags.endpointUrl !== undefined || flags.profile !== undefined;

function checkTtl(ttl: string): number {
  const ttlMs = parseTtl(ttl);
  if (ttlMs === undefined || ttlMs > MAX_TOKEN_TTL_MS) {
    throw new WeirError(
      'BAD_OPTION',
      `--ttl must be a number and a unit s|m|h|d, at most 366d (e.g. 24h), got '${ttl}'`,
    );
  }
  return ttlMs;
}

/**
 * Signs a token with the data dir's key (creating the key when missing) and returns it: a
 * library call for tests and benchmarks that then start a server on that data dir. It records
 * nothing; `weir token issue` is {@link runTokenIssueCommand}, which refuses a data dir no
 * server uses.
 */
export function runTokenIssue(flags: TokenIssueFlags, now: number = Date.now()): string {
  const ttlMs = checkTtl(flags.ttl);
  if (flags.identity.trim() === '' || /\s/.test(flags.identity)) {
    throw new WeirError('BAD_OPTION', `--identity must be one workload identity, got '${flags.identity}'`);
  }
  const account = dataDirAccount(flags);
  // The holder of the data dir's key may sign for any account; the gateway accepts only tokens
  // of its own (--gateway-account), so the token names the one it is meant for.
  return issueToken(loadTokenKey(resolve(flags.dataDir)), { identity: flags.identity, ttlMs, now, account });
}

/** Where a command writes: stdout, and stderr for what a script capturing stdout should not get. */
export interface TokenIo {
  readonly out: Write;
  readonly err: Write;
}

/** A token as issued, with its claims (what `--output json` prints). */
export interface IssuedTokenInfo {
  readonly token: string;
  readonly id: string;
  readonly identity: string;
  readonly issued: string;
  readonly expires: string;
}

/** `--output`, checked against the formats a command has. */
function outputFormat(value: string | undefined, formats: readonly string[]): string {
  const format = value ?? formats[0] ?? 'text';
  if (!formats.includes(format)) {
    throw new WeirError('BAD_OPTION', `--output must be one of ${formats.join(', ')}, got '${format}'`);
  }
  return format;
}

/** The account a data-dir token is for: `--account`, else the default gateway account. */
function dataDirAccount(flags: TokenIssueFlags): string {
  const account = flags.account ?? DEFAULT_ACCOUNT_ID;
  if (!/^\d{12}$/.test(account)) {
    throw new WeirError('BAD_OPTION', `--account must be a 12-digit account ID, got '${account}'`);
  }
  return account;
}

/**
 * Issues through the server's store in the data dir, as the API would. Refuses a directory that
 * is not a server's data dir: a key made there would sign a token no gateway accepts.
 */
async function issueInDataDir(flags: TokenIssueFlags): Promise<Record<string, unknown>> {
  const dataDir = resolve(flags.dataDir);
  const file = join(dataDir, 'weir.sqlite');
  if (!existsSync(file) || !existsSync(join(dataDir, TOKEN_KEY_FILE))) {
    throw new WeirError(
      'BAD_OPTION',
      `${dataDir} is not the data dir of a Weir server (no weir.sqlite and ${TOKEN_KEY_FILE}), so no gateway would accept a token signed there: ` +
        `start weir serve --data-dir ${dataDir} first, or pass the server's --data-dir DIR, or --endpoint-url URL`,
    );
  }
  // The key exists (checked above): loadTokenKey only reads it.
  const tokenKey = loadTokenKey(dataDir);
  // One write and done: a checkpoint worker thread would cost more than the write.
  const store = openSqliteStore({ file, backgroundCheckpoints: false });
  try {
    const request = { identity: flags.identity, ttl: flags.ttl, account: dataDirAccount(flags) };
    // Recorded in the audit trail as the API's IssueToken is, in the same transaction.
    return await auditLocalWrite(store, localAuditCall('IssueToken', request.account, request), (s) =>
      issueTokenInStore(s, { tokenKey, now: () => new Date() }, request),
    );
  } finally {
    await store.close();
  }
}

/**
 * Issues a token: through the API (`target`, or `--endpoint-url`/`--profile`), else in the data
 * dir's store. Prints the token alone on stdout (for `TOKEN=$(weir token issue …)`) and its ID
 * on stderr, or everything as JSON with `--output json`. Bad options throw `WeirError`.
 */
export async function runTokenIssueCommand(
  flags: TokenIssueFlags,
  io: TokenIo,
  target?: WeirApiTarget,
): Promise<IssuedTokenInfo> {
  const format = outputFormat(flags.output, ['text', 'json']);
  checkTtl(flags.ttl);
  if (flags.identity.trim() === '' || /\s/.test(flags.identity)) {
    throw new WeirError('BAD_OPTION', `--identity must be one workload identity, got '${flags.identity}'`);
  }
  const viaApi = target !== undefined || apiMode(flags);
  if (viaApi && flags.account !== undefined) {
    throw new WeirError(
      'BAD_OPTION',
      '--account is for --data-dir mode: through the API a token is issued for the account of the key that signs the call',
    );
  }
  const out = viaApi
    ? await callWeirApi(target ?? resolveApiTarget(flags), {
        method: 'POST',
        resource: 'tokens',
        json: { identity: flags.identity, ttl: flags.ttl },
      })
    : await issueInDataDir(flags);
  const info: IssuedTokenInfo = {
    token: String(out.token),
    id: String(out.id),
    identity: String(out.identity),
    issued: String(out.issued),
    expires: String(out.expires),
  };
  if (format === 'json') {
    io.out(`${JSON.stringify(info, null, 2)}\n`);
  } else {
    io.out(`${info.token}\n`);
    io.err(
      `token ID ${info.id} for ${info.identity}, expires ${info.expires} (weir token revoke --id ${info.id})\n`,
    );
  }
  return info;
}

/** Revokes a token (API or data-dir mode) and says which, until when. */
export async function runTokenRevoke(
  flags: TokenRevokeFlags,
  write: Write,
  target?: WeirApiTarget,
): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json']);
  if ((flags.id === undefined) === (flags.token === undefined)) {
    throw new WeirError('BAD_OPTION', 'give exactly one of --id ID and --token TOKEN');
  }
  const request = {
    ...(flags.id !== undefined ? { id: flags.id } : {}),
    ...(flags.token !== undefined ? { token: flags.token } : {}),
  };
  let out: Record<string, unknown>;
  if (target !== undefined || apiMode(flags)) {
    out = await callWeirApi(target ?? resolveApiTarget(flags), {
      method: 'POST',
      resource: 'tokens/revoke',
      json: request,
    });
  } else {
    const dataDir = resolve(flags.dataDir);
    const file = join(dataDir, 'weir.sqlite');
    if (!existsSync(file)) {
      throw new WeirError(
        'BAD_OPTION',
        `--data-dir ${dataDir}: no Weir store (weir.sqlite) there; give the server's --data-dir or --endpoint-url`,
      );
    }
    // Never create a key here: a token can only have been signed by the key that exists.
    const keyFile = join(dataDir, TOKEN_KEY_FILE);
    const tokenKey = existsSync(keyFile) ? loadTokenKey(dataDir) : undefined;
    // One write and done: a checkpoint worker thread would cost more than the write.
    const store = openSqliteStore({ file, backgroundCheckpoints: false });
    try {
      // Recorded in the audit trail as the API's RevokeToken is (the token text never).
      out = await auditLocalWrite(store, localAuditCall('RevokeToken', DEFAULT_ACCOUNT_ID, request), (s) =>
        revokeTokenInStore(
          s,
          { ...(tokenKey !== undefined ? { tokenKey } : {}), now: () => new Date() },
          request,
        ),
      );
    } finally {
      await store.close();
    }
  }
  if (format === 'json') {
    write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const who = out.identity !== undefined ? ` (${String(out.identity)})` : '';
  write(
    `revoked token ${String(out.id)}${who}; recorded until ${String(out.expires)}, when it expires anyway\n`,
  );
  return 0;
}

/** Lists revoked tokens not yet expired (API). */
export async function runTokenListRevoked(flags: ApiFlags, write: Write): Promise<number> {
  const out = await callWeirApi(resolveApiTarget(flags), { method: 'GET', resource: 'tokens/revoked' });
  write(`${JSON.stringify(out.revoked ?? [], null, 2)}\n`);
  return 0;
}

/** Lists the tokens the server issued (`weir token list`): ID, identity, expiry, revoked. */
export async function runTokenList(
  flags: TokenReadFlags,
  write: Write,
  target?: WeirApiTarget,
): Promise<number> {
  const format = outputFormat(flags.output, ['table', 'text', 'json']);
  const out = await callWeirApi(target ?? resolveApiTarget(flags), {
    method: 'GET',
    resource: 'tokens',
    ...(flags.all === true ? { query: { all: 'true' } } : {}),
  });
  const tokens = (out.tokens ?? []) as Record<string, unknown>[];
  if (format === 'json') {
    write(`${JSON.stringify({ tokens }, null, 2)}\n`);
    return 0;
  }
  const rows = tokens.map((t) => [
    String(t.id),
    String(t.identity),
    String(t.expires),
    t.revoked === true ? 'yes' : 'no',
  ]);
  if (format === 'text') {
    for (const r of rows) write(`TOKENS\t${r.join('\t')}\n`);
    return 0;
  }
  write(renderTable(['ID', 'Identity', 'Expires', 'Revoked'], rows));
  return 0;
}

/** Shows one token by its text (`weir1.…`) or ID (`weir token inspect`): claims and status. */
export async function runTokenInspect(
  tokenOrId: string,
  flags: TokenReadFlags,
  write: Write,
  target?: WeirApiTarget,
): Promise<number> {
  const format = outputFormat(flags.output, ['text', 'json']);
  const out = await callWeirApi(target ?? resolveApiTarget(flags), {
    method: 'POST',
    resource: 'tokens/inspect',
    json: tokenOrId.startsWith('weir1.') ? { token: tokenOrId } : { id: tokenOrId },
  });
  if (format === 'json') {
    write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const fields = ['id', 'identity', 'issued', 'expires', 'status', 'revokedAt'];
  for (const f of fields) if (out[f] !== undefined) write(`${`${f}:`.padEnd(11)}${String(out[f])}\n`);
  if (out.recorded === false)
    write("(not in the server's record of issued tokens: issued before Weir kept one)\n");
  return 0;
}

/** Registers `weir token` on the `weir` program. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Gateway bearer tokens (identity of a workload).');
  apiOptions(
    token
      .command('issue')
      .description(
        'Print a signed, expiring token for Proxy-Authorization: Bearer … (data-dir key, or through the API with --endpoint-url/--profile).',
      )
      .requiredOption('--identity <id>', 'the workload identity (SPIFFE ID or service account)')
      .option('--ttl <duration>', 'lifetime: 90s, 30m, 24h, 7d (at most 366d)', '24h')
      .option(
        '--data-dir <dir>',
        `the server data directory (weir.sqlite, gateway-token.key) ${DATA_DIR_DEFAULT}`,
      )
      .option(
        '--account <id>',
        `data-dir mode: the account the token is for, which must be the server's --gateway-account (default ${DEFAULT_ACCOUNT_ID})`,
      )
      .option('--output <format>', 'text (the token on stdout, its ID on stderr) or json', 'text'),
  ).action(async (given: WithOptionalDataDir<TokenIssueFlags>) => {
    const flags: TokenIssueFlags = { ...given, dataDir: given.dataDir ?? defaultDataDir() };
    await runTokenIssueCommand(flags, {
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
    });
  });
  apiOptions(
    token
      .command('revoke')
      .description(
        'Revoke a token by its ID or its text (through the API with --endpoint-url/--profile, else in --data-dir).',
      )
      .option('--id <id>', 'the token ID (as token issue through the API prints it)')
      .option('--token <token>', 'the whole token text (weir1.…)')
      .option(
        '--data-dir <dir>',
        `the server data directory (weir.sqlite, gateway-token.key) ${DATA_DIR_DEFAULT}`,
      )
      .option('--output <format>', 'text or json', 'text'),
  ).action(async (given: WithOptionalDataDir<TokenRevokeFlags>) => {
    const flags: TokenRevokeFlags = { ...given, dataDir: given.dataDir ?? defaultDataDir() };
    process.exitCode = await runTokenRevoke(flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    token
      .command('list')
      .description('List the tokens the server issued: ID, identity, expiry, revoked (never the tokens).')
      .option('--all', 'include expired tokens')
      .option('--output <format>', 'table, text or json', 'table'),
  ).action(async (flags: TokenReadFlags) => {
    process.exitCode = await runTokenList(flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    token
      .command('inspect')
      .description('Show one token, by its text (weir1.…) or its ID: identity, validity, status.')
      .argument('<token-or-id>', 'the token text or its ID')
      .option('--output <format>', 'text or json', 'text'),
  ).action(async (tokenOrId: string, flags: TokenReadFlags) => {
    process.exitCode = await runTokenInspect(tokenOrId, flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    token.command('list-revoked').description('List revoked tokens that have not expired yet (JSON).'),
  ).action(async (flags: ApiFlags) => {
    process.exitCode = await runTokenListRevoked(flags, (s) => process.stdout.write(s));
  });
}
