import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  assertPrefixListId,
  assertSecurityGroupId,
  assertSecurityGroupRuleId,
  assertVpcId,
  isPrefixListId,
  isSecurityGroupId,
  isSecurityGroupRuleId,
  isVpcId,
  newResourceId,
  resourceTypeOfId,
} from './ids.js';
import { Ec2Error } from './errors.js';

function ec2ErrorOf(fn: () => unknown): Ec2Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Ec2Error) return e;
    throw e;
  }
  throw new Error('expected an Ec2Error');
}

const counting = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

describe('newResourceId', () => {
  it('is the prefix and 17 lower-case hex digits from the injected bytes', () => {
    expect(newResourceId('sg', counting)).toBe('sg-00010203040506070');
    expect(newResourceId('sgr', () => new Uint8Array(9).fill(0xab))).toBe('sgr-ababababababababa');
  });

  it('always yields a valid ID of its kind', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 9, maxLength: 9 }), (bytes) => {
        expect(isSecurityGroupId(newResourceId('sg', () => bytes))).toBe(true);
        expect(isSecurityGroupRuleId(newResourceId('sgr', () => bytes))).toBe(true);
        expect(isVpcId(newResourceId('vpc', () => bytes))).toBe(true);
        expect(isPrefixListId(newResourceId('pl', () => bytes))).toBe(true);
      }),
    );
  });

  it.each(['', 'SG', 'sg-', 'sg x'])('rejects prefix %j', (prefix) => {
    expect(() => newResourceId(prefix, counting)).toThrow(/prefix/);
  });

  it('rejects a random source that returns too few bytes', () => {
    expect(() => newResourceId('sg', () => new Uint8Array(4))).toThrow(/fewer bytes/);
  });
});

describe('ID validators', () => {
  it.each([
    [isSecurityGroupId, 'sg-1a2b3c4d', true],
    [isSecurityGroupId, 'sg-9a8d7f5c', true],
    [isSecurityGroupId, 'sg-0aad1c26bbeec5c22', true],
    [isSecurityGroupId, 'sg-112233', false],
    [isSecurityGroupId, 'sg-1A2B3C4D', false],
    [isSecurityGroupId, 'sg-1a2b3c4', false],
    [isSecurityGroupId, 'sg-1a2b3c4d5', false],
    [isSecurityGroupId, 'sg-0aad1c26bbeec5c2', false],
    [isSecurityGroupId, 'sg-0aad1c26bbeec5c22a', false],
    [isSecurityGroupId, 'sg-1a2b3c4g', false],
    [isSecurityGroupId, 'sgr-1a2b3c4d', false],
    [isSecurityGroupId, ' sg-1a2b3c4d', false],
    [isSecurityGroupId, 'sg-', false],
    [isSecurityGroupId, '', false],
    [isSecurityGroupRuleId, 'sgr-0123456789abcdef0', true],
    [isSecurityGroupRuleId, 'sgr-01234567', true],
    [isSecurityGroupRuleId, 'sg-01234567', false],
    [isVpcId, 'vpc-766c7513', true],
    [isVpcId, 'vpc-0123456789abcdef0', true],
    [isVpcId, 'vpc-xyz', false],
    [isPrefixListId, 'pl-12345678', true],
    [isPrefixListId, 'pl-0123456789abcdef0', true],
    [isPrefixListId, 'pl-1234', false],
  ])('%o(%j) is %s', (fn, id, valid) => {
    expect(fn(id)).toBe(valid);
  });

  it.each([
    [assertSecurityGroupId, 'sg-bad', 'InvalidGroupId.Malformed', 'sg'],
    [assertSecurityGroupRuleId, 'sgr-bad', 'InvalidSecurityGroupRuleId.Malformed', 'sgr'],
    [assertVpcId, 'vpc-bad', 'InvalidVpcId.Malformed', 'vpc'],
    [assertPrefixListId, 'x', 'InvalidPrefixListId.Malformed', 'pl'],
  ])('%o(%j) throws %s', (fn, id, code, prefix) => {
    const err = ec2ErrorOf(() => fn(id));
    expect(err.code).toBe(code);
    expect(err.status).toBe(400);
    expect(err.message).toBe(`Invalid id: "${id}" (expecting "${prefix}-...")`);
  });

  it('asserts return a valid ID unchanged', () => {
    expect(assertSecurityGroupId('sg-1a2b3c4d')).toBe('sg-1a2b3c4d');
    expect(assertSecurityGroupRuleId('sgr-01234567')).toBe('sgr-01234567');
    expect(assertVpcId('vpc-766c7513')).toBe('vpc-766c7513');
    expect(assertPrefixListId('pl-12345678')).toBe('pl-12345678');
  });
});

describe('resourceTypeOfId', () => {
  it.each([
    ['sg-1a2b3c4d', 'security-group'],
    ['sgr-0123456789abcdef0', 'security-group-rule'],
    ['vpc-766c7513', 'vpc'],
    ['pl-12345678', 'prefix-list'],
    ['acl-12345678', undefined],
    ['i-1234567890abcdef0', undefined],
    ['sg-xyz', undefined],
    ['constructor-12345678', undefined],
    ['', undefined],
  ])('%j -> %s', (id, type) => {
    expect(resourceTypeOfId(id)).toBe(type);
  });
});
