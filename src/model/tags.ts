/**
 * @module model/tags — tag validation for CreateTags and `TagSpecification.N` on create
 * actions: key and value lengths, the reserved `aws:` namespace, duplicates, the per-resource
 * limit, and which resource type an action may tag.
 */

import { Ec2Error } from './errors.js';
import type { Tag } from './types.js';

/** Most tags one resource may carry. */
export const MAX_TAGS_PER_RESOURCE = 50;
/** Longest tag key, in characters. */
export const MAX_TAG_KEY_LENGTH = 127;
/** Longest tag value, in characters. */
export const MAX_TAG_VALUE_LENGTH = 256;

/** A tag as the query parser produces it (botocore `Tag`). */
export interface TagInput {
  readonly Key?: string;
  readonly Value?: string;
}

/** A tag specification as the query parser produces it (botocore `TagSpecification`). */
export interface TagSpecificationInput {
  readonly ResourceType?: string;
  readonly Tags?: readonly TagInput[];
}

// Lengths count Unicode code points, not UTF-16 units, as EC2 counts characters.
const charLength = (s: string): number => [...s].length;

/**
 * Returns `key` when it is a valid tag key: 1–127 characters, not starting with `aws:` in any
 * case (that namespace belongs to AWS-managed tags, which callers must not forge).
 * @throws Ec2Error MissingParameter when absent, InvalidTagKey.Malformed when empty,
 * InvalidParameterValue when too long or reserved.
 */
export function validateTagKey(key: string | undefined, param = 'Tag.Key'): string {
  if (key === undefined)
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${param}`);
  if (key === '') throw new Ec2Error('InvalidTagKey.Malformed', `The tag key in ${param} must not be empty.`);
  if (charLength(key) > MAX_TAG_KEY_LENGTH) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${key}) for parameter ${param} is invalid. Tag keys may be at most ${MAX_TAG_KEY_LENGTH} characters long.`,
    );
  }
  if (key.toLowerCase().startsWith('aws:')) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${key}) for parameter ${param} is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
    );
  }
  return key;
}

/**
 * Returns `value` (default `''`) when it is a valid tag value: at most 256 characters.
 * @throws Ec2Error InvalidParameterValue when too long.
 */
export function validateTagValue(value: string | undefined, param = 'Tag.Value'): string {
  const v = value ?? '';
  if (charLength(v) > MAX_TAG_VALUE_LENGTH) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value for parameter ${param} is invalid. Tag values may be at most ${MAX_TAG_VALUE_LENGTH} characters long.`,
    );
  }
  return v;
}

/**
 * Validates the tags of one CreateTags call or one tag specification and returns them as
 * domain tags, in input order, a missing value becoming `''`.
 * @param param the query prefix of the list, for messages (`Tag`, `TagSpecification.1.Tag`).
 * @throws Ec2Error on an invalid key or value, InvalidParameterValue on a repeated key,
 * TagLimitExceeded on more than 50 tags.
 */
export function validateTags(tags: readonly TagInput[], param = 'Tag'): Tag[] {
  const out: Tag[] = [];
  const seen = new Set<string>();
  tags.forEach((t, i) => {
    const key = validateTagKey(t.Key, `${param}.${i + 1}.Key`);
    const value = validateTagValue(t.Value, `${param}.${i + 1}.Value`);
    if (seen.has(key)) {
      throw new Ec2Error('InvalidParameterValue', `Duplicate tag key '${key}' specified in ${param}.`);
    }
    seen.add(key);
    out.push({ key, value });
  });
  if (out.length > MAX_TAGS_PER_RESOURCE) {
    throw new Ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
  }
  return out;
}

/**
 * Validates `TagSpecification.N` of a create action and returns the tags for the one resource
 * type that action creates (empty when there are no specifications).
 * @param allowedResourceType the type the action creates: `security-group` for
 * CreateSecurityGroup, `security-group-rule` for Authorize*, `vpc`, `prefix-list`.
 * @throws Ec2Error InvalidParameterValue for another resource type, a type given twice, an
 * empty tag list or a repeated key; MissingParameter when ResourceType is absent.
 */
export function parseTagSpecifications(
  specs: readonly TagSpecificationInput[] | undefined,
  allowedResourceType: string,
): Tag[] {
  if (specs === undefined || specs.length === 0) return [];
  let tags: Tag[] | undefined;
  for (const [i, spec] of specs.entries()) {
    const param = `TagSpecification.${i + 1}`;
    if (spec.ResourceType === undefined || spec.ResourceType === '') {
      throw new Ec2Error('MissingParameter', `The request must contain the parameter ${param}.ResourceType`);
    }
    if (spec.ResourceType !== allowedResourceType) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `'${spec.ResourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
    if (tags !== undefined) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `The same resource type may not be specified more than once in tag specifications (${param}).`,
      );
    }
    if (spec.Tags === undefined || spec.Tags.length === 0) {
      throw new Ec2Error('InvalidParameterValue', 'Tag specification must have at least one tag');
    }
    tags = validateTags(spec.Tags, `${param}.Tag`);
  }
  return tags ?? [];
}
