/**
 * @module api/credentials — Weir's access keys: parsing and writing the AWS shared-credentials
 * file (with Weir's `weir_account_id` / `weir_role` keys), generating new keys, and the
 * `KeyRing` the SigV4 verifier looks keys up in. Pure: reading and writing files is the caller's.
 */

import { WeirError } from '../model/index.js';

/**
 * Who a caller acting with an access key is allowed to be:
 * - `readonly`: reads, and may *request* exceptions (a request grants nothing);
 * - `approver`: reads, and approves or denies exceptions (writes nothing else);
 * - `admin`: everything.
 */
export type Role = 'admin' | 'approver' | 'readonly';

/** Every role, in the order of what it may do. */
export const ROLES: readonly Role[] = ['readonly', 'approver', 'admin'];

/** One access key, as loaded from a credentials file or generated on first start. */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The 12-digit account the key acts in; each account+region is an isolated namespace. */
  readonly accountId: string;
  readonly role: Role;
  /** The `[profile]` section the key came from (or is written to). */
  readonly profile: string;
  /**
   * The person (or system) acting with the key (`weir_principal`, default: the profile name):
   * what the audit trail, exceptions and break-glass sessions name, and what the two-person rule
   * compares. Two keys may share a principal (one person, two keys).
   */
  readonly principal: string;
  /**
   * The RFC 6238 secret (`weir_breakglass_totp`, base32) the principal's break-glass codes are
   * made from; absent: the principal cannot open break-glass sessions.
   */
  readonly breakglassTotp?: string;
}

/** Account a key acts in when its profile does not say. */
export const DEFAULT_ACCOUNT_ID = '123456789012';
/** Role a key has when its profile does not say. */
export const DEFAULT_ROLE: Role = 'admin';
/** Profile Weir writes its first-start admin key to (`aws --profile weir …`). */
export const DEFAULT_PROFILE = 'weir';

const ACCOUNT_ID = /^\d{12}$/;
// Access key ids end up inside the SigV4 credential scope (`AKID/date/region/service/…`) and in
// logs; restricting them to word characters keeps a `/` or newline from forging scope fields.
const ACCESS_KEY_ID = /^\w{1,128}$/;
// A short secret can be brute-forced offline from a single captured signature (HMAC guessing).
const MIN_SECRET_LENGTH = 16;
const PROFILE_NAME = /^[^\][\r\n]+$/;
// A principal is shown in logs, audit records and notifications: printable, no spaces, bounded.
const PRINCIPAL = /^[\w.@+:/-]{1,128}$/;
// RFC 4648 base32 without padding; RFC 4226 asks for at least 128 bits (26 characters).
const TOTP_SECRET = /^[A-Z2-7]{26,128}$/;

const KNOWN_KEYS = new Set([
  'aws_access_key_id',
  'aws_secret_access_key',
  'weir_account_id',
  'weir_role',
  'weir_principal',
  'weir_breakglass_totp',
]);

interface Draft {
  profile: string;
  line: number;
  values: Map<string, { value: string; line: number }>;
}

/**
 * Parses an AWS shared-credentials file. Sections are `[profile]`; keys are
 * `aws_access_key_id`, `aws_secret_access_key`, `weir_account_id` (12 digits, default
 * `123456789012`) and `weir_role` (`admin` | `readonly`, default `admin`). Other keys (such as
 * `region` or `aws_session_token`) are ignored like the AWS CLI does; an unknown `weir_*` key is a
 * typo and an error. Comments are whole lines starting with `#` or `;` (as in botocore's
 * configparser, `#` later in a line is part of the value). Profiles without an access key are
 * skipped.
 *
 * @throws WeirError `CREDENTIALS_INVALID` with `file:line: what is wrong; how to fix it`. Messages
 *   never contain a secret.
 */
