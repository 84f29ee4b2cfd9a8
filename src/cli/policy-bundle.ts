/**
 * @module cli/policy-bundle — `weir policy keygen|bundle|verify`: make an Ed25519 signing key,
 * bundle a policy set into one signed file, and verify a bundle as a server would.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { WeirError } from '../model/index.js';
import {
  audienceProblem,
  checkBundleSources,
  createBundle,
  formatText,
  generateSigningKey,
  openBundle,
  parseTime,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  readBundleSources,
  readPrivateKey,
  readPublicKey,
  serializeBundle,
  trustKeys,
} from '../policy/index.js';
import type { KeyObject } from 'node:crypto';
import { apiOptions, callWeirApi, resolveApiTarget, WeirApiCallError } from './weir-api-client.js';
import type { ApiFlags, WeirApiTarget } from './weir-api-client.js';

type Write = (s: string) => void;

function positiveVersion(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new WeirError('InvalidArgument', `${flag} must be a positive integer (got '${value}')`);
  }
  return n;
}

function parseNow(value: string | undefined): number {
  if (value === undefined) return Date.now();
  const t = parseTime(value, 'start');
  if (!t.ok) throw new WeirError('InvalidArgument', `--now: ${t.problem.message} (got '${value}')`);
  return t.value;
}

function readKeyFile<T>(flag: string, file: string, parse: (pem: Buffer) => T): T {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch {
    throw new WeirError('InvalidArgument', `${flag} ${file}: cannot read`);
  }
  try {
    return parse(pem);
  } catch (err) {
    throw new WeirError(
      'InvalidArgument',
      `${flag} ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Flags of `weir policy keygen`. */
export interface KeygenFlags {
  out: string;
}

/** Writes a new key pair into `flags.out`. Returns 0; refuses (throws) to overwrite a key. */
export function runPolicyKeygen(flags: KeygenFlags, write: Write): number {
  const keyFile = join(flags.out, PRIVATE_KEY_FILE);
  const pubFile = join(flags.out, PUBLIC_KEY_FILE);
  for (const f of [keyFile, pubFile]) {
    // Overwriting a signing key would silently lock every server out of new bundles.
    if (existsSync(f)) throw new WeirError('InvalidArgument', `${f} exists; refusing to overwrite it`);
  }
  const { privateKeyPem, publicKeyPem, keyId } = generateSigningKey();
  mkdirSync(flags.out, { recursive: true });
  writeFileSync(keyFile, privateKeyPem, { mode: 0o600, flag: 'wx' });
  writeFileSync(pubFile, publicKeyPem, { mode: 0o644, flag: 'wx' });
  write(`wrote ${keyFile} (private: keep it secret) and ${pubFile}\nkeyId: ${keyId}\n`);
  return 0;
}

/**
 * Writes `text` to `file` through a temporary file beside it, then renames it into place, so a
 * server watching the file never reads half a bundle. The temporary name is random and created
 * exclusively (`wx`: O_CREAT|O_EXCL, which also refuses a symlink): a predictable name in a
 * directory others can write lets them plant a symlink there and have the bundle written
 * through it over a file of their choosing. `rename` replaces a symlink at `file` itself
 * instead of following it.
 */
