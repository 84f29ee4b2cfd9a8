import { describe, it, expect } from 'vitest';
import { parseTagSpecifications, validateTagKey, validateTags, validateTagValue } from './tags.js';
import type { TagInput } from './tags.js';
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

const many = (n: number): TagInput[] =>
  Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));

describe('validateTags', () => {
  it.each([
    [[{ Key: 'Name', Value: 'web' }], [{ key: 'Name', value: 'web' }]],
    [[{ Key: 'Name' }], [{ key: 'Name', value: '' }]],
    [
      [
        { Key: 'owner', Value: 'team-payments@example.com' },
        { Key: 'awsome', Value: '' },
        { Key: 'x:aws:', Value: 'ok' },
      ],
      [
        { key: 'owner', value: 'team-payments@example.com' },
        { key: 'awsome', value: '' },
        { key: 'x:aws:', value: 'ok' },
      ],
    ],
    [[{ Key: 'k'.repeat(127), Value: 'v'.repeat(256) }], [{ key: 'k'.repeat(127), value: 'v'.repeat(256) }]],
    // Lengths count characters, not UTF-16 units.
    [
      [{ Key: '🔑'.repeat(127), Value: 'é'.repeat(256) }],
      [{ key: '🔑'.repeat(127), value: 'é'.repeat(256) }],
    ],
    [[], []],
  ])('accepts %j', (input, expected) => {
    expect(validateTags(input)).toEqual(expected);
  });

  it('accepts 50 tags', () => {
    expect(validateTags(many(50))).toHaveLength(50);
  });

  it.each([
    [
      [{ Key: 'k'.repeat(128) }],
      'InvalidParameterValue',
      'Tag.1.Key is invalid. Tag keys may be at most 127',
    ],
    [[{ Key: 'a', Value: 'v'.repeat(257) }], 'InvalidParameterValue', 'Tag.1.Value is invalid'],
    [
      [{ Key: 'aws:cloudformation:stack-name' }],
      'InvalidParameterValue',
      "Tag keys starting with 'aws:' are reserved for internal use",
    ],
    [
      [{ Key: 'AWS:x' }],
      'InvalidParameterValue',
      "Tag keys starting with 'aws:' are reserved for internal use",
    ],
    [[{ Key: 'Aws:' }], 'InvalidParameterValue', "starting with 'aws:'"],
    [[{ Key: 'ok' }, { Key: '' }], 'InvalidTagKey.Malformed', 'Tag.2.Key must not be empty'],
    [[{ Value: 'orphan' }], 'MissingParameter', 'The request must contain the parameter Tag.1.Key'],
    [
      [
        { Key: 'a', Value: '1' },
        { Key: 'a', Value: '2' },
      ],
      'InvalidParameterValue',
      "Duplicate tag key 'a'",
    ],
    [many(51), 'TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.'],
  ])('rejects %#: %s', (input, code, message) => {
    const err = ec2ErrorOf(() => validateTags(input));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it('exposes key and value checks for DeleteTags-style callers', () => {
    expect(validateTagKey('env')).toBe('env');
    expect(validateTagValue(undefined)).toBe('');
    expect(ec2ErrorOf(() => validateTagKey('aws:x', 'Tag.3.Key')).message).toContain('Tag.3.Key');
  });
});

describe('parseTagSpecifications', () => {
  it.each([
    [undefined, []],
    [[], []],
    [
      [
        {
          ResourceType: 'security-group-rule',
          Tags: [{ Key: 'policy', Value: 'payments-checkout' }, { Key: 'x' }],
        },
      ],
      [
        { key: 'policy', value: 'payments-checkout' },
        { key: 'x', value: '' },
      ],
    ],
  ])('accepts %j', (specs, expected) => {
    expect(parseTagSpecifications(specs, 'security-group-rule')).toEqual(expected);
  });

  it.each([
    [
      [{ ResourceType: 'vpc', Tags: [{ Key: 'a' }] }],
      'InvalidParameterValue',
      "'vpc' is not a valid taggable resource type for this operation.",
    ],
    [[{ Tags: [{ Key: 'a' }] }], 'MissingParameter', 'TagSpecification.1.ResourceType'],
    [
      [{ ResourceType: 'security-group' }],
      'InvalidParameterValue',
      'Tag specification must have at least one tag',
    ],
    [
      [{ ResourceType: 'security-group', Tags: [] }],
      'InvalidParameterValue',
      'Tag specification must have at least one tag',
    ],
    [
      [
        { ResourceType: 'security-group', Tags: [{ Key: 'a' }] },
        { ResourceType: 'security-group', Tags: [{ Key: 'b' }] },
      ],
      'InvalidParameterValue',
      'may not be specified more than once',
    ],
    [
      [{ ResourceType: 'security-group', Tags: [{ Key: 'a' }, { Key: 'a' }] }],
      'InvalidParameterValue',
      "Duplicate tag key 'a' specified in TagSpecification.1.Tag.",
    ],
    [
      [{ ResourceType: 'security-group', Tags: [{ Key: 'ok' }, { Key: 'aws:x' }] }],
      'InvalidParameterValue',
      'TagSpecification.1.Tag.2.Key',
    ],
    [[{ ResourceType: 'security-group', Tags: many(51) }], 'TagLimitExceeded', 'maximum number of Tags'],
  ])('rejects %#: %s', (specs, code, message) => {
    const err = ec2ErrorOf(() => parseTagSpecifications(specs, 'security-group'));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });
});
