/**
 * @module policy/bundle — signed policy bundles: a policy set's YAML files in one JSON file,
 * versioned, content-hashed and signed with Ed25519 (node:crypto), and the server-side slot
 * that verifies a new bundle before it replaces the current one. Format and threat model:
 * docs/policy-bundles.md.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Diagnostic } from './diagnostics.js';
import { lintPolicySet } from './lint.js';
import type { LintReport } from './lint.js';
import { loadPolicySet, loadPolicySources } from './load.js';
import type { PolicySource } from './load.js';
import type { PolicySet } from './types.js';

/** The `format` of every bundle this module writes and the only one it reads. */
export const BUNDLE_FORMAT = 'weir.bundle/v1';
/** File names `weir policy keygen` writes. */
export const PRIVATE_KEY_FILE = 'weir-policy.key';
export const PUBLIC_KEY_FILE = 'weir-policy.pub';

/** One policy or test file of a bundle: its path relative to the bundled directory, and its text. */
export interface BundleSource {
  /** `/`-separated, relative, no `.`/`..` segments, ending in `.yaml` or `.yml`. */
  readonly path: string;
  readonly text: string;
}

/** A bundle as stored (one JSON object). Every field but `signature` is signed. */
export interface PolicyBundle {
  readonly format: typeof BUNDLE_FORMAT;
  /** Positive safe integer; a slot only accepts a version greater than the one it holds. */
  readonly version: number;
  /** When the bundle was made, ISO 8601 UTC. */
  readonly created: string;
  /** {@link keyIdOf} the public key that verifies `signature`. */
  readonly keyId: string;
  /**
   * The servers the bundle is for (`weir policy bundle --audience NAME`); a server takes it only
   * when started with `--bundle-audience NAME`. Absent: only servers without one take it.
   */
  readonly audience?: string;
  /** `sha256:<hex>` of {@link canonicalJson} of `sources`. */
  readonly contentHash: string;
  /** Sorted by `path` (code-unit order), paths unique. */
  readonly sources: readonly BundleSource[];
  /** Base64 Ed25519 signature over {@link signedBytes}. */
  readonly signature: string;
}

/** Why a bundle was refused. Callers branch on the code; the reason is for people. */
export type BundleFailureCode =
  | 'bad-json'
  | 'unknown-format'
  | 'malformed'
  | 'hash-mismatch'
  | 'unknown-key'
  | 'signature-invalid'
  | 'wrong-audience'
  | 'not-newer'
  | 'invalid-policy'
  | 'rejected-by-consumer';

/** A refused bundle. */
export interface BundleFailure {
  readonly ok: false;
  readonly code: BundleFailureCode;
  readonly reason: string;
  /** With `invalid-policy`: the load and lint errors. */
  readonly diagnostics?: readonly Diagnostic[];
}

/** Trusted public keys by {@link keyIdOf}. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** A bundle that verified and whose set loaded: what a slot holds and hands to its consumer. */
export interface LoadedBundle {
  readonly bundle: PolicyBundle;
  /** The policy set, ready for the engine to compile. */
  readonly set: PolicySet;
  /** Warnings (and `expired` findings) of the set; never other errors. */
  readonly diagnostics: readonly Diagnostic[];
}

// ---------------------------------------------------------------------------------------------
// Keys

/** A fresh Ed25519 key pair as PEM (PKCS#8 private, SPKI public) and its key ID. */
export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/**
 * The key ID of a public key (or of the public half of a private key): `sha256:` and the hex
 * SHA-256 of its DER SubjectPublicKeyInfo.
 */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = pub.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** Parses a PEM Ed25519 private key. Throws `Error` with a one-line message otherwise. */
export function readPrivateKey(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`not an Ed25519 key (it is ${key.asymmetricKeyType ?? 'unknown'})`);
  }
  return key;
}

/** Parses a PEM Ed25519 public key. Throws `Error` with a one-line message otherwise. */
export function readPublicKey(pem: string | Buffer): KeyObject {
  // createPublicKey also accepts a private key and derives its public half; the signing key
  // must never sit in a server's trust store, so refuse it.
  if (/PRIVATE KEY/.test(pem.toString())) throw new Error('this is a private key; give the .pub file');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`not an Ed25519 key (it is ${key.asymmetricKeyType ?? 'unknown'})`);
  }
  return key;
}

/** Indexes public keys (PEM or `KeyObject`) by key ID. Throws on a key that is not Ed25519. */
export function trustKeys(keys: readonly (KeyObject | string)[]): TrustedKeys {
  const map = new Map<string, KeyObject>();
  for (const k of keys) {
    const key = typeof k === 'string' ? readPublicKey(k) : k;
    if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
      throw new Error('trusted keys must be Ed25519 public keys');
    }
    map.set(keyIdOf(key), key);
  }
  return map;
}

