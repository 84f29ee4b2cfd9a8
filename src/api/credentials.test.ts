/** @module api/credentials.test — credentials file parsing, rendering, key generation, KeyRing. */

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeirError } from '../model/index.js';
import {
  type AccessKey,
  DEFAULT_ACCOUNT_ID,
  KeyRing,
  generateAccessKey,
  parseCredentialsFile,
  renderCredentialsFile,
} from './credentials.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

function parseError(text: string): WeirError {
  try {
    parseCredentialsFile(text, 'creds');
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe('CREDENTIALS_INVALID');
    return err as WeirError;
  }
  throw new Error('expected parseCredentialsFile to throw');
}

describe('parseCredentialsFile', () => {
  it('reads profiles with comments, blank lines, spacing, CRLF, case and defaults', () => {
    const text = [
      '# Weir keys',
      '; another comment',
      '',
      '[weir]',
      'aws_access_key_id=AKIAIOSFODNN7EXAMPLE',
      '  aws_secret_access_key   =   ' + SECRET + '  ',
      '',
      '[ ops ]',
      'AWS_ACCESS_KEY_ID = AKIAOPS0000000000001',
      'aws_secret_access_key = abcdefghijklmnopqrstuvwxyz0123456789+/AB',
      'weir_account_id = 000011112222',
      'weir_role = readonly',
      'region = eu-west-1',
      'aws_session_token = ignored',
      '',
      '[only-region]',
      'region = us-east-1',
    ].join('\r\n');
    expect(parseCredentialsFile(text, 'creds')).toEqual([
      {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: SECRET,
        accountId: DEFAULT_ACCOUNT_ID,
        role: 'admin',
        profile: 'weir',
        principal: 'weir',
      },
      {
        accessKeyId: 'AKIAOPS0000000000001',
        secretAccessKey: 'abcdefghijklmnopqrstuvwxyz0123456789+/AB',
        accountId: '000011112222',
        role: 'readonly',
        profile: 'ops',
        principal: 'ops',
      },
    ]);
  });

  it('returns no keys for an empty file', () => {
    expect(parseCredentialsFile('', 'creds')).toEqual([]);
    expect(parseCredentialsFile('# nothing\n\n', 'creds')).toEqual([]);
  });

  const key = (id: string, extra = ''): string =>
    `aws_access_key_id = ${id}\naws_secret_access_key = ${SECRET}\n${extra}`;

  it.each([
    [
      'missing secret',
      '[p]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n',
      "creds:2: profile [p] has no aws_secret_access_key; add 'aws_secret_access_key = …' to it",
    ],
    [
      'secret without id',
      `[p]\n\naws_secret_access_key = ${SECRET}\n`,
      'creds:3: profile [p] has aws_secret_access_key but no aws_access_key_id; add it',
    ],
    [
      'bad account id',
      `[p]\n${key('AKIAIOSFODNN7EXAMPLE', 'weir_account_id = 12345\n')}`,
      "creds:4: weir_account_id must be exactly 12 digits (like 123456789012), got '12345'",
    ],
    [
      'bad role',
      `[p]\n${key('AKIAIOSFODNN7EXAMPLE', 'weir_role = root\n')}`,
      "creds:4: weir_role must be 'admin', 'approver' or 'readonly', got 'root'",
    ],
    [
      'duplicate access key id',
      `[a]\n${key('AKIAIOSFODNN7EXAMPLE')}\n[b]\n${key('AKIAIOSFODNN7EXAMPLE')}`,
      'creds:6: access key id AKIAIOSFODNN7EXAMPLE is already used on line 2; each key needs its own id',
    ],
    [
      'duplicate profile',
      `[a]\n${key('AKIAIOSFODNN7EXAMPLE')}[a]\n`,
      'creds:4: profile [a] is already defined on line 1; merge or rename one of them',
    ],
    [
      'duplicate key in a profile',
      `[a]\n${key('AKIAIOSFODNN7EXAMPLE', 'weir_role = admin\nweir_role = readonly\n')}`,
      "creds:5: 'weir_role' is already set on line 4 in profile [a]; keep one",
    ],
    [
      'key before any section',
      `# c\n${key('AKIAIOSFODNN7EXAMPLE')}`,
      "creds:2: 'aws_access_key_id' appears before any [profile] section; add a [profile-name] line above it",
    ],
    ['malformed section', '[weir\n', "creds:1: malformed section header '[weir'; write it as [profile-name]"],
    ['empty section', '[ ]\n', "creds:1: malformed section header '[ ]'; write it as [profile-name]"],
    [
      'line without =',
      '[a]\naws_access_key_id AKIA\n',
      "creds:2: expected 'key = value' or '[profile]', got a line without '='",
    ],
    [
      'misspelt weir key',
      `[a]\n${key('AKIAIOSFODNN7EXAMPLE', 'weir_rol = admin\n')}`,
      "creds:4: unknown key 'weir_rol'; Weir reads weir_account_id, weir_role, weir_principal and weir_breakglass_totp",
    ],
    [
      'access key id with a slash',
      `[a]\n${key('AKIA/EXAMPLE')}`,
      "creds:2: aws_access_key_id must be 1-128 letters, digits or '_' (like AKIAIOSFODNN7EXAMPLE)",
    ],
  ])('%s', (_name, text, message) => {
    expect(parseError(text).message).toBe(message);
  });

  it('reads the principal, the approver role and the break-glass secret', () => {
    const text = [
      '[dev]',
      key('AKIADEV0000000000001', 'weir_role = readonly\nweir_principal = dev@example.com\n'),
      '[lead]',
      key(
        'AKIALEAD000000000001',
        'weir_role = approver\nweir_principal = lead@example.com\nweir_breakglass_totp = gezd gnbv gy3t qojq gezd gnbv gy3t qojq\n',
      ),
    ].join('\n');
    const [dev, lead] = parseCredentialsFile(text, 'creds');
    expect(dev).toMatchObject({ role: 'readonly', principal: 'dev@example.com', profile: 'dev' });
    expect(dev?.breakglassTotp).toBeUndefined();
    expect(lead).toMatchObject({
      role: 'approver',
      principal: 'lead@example.com',
      // RFC 6238's test secret "12345678901234567890", as an app shows it (grouped, lower case).
      breakglassTotp: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
    });
    const back = parseCredentialsFile(renderCredentialsFile([dev!, lead!]), 'again');
    expect(back).toEqual([dev, lead]);
  });

  it.each([
    ['a principal with a space', 'weir_principal = dev example\n', /weir_principal must be 1-128 letters/],
    [
      'a short break-glass secret',
      'weir_breakglass_totp = ABCDEFG\n',
      /weir_breakglass_totp must be a base32 secret/,
    ],
    ['a break-glass secret outside base32', `weir_breakglass_totp = ${'1'.repeat(32)}\n`, /base32/],
  ])('refuses %s, naming the line', (_name, extra, message) => {
    const err = parseError(`[a]\n${key('AKIAIOSFODNN7EXAMPLE', extra)}`);
    expect(err.message).toMatch(/^creds:4: /);
    expect(err.message).toMatch(message);
  });

  it('rejects a short secret without echoing it', () => {
    const err = parseError(
      '[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = hunter2\n',
    );
    expect(err.message).toMatch(/^creds:3: aws_secret_access_key must be at least 16 characters/);
    expect(err.message).not.toContain('hunter2');
  });
});

