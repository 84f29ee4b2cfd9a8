/**
 * @module policy/plan — what `weir policy plan` / `apply` compute, without I/O: the desired
 * security groups of a policy set (one per policy, one egress rule per destination × port
 * range, intent in description and tags), the diff against the groups an EC2 endpoint holds,
 * and the plan's text and JSON renderings. The CLI (cli/policy-plan) reads and writes EC2.
 *
 * The door of the plan core: plan-model (tags, names, rule shapes and identity), plan-desired
 * (policy set → desired groups), plan-diff (desired vs current → plan), plan-format (text, JSON).
 */
export {
  canonicalProtocol,
  FQDN_FAMILIES,
  FQDN_LIST_MAX_ENTRIES,
  FQDN_LIST_PREFIX,
  fqdnListName,
  formatRule,
  GROUP_PREFIX,
  refKey,
  ruleIdentity,
  TAG,
} from './plan-model.js';
export type {
  CurrentGroup,
  CurrentRule,
  DesiredGroup,
  DesiredRule,
  EgressRule,
  FqdnList,
  ManagedFqdnList,
  RuleTarget,
} from './plan-model.js';
export {
  desiredState,
  fqdnNames,
  namedRefs,
  ruleDescription,
  ruleOriginTags,
  sanitizeDescription,
} from './plan-desired.js';
export type { DesiredOptions, DesiredState } from './plan-desired.js';
export { defaultEgressRules, diffRules, diffState, hasChanges } from './plan-diff.js';
export type { DiffOptions, GroupPlan, Plan, RuleChange } from './plan-diff.js';
export { formatPlanJson, formatPlanText } from './plan-format.js';
