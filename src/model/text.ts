/**
 * @module model/text — the free-text fields EC2 constrains: rule descriptions, security group
 * names and group descriptions, each with the character set EC2 documents for it.
 */

import { Ec2Error } from './errors.js';

/** Longest rule description, group name or group description EC2 accepts. */
export const MAX_TEXT_LENGTH = 255;

/**
 * Characters EC2 documents for rule descriptions: `a-zA-Z0-9. _-:/()#,@[]+=;{}!$*`. Rules to
 * IPv4/IPv6 ranges may also use `&` (the CLI reference lists it for IpRanges and Ipv6Ranges,
 * not for group pairs or prefix lists).
 */
const RULE_DESCRIPTION_CHARS = /^[a-zA-Z0-9. _\-:/()#,@[\]+=;{}!$*]*$/;
const CIDR_RULE_DESCRIPTION_CHARS = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;
/** Characters EC2 documents for group names and descriptions: as above plus `&`. */
const GROUP_TEXT_CHARS = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;

const RULE_DESCRIPTION_SET = 'a-zA-Z0-9. _-:/()#,@[]+=;{}!$*';
const GROUP_TEXT_SET = 'a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*';

/** True when `s` is a valid security group rule description (the empty string included). */
export function isValidRuleDescription(s: string, opts: { cidr?: boolean } = {}): boolean {
  return (
    s.length <= MAX_TEXT_LENGTH && (opts.cidr ? CIDR_RULE_DESCRIPTION_CHARS : RULE_DESCRIPTION_CHARS).test(s)
  );
}

/**
 * Returns `s` when it is a valid rule description: at most 255 characters from
 * `a-zA-Z0-9. _-:/()#,@[]+=;{}!$*` (plus `&` with `opts.cidr`, for rules to IP ranges).
 * @param param where the value came from (e.g. `IpPermissions.1.IpRanges.2.Description`).
 * @throws Ec2Error InvalidParameterValue naming `param`.
 */
export function validateRuleDescription(
  s: string,
  param = 'Description',
  opts: { cidr?: boolean } = {},
): string {
  if (!isValidRuleDescription(s, opts)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Invalid rule description in ${param}. Valid descriptions are strings less than 256 characters ` +
        `from the following set:  ${opts.cidr ? GROUP_TEXT_SET : RULE_DESCRIPTION_SET}`,
    );
  }
  return s;
}

function validateGroupText(s: string | undefined, param: string, what: string): string {
  if (s === undefined || s === '') {
    throw new Ec2Error('MissingParameter', `The request must contain the parameter ${param}`);
  }
  if (s.length > MAX_TEXT_LENGTH || !GROUP_TEXT_CHARS.test(s)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${s}) for parameter ${param} is invalid. Valid ${what} are strings of 1 to 255 characters ` +
        `from the following set:  ${GROUP_TEXT_SET}`,
    );
  }
  return s;
}

/**
 * Returns `s` when it is a valid security group name: 1–255 characters from
 * `a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`, not starting with `sg-` (which would read as an ID).
 * @throws Ec2Error MissingParameter when absent or empty, InvalidParameterValue otherwise.
 */
export function validateGroupName(s: string | undefined, param = 'GroupName'): string {
  const name = validateGroupText(s, param, 'group names');
  if (name.startsWith('sg-')) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${name}) for parameter ${param} is invalid. Group names may not be in the format sg-*.`,
    );
  }
  return name;
}

/**
 * Returns `s` when it is a valid security group description: 1–255 characters from
 * `a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`.
 * @throws Ec2Error MissingParameter when absent or empty, InvalidParameterValue otherwise.
 */
export function validateGroupDescription(s: string | undefined, param = 'GroupDescription'): string {
  return validateGroupText(s, param, 'group descriptions');
}
