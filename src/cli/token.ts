/**
 * @module cli/token — `weir token issue --identity ID --ttl 24h [--data-dir DIR]`: prints one
 * gateway bearer token, alone on stdout, signed with the key in `DATA/gateway-token.key`.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { issueToken, loadTokenKey, parseTtl } from '../gateway/index.js';
import { WeirError } from '../model/index.js';

/** The options of `weir token issue`. */
export interface TokenIssueFlags {
  identity: string;
  ttl: string;
  dataDir: string;
}

/** Issues a token; returns it (no newline). Bad options throw `WeirError`. */
export function runTokenIssue(flags: TokenIssueFlags, now: number = Date.now()): string {
  const ttlMs = parseTtl(flags.ttl);
  if (ttlMs === undefined) {
    throw new WeirError(
      'BAD_OPTION',
      `--ttl must be a number and a unit s|m|h|d (e.g. 24h), got '${flags.ttl}'`,
    );
  }
  if (flags.identity.trim() === '' || /\s/.test(flags.identity)) {
    throw new WeirError('BAD_OPTION', `--identity must be one workload identity, got '${flags.identity}'`);
  }
  return issueToken(loadTokenKey(resolve(flags.dataDir)), { identity: flags.identity, ttlMs, now });
}

/** Registers `weir token` on the `weir` program. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Gateway bearer tokens (identity of a workload).');
  token
    .command('issue')
    .description('Print a signed, expiring token for Proxy-Authorization: Bearer … (revocation: later).')
    .requiredOption('--identity <id>', 'the workload identity (SPIFFE ID or service account)')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 24h, 7d', '24h')
    .option('--data-dir <dir>', 'the server data directory (holds gateway-token.key)', './weir-data')
    .action((flags: TokenIssueFlags) => {
      process.stdout.write(`${runTokenIssue(flags)}\n`);
    });
}
