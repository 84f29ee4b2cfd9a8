/**
 * @module cli/token — gateway bearer tokens. `weir token issue --identity ID --ttl 24h` prints one
 * token alone on stdout: signed with `DATA/gateway-token.key` (`--data-dir`), or issued by the
 * server through the Weir API when `--endpoint-url` or `--profile` is given. `weir token revoke
 * --id ID | --token TOKEN` records a revocation through the API, or in data-dir mode straight
 * into the server's store (`DATA/weir.sqlite`). `weir token list-revoked` shows them (API).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ACCOUNT_ID, MAX_TOKEN_TTL_MS, revokeTokenInStore } from '../api/index.js';
import { issueToken, loadTokenKey, parseTtl, TOKEN_KEY_FILE } from '../identity/index.js';
import { WeirError } from '../model/index.js';
import { openSqliteStore } from '../store/index.js';
import { localDataDirPath } from './ec2/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags } from './weir-api-client.js';

type Write = (s: string) => void;

/** The options of `weir token issue`. */
export interface TokenIssueFlags extends ApiFlags {
  identity: string;
  ttl: string;
  dataDir: string;
  /** Data-dir mode: the account the token is issued for (default the default gateway account). */
  account?: string;
}

/** The options of `weir token revoke`. */
export interface TokenRevokeFlags extends ApiFlags {
  id?: string;
  token?: string;
  dataDir: string;
}

/** `--data-dir` when not given: the local data dir every client command reads. */
const defaultDataDir = (): string => localDataDirPath({ env: process.env, cwd: process.cwd() });

/** The options as commander hands them over: `--data-dir` only when given. */
type WithOptionalDataDir<T extends { dataDir: string }> = Omit<T, 'dataDir'> & { dataDir?: string };

const DATA_DIR_DEFAULT = '(default: WEIR_DATA_DIR, else ./weir-data)';

/** A token signed where no server keeps its store is one that no running gateway will accept. */
function warnIfNoStore(dataDir: string): void {
  const dir = resolve(dataDir);
  if (existsSync(join(dir, 'weir.sqlite'))) return;
  process.stderr.write(
    `weir: warning: ${dir} holds no Weir store (weir.sqlite): the token is signed with its key, which only weir serve --data-dir ${dir} accepts\n`,
  );
}

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

/** Issues a token in data-dir mode; returns it (no newline). Bad options throw `WeirError`. */
export function runTokenIssue(flags: TokenIssueFlags, now: number = Date.now()): string {
  const ttlMs = checkTtl(flags.ttl);
  if (flags.identity.trim() === '' || /\s/.test(flags.identity)) {
    throw new WeirError('BAD_OPTION', `--identity must be one workload identity, got '${flags.identity}'`);
  }
  const account = flags.account ?? DEFAULT_ACCOUNT_ID;
  if (!/^\d{12}$/.test(account)) {
    throw new WeirError('BAD_OPTION', `--account must be a 12-digit account ID, got '${account}'`);
  }
  // The holder of the data dir's key may sign for any account; the gateway accepts only tokens
  // of its own (--gateway-account), so the token names the one it is meant for.
  return issueToken(loadTokenKey(resolve(flags.dataDir)), { identity: flags.identity, ttlMs, now, account });
}

/** Issues a token through the API; returns it (no newline). */
export async function runTokenIssueApi(flags: TokenIssueFlags): Promise<string> {
  checkTtl(flags.ttl);
  if (flags.account !== undefined) {
    throw new WeirError(
      'BAD_OPTION',
      '--account is for --data-dir mode: through the API a token is issued for the account of the key that signs the call',
    );
  }
  const out = await callWeirApi(resolveApiTarget(flags), {
    method: 'POST',
    resource: 'tokens',
    json: { identity: flags.identity, ttl: flags.ttl },
  });
  return String(out.token);
}

/** Revokes a token (API or data-dir mode) and says which, until when. */
export async function runTokenRevoke(flags: TokenRevokeFlags, write: Write): Promise<number> {
  if ((flags.id === undefined) === (flags.token === undefined)) {
    throw new WeirError('BAD_OPTION', 'give exactly one of --id ID and --token TOKEN');
  }
  const request = {
    ...(flags.id !== undefined ? { id: flags.id } : {}),
    ...(flags.token !== undefined ? { token: flags.token } : {}),
  };
  let out: Record<string, unknown>;
  if (apiMode(flags)) {
    out = await callWeirApi(resolveApiTarget(flags), {
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
      out = await revokeTokenInStore(
        store,
        { ...(tokenKey !== undefined ? { tokenKey } : {}), now: () => new Date() },
        request,
      );
    } finally {
      await store.close();
    }
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
      .option('--data-dir <dir>', `the server data directory (holds gateway-token.key) ${DATA_DIR_DEFAULT}`)
      .option(
        '--account <id>',
        `data-dir mode: the account the token is for, which must be the server's --gateway-account (default ${DEFAULT_ACCOUNT_ID})`,
      ),
  ).action(async (given: WithOptionalDataDir<TokenIssueFlags>) => {
    const flags: TokenIssueFlags = { ...given, dataDir: given.dataDir ?? defaultDataDir() };
    if (!apiMode(flags)) warnIfNoStore(flags.dataDir);
    const t = apiMode(flags) ? await runTokenIssueApi(flags) : runTokenIssue(flags);
    process.stdout.write(`${t}\n`);
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
      ),
  ).action(async (given: WithOptionalDataDir<TokenRevokeFlags>) => {
    const flags: TokenRevokeFlags = { ...given, dataDir: given.dataDir ?? defaultDataDir() };
    process.exitCode = await runTokenRevoke(flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    token.command('list-revoked').description('List revoked tokens that have not expired yet (JSON).'),
  ).action(async (flags: ApiFlags) => {
    process.exitCode = await runTokenListRevoked(flags, (s) => process.stdout.write(s));
  });
}