// ---------------------------------------------------------------------------------------------
// Canonical bytes

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, strings and integers as
 * `JSON.stringify` writes them. One value has exactly one serialization, so the hash and the
 * signature do not depend on how the file was pretty-printed.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error('canonical JSON holds only safe integers');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonical JSON cannot hold ${typeof value}`);
}

/** `sha256:<hex>` over the canonical JSON of the sources (`[{path,text},…]`). */
export function contentHashOf(sources: readonly BundleSource[]): string {
  const canon = canonicalJson(sources.map((s) => ({ path: s.path, text: s.text })));
  return `sha256:${createHash('sha256').update(canon, 'utf8').digest('hex')}`;
}

/** The bytes the signature covers: the canonical JSON of every field but `signature`. */
export function signedBytes(bundle: Omit<PolicyBundle, 'signature'>): Buffer {
  const { format, version, created, keyId, audience, contentHash, sources } = bundle;
  // canonicalJson leaves out an absent audience: bundles made before audiences still verify.
  return Buffer.from(
    canonicalJson({ format, version, created, keyId, audience, contentHash, sources }),
    'utf8',
  );
}

/** What an audience name may be: a label such as `prod` or `eu-west.staging`. */
const AUDIENCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `name` is not an audience name, or `undefined` when it is one. */
export function audienceProblem(name: string): string | undefined {
  return AUDIENCE.test(name)
    ? undefined
    : `an audience is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (got ${JSON.stringify(name)})`;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** What {@link createBundle} needs. */
export interface CreateBundleOptions {
  readonly sources: readonly BundleSource[];
  readonly privateKey: KeyObject;
  /** Default: the creation time in whole seconds since the epoch. */
  readonly version?: number;
  /** Default: now. */
  readonly created?: Date;
  /** The servers the bundle is for (their `--bundle-audience`); default none. */
  readonly audience?: string;
}

/** Sorts, hashes and signs sources into a bundle. Throws on a bad path, duplicate or version. */
export function createBundle(options: CreateBundleOptions): PolicyBundle {
  const created = options.created ?? new Date();
  const version = options.version ?? Math.floor(created.getTime() / 1000);
  if (!isVersion(version)) throw new Error(`version must be a positive integer (got ${version})`);
  const sources = [...options.sources]
    .map((s) => ({ path: s.path, text: s.text }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const problem = sourcesProblem(sources);
  if (problem !== undefined) throw new Error(problem);
  const audience = options.audience;
  if (audience !== undefined) {
    const bad = audienceProblem(audience);
    if (bad !== undefined) throw new Error(bad);
  }
  const unsigned = {
    format: BUNDLE_FORMAT,
    version,
    created: created.toISOString(),
    keyId: keyIdOf(options.privateKey),
    ...(audience !== undefined ? { audience } : {}),
    contentHash: contentHashOf(sources),
    sources,
  } as const;
  const signature = sign(null, signedBytes(unsigned), options.privateKey).toString('base64');
  return { ...unsigned, signature };
}

/** The bundle as written to disk: pretty JSON (fields in a fixed order) and a newline. */
export function serializeBundle(bundle: PolicyBundle): string {
  const { format, version, created, keyId, audience, contentHash, sources, signature } = bundle;
  const fields = { format, version, created, keyId, audience, contentHash, sources, signature };
  return `${JSON.stringify(fields, null, 2)}\n`;
}

/**
 * Reads the policy and test files of a directory exactly as `weir policy lint DIR` would pick
 * them, with paths relative to `dir`. I/O problems come back as `io` diagnostics.
 */
export function readBundleSources(dir: string): { sources: BundleSource[]; diagnostics: Diagnostic[] } {
  const listed = loadPolicySet(dir);
  const diagnostics = listed.diagnostics.filter((d) => d.code === 'io');
  const sources: BundleSource[] = [];
  for (const file of listed.files) {
    try {
      sources.push({ path: relative(dir, file).split(sep).join('/'), text: readFileSync(file, 'utf8') });
    } catch (err) {
      diagnostics.push({ file, line: 1, col: 1, severity: 'error', code: 'io', message: String(err) });
    }
  }
  return { sources, diagnostics };
}

/** How to check a set: the clock, and whether `expired` findings refuse it. */
export interface CheckSetOptions {
  /** Epoch ms for expiry. */
  readonly now: number;
  /** Let `expired` errors through (the engine never lets an expired rule allow). */
  readonly allowExpired?: boolean;
  /** Prefix of the file names in diagnostics (the bundled directory); default none. */
  readonly dir?: string;
}

/**
 * Loads and lints bundle sources in memory: the same set whether it comes from the directory at
 * bundle time or from the bundle in a server. `errors` are the findings that refuse the set.
 */
export function checkBundleSources(
  sources: readonly BundleSource[],
  options: CheckSetOptions,
): { set: PolicySet; report: LintReport; errors: Diagnostic[] } {
  const policySources: PolicySource[] = sources.map((s) => ({
    file: options.dir !== undefined ? join(options.dir, s.path) : s.path,
    text: s.text,
    inTests: s.path.split('/').slice(0, -1).includes('tests'),
  }));
  const loaded = loadPolicySources(policySources);
  const report = lintPolicySet(loaded.set, loaded.diagnostics, { now: options.now });
  const errors = report.diagnostics.filter(
    (d) => d.severity === 'error' && !(options.allowExpired === true && d.code === 'expired'),
  );
  return { set: loaded.set, report, errors };
}

// ---------------------------------------------------------------------------------------------
// Reading

const BUNDLE_KEYS = [
  'format',
  'version',
  'created',
  'keyId',
  'audience',
  'contentHash',
  'sources',
  'signature',
];
const HASH = /^sha256:[0-9a-f]{64}$/;
const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

function isVersion(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function fail(code: BundleFailureCode, reason: string, diagnostics?: readonly Diagnostic[]): BundleFailure {
  return diagnostics === undefined ? { ok: false, code, reason } : { ok: false, code, reason, diagnostics };
}

function pathProblem(path: string): string | undefined {
  const segments = path.split('/');
  if (
    path.length === 0 ||
    path.includes('\\') ||
    path.includes('\0') ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    return `source path '${path}' is not a relative path inside the bundled directory`;
  }
  if (!/\.ya?ml$/i.test(path)) return `source path '${path}' is not a .yaml/.yml file`;
  return undefined;
}

function sourcesProblem(sources: readonly BundleSource[]): string | undefined {
  if (sources.length === 0) return 'the bundle holds no policy files';
  let previous: string | undefined;
  for (const s of sources) {
    const problem = pathProblem(s.path);
    if (problem !== undefined) return problem;
    if (previous !== undefined && !(previous < s.path)) {
      return previous === s.path
        ? `source path '${s.path}' appears twice`
        : `sources are not sorted by path ('${previous}' before '${s.path}')`;
    }
    previous = s.path;
  }
  return undefined;
}

function shapeProblem(o: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(o).filter((k) => !BUNDLE_KEYS.includes(k));
  if (unknown.length > 0) return `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`;
  if (!isVersion(o.version)) return 'version is not a positive integer';
  if (typeof o.created !== 'string' || Number.isNaN(Date.parse(o.created))) {
    return 'created is not an ISO 8601 time';
  }
  if (typeof o.keyId !== 'string' || !HASH.test(o.keyId)) return 'keyId is not sha256:<64 hex>';
  if (o.audience !== undefined) {
    if (typeof o.audience !== 'string') return 'audience is not a string';
    const bad = audienceProblem(o.audience);
    if (bad !== undefined) return bad;
  }
  if (typeof o.contentHash !== 'string' || !HASH.test(o.contentHash)) {
    return 'contentHash is not sha256:<64 hex>';
  }
  // Canonical base64 only: the last character has spare bits, so several spellings decode to
  // the same 64 bytes, and a bundle file should have one.
  if (
    typeof o.signature !== 'string' ||
    !BASE64_SIGNATURE.test(o.signature) ||
    Buffer.from(o.signature, 'base64').toString('base64') !== o.signature
  ) {
    return 'signature is not a base64 Ed25519 signature (64 bytes)';
  }
  if (!Array.isArray(o.sources)) return 'sources is not a list';
  for (const [i, s] of o.sources.entries()) {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return `sources[${i}] is not an object`;
    const keys = Object.keys(s).sort().join(',');
    if (keys !== 'path,text') return `sources[${i}] must have exactly path and text`;
    const { path, text } = s as Record<string, unknown>;
    if (typeof path !== 'string' || typeof text !== 'string') {
      return `sources[${i}] path and text must be strings`;
    }
  }
  return sourcesProblem(o.sources as BundleSource[]);
}

/** What {@link verifyBundle} and {@link openBundle} check beyond the signature. */
export interface VerifyOptions {
  /** The version in force: a bundle must be newer. */
  readonly current?: number;
  /**
   * The verifying server's audience (`--bundle-audience`). A bundle must name exactly it;
   * absent: only bundles that name no audience are taken.
   */
  readonly audience?: string;
}

/**
 * Parses and verifies a bundle: JSON, format, shape, content hash, key, signature, and (given
 * `current`) that it is newer. Does not look at the policies; see {@link openBundle}.
 */
export function verifyBundle(
  bytes: Uint8Array | string,
  trusted: TrustedKeys,
  options: VerifyOptions = {},
): { ok: true; bundle: PolicyBundle } | BundleFailure {
  let parsed: unknown;
  try {
    const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    parsed = JSON.parse(text);
  } catch (err) {
    // A truncated or corrupted download ends here.
    return fail('bad-json', `not a bundle: bad JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('bad-json', 'not a bundle: the JSON is not an object');
  }
  const o = parsed as Record<string, unknown>;
  if (o.format !== BUNDLE_FORMAT) {
    return fail(
      'unknown-format',
      `unknown format ${JSON.stringify(o.format ?? null)} (this Weir reads ${BUNDLE_FORMAT})`,
    );
  }
  const problem = shapeProblem(o);
  if (problem !== undefined) return fail('malformed', `malformed bundle: ${problem}`);
  const bundle = o as unknown as PolicyBundle;

  // The hash alone stops nothing an attacker cannot recompute; it names accidental damage
  // (an edited or re-encoded source) precisely. The signature below is what stops tampering.
  const actual = contentHashOf(bundle.sources);
  if (actual !== bundle.contentHash) {
    return fail(
      'hash-mismatch',
      `hash mismatch: the sources hash to ${actual}, the bundle says ${bundle.contentHash}`,
    );
  }
  // Only keys the operator installed may sign: stops a bundle re-signed with an attacker's own
  // key (which would carry a valid signature and a matching hash).
  const key = trusted.get(bundle.keyId);
  if (key === undefined) return fail('unknown-key', `unknown key ${bundle.keyId}: not a trusted public key`);
  // The signature covers version, created, hash and every source: stops any edit to them, a
  // signature lifted from another bundle, and a keyId swapped to name a trusted key.
  if (!verify(null, signedBytes(bundle), key, Buffer.from(bundle.signature, 'base64'))) {
    return fail('signature-invalid', `signature invalid: not signed by key ${bundle.keyId}`);
  }
  const audience = audienceFailure(bundle.audience, options.audience);
  if (audience !== undefined) return audience;
  // A valid signature never expires, so an old bundle stays valid forever: the version check
  // stops replaying it (rollback) to bring back rules that were removed since.
  if (options.current !== undefined && bundle.version <= options.current) {
    return fail(
      'not-newer',
      `version ${bundle.version} is not newer than the current version ${options.current} (replay or rollback)`,
    );
  }
  return { ok: true, bundle };
}

