import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  isValidRuleDescription,
  validateGroupDescription,
  validateGroupName,
  validateRuleDescription,
} from './text.js';
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

const RULE_CHARS = 'abcxyzABCXYZ0189. _-:/()#,@[]+=;{}!$*';

describe('validateRuleDescription', () => {
  it.each(['', 'Access to London office', 'a'.repeat(255), RULE_CHARS, 'HTTPS to api.stripe.com [pci] #42'])(
    'accepts %j',
    (s) => {
      expect(validateRuleDescription(s)).toBe(s);
      expect(isValidRuleDescription(s)).toBe(true);
    },
  );

  it('accepts & only for rules to IP ranges (opts.cidr)', () => {
    expect(validateRuleDescription('R&D', 'IpRanges.1.Description', { cidr: true })).toBe('R&D');
    expect(isValidRuleDescription('R&D', { cidr: true })).toBe(true);
    expect(isValidRuleDescription('R&D')).toBe(false);
  });

  it.each([
    'a'.repeat(256),
    'R&D',
    'café',
    'tab\there',
    'new\nline',
    '<b>',
    '"q"',
    "it's",
    '%',
    '~',
    '?',
    '|',
    '^',
    '\\',
    '`',
  ])('rejects %j', (s) => {
    expect(isValidRuleDescription(s)).toBe(false);
    const err = ec2ErrorOf(() => validateRuleDescription(s, 'IpPermissions.1.IpRanges.1.Description'));
    expect(err.code).toBe('InvalidParameterValue');
    expect(err.message).toBe(
      'Invalid rule description in IpPermissions.1.IpRanges.1.Description. Valid descriptions are strings ' +
        'less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=;{}!$*',
    );
  });

  it('accepts exactly the strings over the documented set of at most 255 characters', () => {
    const allowed = new Set(RULE_CHARS);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const expected = s.length <= 255 && [...s].every((c) => allowed.has(c) || /[a-zA-Z0-9]/.test(c));
        expect(isValidRuleDescription(s)).toBe(expected);
      }),
    );
  });
});

describe('validateGroupName', () => {
  it.each([
    'web',
    'sg',
    'sgfoo',
    'my-sg-1',
    'SG-upper',
    'R&D',
    'default',
    'a'.repeat(255),
    'team payments: prod (eu)',
  ])('accepts %j', (s) => {
    expect(validateGroupName(s)).toBe(s);
  });

  it.each([
    [undefined, 'MissingParameter', 'The request must contain the parameter GroupName'],
    ['', 'MissingParameter', 'The request must contain the parameter GroupName'],
    ['sg-12345678', 'InvalidParameterValue', 'Group names may not be in the format sg-*.'],
    ['sg-', 'InvalidParameterValue', 'Group names may not be in the format sg-*.'],
    ['a'.repeat(256), 'InvalidParameterValue', 'for parameter GroupName is invalid'],
    ['café', 'InvalidParameterValue', 'for parameter GroupName is invalid'],
    ['a|b', 'InvalidParameterValue', 'from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*'],
  ])('rejects %j with %s', (s, code, message) => {
    const err = ec2ErrorOf(() => validateGroupName(s));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });
});

describe('validateGroupDescription', () => {
  it.each(['R&D egress', 'Managed by Weir', 'a'.repeat(255)])('accepts %j', (s) => {
    expect(validateGroupDescription(s)).toBe(s);
  });

  it.each([
    [undefined, 'MissingParameter', 'The request must contain the parameter GroupDescription'],
    ['', 'MissingParameter', 'The request must contain the parameter GroupDescription'],
    ['a'.repeat(256), 'InvalidParameterValue', 'for parameter GroupDescription is invalid'],
    ['naïve', 'InvalidParameterValue', 'Valid group descriptions are strings of 1 to 255 characters'],
  ])('rejects %j with %s', (s, code, message) => {
    const err = ec2ErrorOf(() => validateGroupDescription(s));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });
});
