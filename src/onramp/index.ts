/**
 * @module onramp — the way from a denial to access that is granted, expiring and recorded:
 * exception requests, their checks, approvals and state; break-glass sessions and their RFC 6238
 * one-time codes; and the grants approved exceptions and open sessions give the engine. The API
 * and the CLI use it; the snapshot source asks it for grants.
 */
export {
  parseExceptionDestination,
  ruleDestination,
  type DestinationCheck,
  type ExceptionDestination,
  type ExceptionDestinationTarget,
} from './destination.js';
export { OnrampError, type OnrampErrorCode } from './errors.js';
export {
  approveException,
  buildExceptionRequest,
  checkText,
  DEFAULT_EXCEPTION_TTL,
  denyException,
  EXCEPTION_VIEW_STATES,
  exceptionRulesFor,
  formatDuration,
  MAX_EXCEPTION_DESTINATIONS,
  newExceptionId,
  parseExceptionTtl,
  parseWindow,
  policiesFor,
  revokeException,
  untilOf,
  viewState,
  type Actor,
  type ExceptionRequestInput,
  type ExceptionRules,
  type ExceptionViewState,
} from './exceptions.js';
export {
  activeExceptionGrants,
  EXCEPTION_EXPIRING_WITHIN_MS,
  exceptionGrant,
  exceptionNotification,
  exceptionPolicyName,
  exceptionRules,
  exceptionsExpiringNotices,
} from './grants.js';
export { promoteYaml, type PromotableException } from './promote.js';
export * from './totp.js';
export * from './breakglass.js';
export * from './breakglass-dest.js';
export * from './code-attempts.js';