/**
 * Checked after the signature, so the audience named is the signer's. Stops a bundle signed for
 * one fleet (staging) being applied to another (production) that trusts the same key. A server
 * without an audience takes only bundles without one: a bundle made for a named audience is
 * never meant for a server that did not say it is that audience.
 */
function audienceFailure(bundle: string | undefined, server: string | undefined): BundleFailure | undefined {
  if (bundle === server) return undefined;
  if (server === undefined) {
    return fail(
      'wrong-audience',
      `the bundle is for audience '${bundle ?? ''}'; this server has no audience (weir serve --bundle-audience ${bundle ?? 'NAME'} takes it)`,
    );
  }
  if (bundle === undefined) {
    return fail(
      'wrong-audience',
      `the bundle names no audience; this server (--bundle-audience ${server}) takes only bundles made with weir policy bundle --audience ${server}`,
    );
  }
  return fail(
    'wrong-audience',
    `the bundle is for audience '${bundle}', this server is '${server}' (--bundle-audience)`,
  );
}

/** {@link VerifyOptions} and the clock for the set's expiry. */
export interface OpenOptions extends VerifyOptions {
  /** Epoch ms; default `Date.now()`. */
  readonly now?: number;
}

/**
 * Verifies a bundle ({@link verifyBundle}) and loads its set, refusing one with load or lint
 * errors. `expired` findings do not refuse it: time alone must not turn a signed bundle
 * unloadable (a restarted server would have no policy), and the engine never lets an expired
 * rule allow.
 */
export function openBundle(
  bytes: Uint8Array | string,
  trusted: TrustedKeys,
  options: OpenOptions = {},
): ({ ok: true } & LoadedBundle) | BundleFailure {
  const verified = verifyBundle(bytes, trusted, options);
  if (!verified.ok) return verified;
  const { set, report, errors } = checkBundleSources(verified.bundle.sources, {
    now: options.now ?? Date.now(),
    allowExpired: true,
  });
  if (errors.length > 0) {
    const first = errors[0];
    const where =
      first === undefined ? '' : `; first: ${first.file}:${first.line}:${first.col}: ${first.message}`;
    return fail(
      'invalid-policy',
      `the policy set has ${errors.length} error${errors.length === 1 ? '' : 's'}${where}`,
      errors,
    );
  }
  return { ok: true, bundle: verified.bundle, set, diagnostics: report.diagnostics };
}