function writeThenRename(file: string, text: string): void {
  const tmp = join(dirname(file), `.weir-bundle-${randomBytes(12).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    try {
      writeFileSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Flags of `weir policy bundle`. */
export interface BundleFlags {
  output?: string;
  key?: string;
  version?: string;
  now?: string;
  /** The servers the bundle is for (their `--bundle-audience`). */
  audience?: string;
}

/** `--audience NAME`, checked. */
function audienceFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bad = audienceProblem(value);
  if (bad !== undefined) throw new WeirError('InvalidArgument', `--audience: ${bad}`);
  return value;
}

/**
 * Bundles the set in `dir` into `flags.output`. Returns 0 when written, 1 when the set has load
 * or lint errors (printed like `weir policy lint`, nothing written); usage mistakes throw.
 */
export function runPolicyBundle(dir: string, flags: BundleFlags, write: Write): number {
  if (flags.output === undefined)
    throw new WeirError('InvalidArgument', '-o FILE is required: the bundle file to write');
  if (flags.key === undefined) {
    throw new WeirError(
      'InvalidArgument',
      '--key FILE is required: the Ed25519 private key (weir policy keygen)',
    );
  }
  const output = flags.output;
  const keyFile = flags.key;
  const version = flags.version !== undefined ? positiveVersion('--version', flags.version) : undefined;
  const audience = audienceFlag(flags.audience);
  const now = parseNow(flags.now);
  if (!existsSync(dir)) throw new WeirError('InvalidArgument', `${dir}: no such file or directory`);
  if (!statSync(dir).isDirectory()) throw new WeirError('InvalidArgument', `${dir}: not a directory`);
  const privateKey = readKeyFile('--key', keyFile, readPrivateKey);

  const { sources, diagnostics: io } = readBundleSources(dir);
  // Lint exactly the texts that go into the bundle, as the server will load them.
  const { report } = checkBundleSources(sources, { now, dir });
  if (report.errors > 0 || io.length > 0) {
    write(
      formatText({
        ...report,
        diagnostics: [...io, ...report.diagnostics],
        errors: report.errors + io.length,
      }),
    );
    write(`not bundled: a bundle never holds a policy set with errors\n`);
    return 1;
  }
  const bundle = createBundle({
    sources,
    privateKey,
    ...(version !== undefined ? { version } : {}),
    ...(audience !== undefined ? { audience } : {}),
  });
  try {
    writeThenRename(output, serializeBundle(bundle));
  } catch (err) {
    throw new WeirError('InvalidArgument', `-o ${output}: cannot write (${String(err)})`);
  }
  write(
    `wrote ${output}: version ${bundle.version}, ${bundle.sources.length} files, ` +
      `${bundle.contentHash}, key ${bundle.keyId}` +
      `${audience !== undefined ? `, audience ${audience}` : ''}\n`,
  );
  return 0;
}

/** Flags of `weir policy verify`. */
export interface VerifyFlags {
  pub: string[];
  current?: string;
  now?: string;
  /** Verify as a server with `--bundle-audience NAME` would; absent: as one without. */
  audience?: string;
}

/**
 * Verifies `file` as a server's bundle slot would (signature, hash, key, version, and that the
 * set loads without errors). Returns 0 valid, 1 invalid with the reason; usage mistakes throw.
 */
export function runPolicyVerify(file: string, flags: VerifyFlags, write: Write): number {
  const current = flags.current !== undefined ? positiveVersion('--current', flags.current) : undefined;
  const audience = audienceFlag(flags.audience);
  const now = parseNow(flags.now);
  if (flags.pub.length === 0) throw new WeirError('InvalidArgument', '--pub is required');
  const keys: KeyObject[] = flags.pub.map((p) => readKeyFile('--pub', p, readPublicKey));
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new WeirError('InvalidArgument', `${file}: cannot read`);
  }
  const opened = openBundle(bytes, trustKeys(keys), {
    ...(current !== undefined ? { current } : {}),
    ...(audience !== undefined ? { audience } : {}),
    now,
  });
  if (!opened.ok) {
    write(`${file}: invalid: ${opened.reason}\n`);
    for (const d of opened.diagnostics ?? [])
      write(`  ${d.file}:${d.line}:${d.col}: ${d.code}: ${d.message}\n`);
    return 1;
  }
  const b = opened.bundle;
  write(
    [
      `${file}: valid`,
      `version: ${b.version} (created ${b.created})`,
      `contentHash: ${b.contentHash}`,
      `keyId: ${b.keyId}`,
      `audience: ${b.audience ?? '(none)'}`,
      `files (${b.sources.length}):`,
      ...b.sources.map((s) => `  ${s.path}`),
      '',
    ].join('\n'),
  );
  return 0;
}

/** Sends a bundle file to the server (`weir policy bundle apply FILE`). Returns 0; refusals throw. */
export async function runPolicyBundleApply(file: string, flags: ApiFlags, write: Write): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new WeirError('InvalidArgument', `${file}: cannot read the bundle file`);
  }
  const out = await callWeirApi(resolveApiTarget(flags), { method: 'PUT', resource: 'bundle', raw: bytes });
  const previous = out.previousVersion !== undefined ? ` (was ${String(out.previousVersion)})` : '';
  write(
    `applied ${file}: version ${String(out.version)}${previous}, ${String(out.hash)}, key ${String(out.keyId)}\n`,
  );
  return 0;
}

/** Flags of `weir policy bundle show`. */
export interface BundleShowFlags extends ApiFlags {
  output?: string;
}

/**
 * Prints the bundle the server enforces (`weir policy bundle show`), or why none is: the server
 * runs `--policy DIR`, or the stored bundle does not verify there (key or audience changed).
 * Returns 0 when a bundle is in force, 1 when none is; an unreachable server throws.
 */
export async function runPolicyBundleShow(
  flags: BundleShowFlags,
  write: Write,
  target: WeirApiTarget = resolveApiTarget(flags),
): Promise<number> {
  const format = flags.output ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new WeirError('InvalidArgument', `--output must be one of text, json, got '${format}'`);
  }
  let out: Record<string, unknown>;
  try {
    out = await callWeirApi(target, { method: 'GET', resource: 'bundle' });
  } catch (err) {
    if (!(err instanceof WeirApiCallError && err.apiCode === 'NotFound')) throw err;
    out = { inForce: false };
  }
  if (format === 'json') {
    write(`${JSON.stringify(out, null, 2)}\n`);
    return out.inForce === true ? 0 : 1;
  }
  const s = (v: unknown): string => String(v);
  if (out.policyDir !== undefined) {
    write(
      `no bundle in force: this server enforces --policy ${s(out.policyDir)} (a bundle applied there would not take effect)\n`,
    );
  } else if (out.version === undefined) {
    write('no bundle in force: none has been applied (weir policy bundle apply FILE)\n');
  } else if (out.inForce !== true) {
    write(
      `no bundle in force: the stored bundle (version ${s(out.version)}) does not verify here: ${s(out.problem)}\n`,
    );
  } else {
    write(
      [
        `bundle in force: version ${s(out.version)}`,
        `hash:     ${s(out.hash)}`,
        `key:      ${s(out.keyId)}`,
        `audience: ${out.audience !== undefined ? s(out.audience) : '(none)'}`,
        `created:  ${s(out.created)}`,
        `applied:  ${s(out.appliedAt)}`,
        '',
      ].join('\n'),
    );
  }
  return out.inForce === true ? 0 : 1;
}

/** Registers `keygen`, `bundle` (and `bundle apply`) and `verify` under the `weir policy` command. */
export function registerPolicyBundleCommands(policy: Command): void {
  policy
    .command('keygen')
    .description(`Write a new Ed25519 signing key pair (${PRIVATE_KEY_FILE}, mode 0600; ${PUBLIC_KEY_FILE}).`)
    .requiredOption('--out <dir>', 'directory to write the key pair into')
    .action((flags: KeygenFlags) => {
      process.exitCode = runPolicyKeygen(flags, (s) => process.stdout.write(s));
    });

  const bundle = policy
    .command('bundle')
    .description(
      'Bundle a policy set into one signed file. Exit 1 (nothing written) when the set has errors. ' +
        '`bundle apply FILE` sends a bundle to the server.',
    )
    .argument('<dir>', 'policy directory')
    // Checked in runPolicyBundle, not by commander: `bundle apply FILE` must not need them.
    .option('-o, --output <file>', 'bundle file to write (required)')
    .option('--key <file>', `Ed25519 private key (PEM, as from weir policy keygen) (required)`)
    .option('--version <n>', 'bundle version (positive integer); default: seconds since the epoch')
    .option('--now <time>', 'evaluate expiry at this time (YYYY-MM-DD or ISO 8601 with zone) instead of now')
    .option('--audience <name>', 'only servers started with --bundle-audience NAME take the bundle')
    .action((dir: string, flags: BundleFlags) => {
      process.exitCode = runPolicyBundle(dir, flags, (s) => process.stdout.write(s));
    });
  apiOptions(
    bundle
      .command('apply')
      .description(
        'Apply a bundle file through the Weir API: the server verifies it against its --bundle-public-key keys; ' +
          'an invalid, tampered or older bundle is refused and the one in force stays.',
      )
      .argument('<file>', 'bundle file (from weir policy bundle DIR -o FILE)'),
  ).action(async (file: string, flags: ApiFlags) => {
    process.exitCode = await runPolicyBundleApply(file, flags, (s) => process.stdout.write(s));
  });
  apiOptions(
    bundle
      .command('show')
      .description(
        'Print the bundle the server enforces (version, hash, key, audience, when applied), or why none is. Exit 0 when one is in force, 1 when none is.',
      )
      .option('--output <format>', 'text or json', 'text'),
  ).action(async (flags: BundleShowFlags) => {
    process.exitCode = await runPolicyBundleShow(flags, (s) => process.stdout.write(s));
  });

  policy
    .command('verify')
    .description('Verify a policy bundle as a server would. Exit 0 valid, 1 invalid (with the reason).')
    .argument('<file>', 'bundle file')
    .requiredOption(
      '--pub <file>',
      'trusted Ed25519 public key (PEM); repeat for several',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--current <n>', 'the version in force: the bundle must be newer')
    .option('--audience <name>', 'verify as a server with --bundle-audience NAME (default: as one without)')
    .option('--now <time>', 'evaluate expiry at this time instead of now')
    .action((file: string, flags: VerifyFlags) => {
      process.exitCode = runPolicyVerify(file, flags, (s) => process.stdout.write(s));
    });
}