export function parseCredentialsFile(text: string, fileName: string): AccessKey[] {
  const fail = (line: number, message: string): never => {
    throw new WeirError('CREDENTIALS_INVALID', `${fileName}:${line}: ${message}`);
  };
  const drafts: Draft[] = [];
  const profiles = new Map<string, number>();
  let current: Draft | undefined;

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (line.startsWith('[')) {
      const match = /^\[([^\]]*)\]$/.exec(line);
      const name = match?.[1]?.trim() ?? '';
      if (match === null || name === '') {
        fail(lineNo, `malformed section header '${line}'; write it as [profile-name]`);
      }
      const earlier = profiles.get(name);
      if (earlier !== undefined) {
        fail(lineNo, `profile [${name}] is already defined on line ${earlier}; merge or rename one of them`);
      }
      profiles.set(name, lineNo);
      current = { profile: name, line: lineNo, values: new Map() };
      drafts.push(current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      fail(lineNo, `expected 'key = value' or '[profile]', got a line without '='`);
    }
    // configparser lower-cases option names, so `AWS_ACCESS_KEY_ID` works with the AWS CLI too.
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === '') fail(lineNo, `missing key name before '='`);
    if (current === undefined) {
      return fail(
        lineNo,
        `'${key}' appears before any [profile] section; add a [profile-name] line above it`,
      );
    }
    if (key.startsWith('weir_') && !KNOWN_KEYS.has(key)) {
      fail(
        lineNo,
        `unknown key '${key}'; Weir reads weir_account_id, weir_role, weir_principal and weir_breakglass_totp`,
      );
    }
    if (!KNOWN_KEYS.has(key)) return;
    const earlier = current.values.get(key);
    if (earlier !== undefined) {
      fail(
        lineNo,
        `'${key}' is already set on line ${earlier.line} in profile [${current.profile}]; keep one`,
      );
    }
    current.values.set(key, { value, line: lineNo });
  });

  const keys: AccessKey[] = [];
  const byId = new Map<string, number>();
  for (const draft of drafts) {
    const key = keyOfProfile(draft, byId, fail);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

/** The key a profile defines (undefined for a profile without one); `byId` finds reused IDs. */
function keyOfProfile(
  draft: Draft,
  byId: Map<string, number>,
  fail: (line: number, message: string) => never,
): AccessKey | undefined {
  const id = draft.values.get('aws_access_key_id');
  const secret = draft.values.get('aws_secret_access_key');
  const account = draft.values.get('weir_account_id');
  const role = draft.values.get('weir_role');
  const principal = draft.values.get('weir_principal');
  const totp = draft.values.get('weir_breakglass_totp');
  if (id === undefined) {
    if (secret !== undefined) {
      fail(
        secret.line,
        `profile [${draft.profile}] has aws_secret_access_key but no aws_access_key_id; add it`,
      );
    }
    // A profile with only `region` and the like carries no key; skip it as the AWS CLI would.
    return undefined;
  }
  if (!ACCESS_KEY_ID.test(id.value)) {
    fail(id.line, `aws_access_key_id must be 1-128 letters, digits or '_' (like AKIAIOSFODNN7EXAMPLE)`);
  }
  if (secret === undefined) {
    return fail(
      id.line,
      `profile [${draft.profile}] has no aws_secret_access_key; add 'aws_secret_access_key = …' to it`,
    );
  }
  if (secret.value.length < MIN_SECRET_LENGTH || /\s/.test(secret.value)) {
    fail(
      secret.line,
      `aws_secret_access_key must be at least ${MIN_SECRET_LENGTH} characters without spaces; ` +
        `generate one with 'openssl rand -base64 30'`,
    );
  }
  const accountId = account?.value ?? DEFAULT_ACCOUNT_ID;
  if (account !== undefined && !ACCOUNT_ID.test(accountId)) {
    fail(account.line, `weir_account_id must be exactly 12 digits (like 123456789012), got '${accountId}'`);
  }
  const roleValue = role?.value ?? DEFAULT_ROLE;
  if (role !== undefined && !(ROLES as readonly string[]).includes(roleValue)) {
    fail(role.line, `weir_role must be 'admin', 'approver' or 'readonly', got '${roleValue}'`);
  }
  // The profile name is the default principal (it has no brackets or line breaks); one written
  // out is shown in logs, audit records and notifications, so it is held to a plain shape.
  const principalValue = principal?.value ?? draft.profile;
  if (principal !== undefined && !PRINCIPAL.test(principal.value)) {
    fail(
      principal.line,
      `weir_principal must be 1-128 letters, digits or . _ @ + : / - (like dev@example.com), got ` +
        JSON.stringify(principal.value),
    );
  }
  // Authenticator apps show the secret grouped and in lower case; the RFC's alphabet is upper.
  const totpValue = totp?.value.replace(/[\s=]/g, '').toUpperCase();
  if (totp !== undefined && totpValue !== undefined && !TOTP_SECRET.test(totpValue)) {
    fail(
      totp.line,
      `weir_breakglass_totp must be a base32 secret (A-Z, 2-7) of at least 26 characters (128 bits); ` +
        `make one with 'weir breakglass secret'`,
    );
  }
  const earlier = byId.get(id.value);
  if (earlier !== undefined) {
    // Two secrets for one id would make verification depend on which profile won.
    fail(id.line, `access key id ${id.value} is already used on line ${earlier}; each key needs its own id`);
  }
  byId.set(id.value, id.line);
  return {
    accessKeyId: id.value,
    secretAccessKey: secret.value,
    accountId,
    role: roleValue as Role,
    profile: draft.profile,
    principal: principalValue,
    ...(totpValue !== undefined ? { breakglassTotp: totpValue } : {}),
  };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Options for {@link generateAccessKey}; defaults give the first-start admin key. */
export interface GenerateKeyOptions {
  readonly profile?: string;
  readonly accountId?: string;
  readonly role?: Role;
  readonly principal?: string;
}

/**
 * Creates a new access key shaped like AWS's: id `AKIA` + 16 characters of `[A-Z2-7]` (80 random
 * bits) and a 40-character secret of `[A-Za-z0-9+/]` (240 random bits). `randomBytes` must be a
 * CSPRNG (`crypto.randomBytes`); it is passed in so tests can make keys deterministic.
 */
export function generateAccessKey(
  randomBytes: (size: number) => Uint8Array,
  options: GenerateKeyOptions = {},
): AccessKey {
  const idBytes = randomBytes(10);
  const secretBytes = randomBytes(30);
  if (idBytes.length !== 10 || secretBytes.length !== 30) {
    throw new WeirError('INTERNAL', 'randomBytes returned the wrong number of bytes');
  }
  let id = 'AKIA';
  // 10 bytes = 80 bits = exactly 16 base32 digits, so no padding and no bias.
  let acc = 0;
  let bits = 0;
  for (const byte of idBytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      id += BASE32[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  // 30 bytes encode to exactly 40 base64 characters, again without padding.
  const secret = Buffer.from(secretBytes).toString('base64');
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    role: options.role ?? DEFAULT_ROLE,
    profile: options.profile ?? DEFAULT_PROFILE,
    principal: options.principal ?? options.profile ?? DEFAULT_PROFILE,
  };
}

/**
 * Writes keys in the shared-credentials format that {@link parseCredentialsFile} and the AWS CLI
 * read, one `[profile]` per key, with a header saying what the file is. The result holds secrets:
 * write it with mode 0600.
 *
 * @throws WeirError `CREDENTIALS_INVALID` when a profile name or value could not be read back
 *   (brackets or newlines), or two keys share a profile or id.
 */
export function renderCredentialsFile(keys: readonly AccessKey[]): string {
  const out = [
    '# Weir access keys, in the AWS shared-credentials format.',
    '# Use a profile with the AWS CLI or an SDK, for example:',
    '#   AWS_SHARED_CREDENTIALS_FILE=<this file> aws --profile weir --endpoint-url http://127.0.0.1:8484 \\',
    '#     ec2 describe-security-groups',
    '# weir_account_id, weir_role, weir_principal and weir_breakglass_totp are read by Weir only. Anyone holding a secret below can call',
    '# the API as that key: keep this file private (mode 0600).',
  ];
  const profiles = new Set<string>();
  const ids = new Set<string>();
  for (const key of keys) {
    if (!PROFILE_NAME.test(key.profile) || key.profile.trim() !== key.profile) {
      throw new WeirError(
        'CREDENTIALS_INVALID',
        `profile name ${JSON.stringify(key.profile)} cannot be written`,
      );
    }
    if (profiles.has(key.profile)) {
      throw new WeirError('CREDENTIALS_INVALID', `profile [${key.profile}] appears twice`);
    }
    if (ids.has(key.accessKeyId)) {
      throw new WeirError('CREDENTIALS_INVALID', `access key id ${key.accessKeyId} appears twice`);
    }
    if (
      !ACCESS_KEY_ID.test(key.accessKeyId) ||
      /\s/.test(key.secretAccessKey) ||
      key.secretAccessKey === ''
    ) {
      throw new WeirError('CREDENTIALS_INVALID', `access key ${key.accessKeyId} cannot be written`);
    }
    profiles.add(key.profile);
    ids.add(key.accessKeyId);
    out.push(
      '',
      `[${key.profile}]`,
      `aws_access_key_id = ${key.accessKeyId}`,
      `aws_secret_access_key = ${key.secretAccessKey}`,
      `weir_account_id = ${key.accountId}`,
      `weir_role = ${key.role}`,
    );
    if (key.principal !== key.profile) out.push(`weir_principal = ${key.principal}`);
    if (key.breakglassTotp !== undefined) out.push(`weir_breakglass_totp = ${key.breakglassTotp}`);
  }
  return out.join('\n') + '\n';
}

/** The access keys Weir accepts, looked up by access key id. Immutable once built. */
export class KeyRing {
  readonly #byId: ReadonlyMap<string, AccessKey>;

  /** @throws WeirError `CREDENTIALS_INVALID` when two keys share an access key id. */
  constructor(keys: Iterable<AccessKey>) {
    const byId = new Map<string, AccessKey>();
    for (const key of keys) {
      if (byId.has(key.accessKeyId)) {
        throw new WeirError('CREDENTIALS_INVALID', `access key id ${key.accessKeyId} is defined twice`);
      }
      byId.set(key.accessKeyId, Object.freeze({ ...key }));
    }
    this.#byId = byId;
  }

  /** The key with this id, or undefined. */
  get(accessKeyId: string): AccessKey | undefined {
    return this.#byId.get(accessKeyId);
  }

  /** Number of keys. */
  get size(): number {
    return this.#byId.size;
  }

  /** All keys, in the order they were given. */
  keys(): IterableIterator<AccessKey> {
    return this.#byId.values();
  }
}