describe('generateAccessKey', () => {
  it('makes AWS-shaped ids and secrets with the first-start defaults', () => {
    const key = generateAccessKey(randomBytes);
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(key).toMatchObject({ profile: 'weir', role: 'admin', accountId: '123456789012' });
    expect(generateAccessKey(randomBytes).accessKeyId).not.toBe(key.accessKeyId);
  });

  it('encodes the random bytes deterministically', () => {
    const zeros = generateAccessKey((n) => new Uint8Array(n));
    expect(zeros.accessKeyId).toBe('AKIAAAAAAAAAAAAAAAAA');
    expect(zeros.secretAccessKey).toBe('A'.repeat(40));
    const ones = generateAccessKey((n) => new Uint8Array(n).fill(0xff), { profile: 'ro', role: 'readonly' });
    expect(ones.accessKeyId).toBe('AKIA7777777777777777');
    expect(ones.secretAccessKey).toBe('/'.repeat(40));
    expect(ones).toMatchObject({ profile: 'ro', role: 'readonly' });
  });

  it('has the AWS shape for any random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 40 }), (bytes) => {
        let offset = 0;
        const key = generateAccessKey((n) => bytes.slice(offset, (offset += n)));
        expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
        expect(key.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
      }),
    );
  });
});

describe('renderCredentialsFile', () => {
  it('writes a commented file the parser reads back', () => {
    const key = generateAccessKey(randomBytes);
    const text = renderCredentialsFile([key]);
    expect(text).toMatch(/^# Weir access keys, in the AWS shared-credentials format\./);
    expect(text).toContain('\n[weir]\n');
    expect(text).toContain('mode 0600');
    expect(parseCredentialsFile(text, 'x')).toEqual([key]);
  });

  it('round-trips any set of generated keys', () => {
    const profile = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);
    const entry = fc.record({
      profile,
      accountId: fc.stringMatching(/^\d{12}$/),
      role: fc.constantFrom<'admin' | 'readonly'>('admin', 'readonly'),
      seed: fc.uint8Array({ minLength: 40, maxLength: 40 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.profile, maxLength: 8 }), (entries) => {
        const keys: AccessKey[] = entries.map(({ seed, ...options }) => {
          let offset = 0;
          return generateAccessKey((n) => seed.slice(offset, (offset += n)), options);
        });
        fc.pre(new Set(keys.map((k) => k.accessKeyId)).size === keys.length);
        expect(parseCredentialsFile(renderCredentialsFile(keys), 'x')).toEqual(keys);
      }),
    );
  });

  it.each([
    ['a profile name with a bracket', { profile: 'a]b' }],
    ['a profile name with a newline', { profile: 'a\nb' }],
  ])('refuses %s', (_name, override) => {
    const key = { ...generateAccessKey(randomBytes), ...override };
    expect(() => renderCredentialsFile([key])).toThrow(WeirError);
  });

  it('refuses two keys in one profile', () => {
    expect(() =>
      renderCredentialsFile([generateAccessKey(randomBytes), generateAccessKey(randomBytes)]),
    ).toThrow(/profile \[weir\] appears twice/);
  });
});

describe('KeyRing', () => {
  it('looks keys up by access key id', () => {
    const a = generateAccessKey(randomBytes);
    const b = generateAccessKey(randomBytes, { profile: 'b', role: 'readonly' });
    const ring = new KeyRing([a, b]);
    expect(ring.size).toBe(2);
    expect(ring.get(a.accessKeyId)).toEqual(a);
    expect(ring.get(b.accessKeyId)?.role).toBe('readonly');
    expect(ring.get('AKIANOTTHERE')).toBeUndefined();
    expect([...ring.keys()].map((k) => k.profile)).toEqual(['weir', 'b']);
  });

  it('refuses duplicate ids', () => {
    const a = generateAccessKey(randomBytes);
    expect(() => new KeyRing([a, { ...a, profile: 'other' }])).toThrow(/defined twice/);
  });
});
