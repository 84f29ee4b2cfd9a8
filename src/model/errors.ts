/**
 * @module model/errors — Weir's error classes. Every EC2-facing error carries its EC2 code and
 * HTTP status from one table, so the API layer never guesses a status and a test can walk
 * every code.
 */

/** Base class of every error Weir raises on purpose. Callers branch on `code`, never on text. */
export class WeirError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'WeirError';
  }
}

/** EC2 error codes Weir answers with, and the HTTP status EC2 uses for each. */
export const EC2_ERROR_STATUS = {
  // Request shape and parameters
  InvalidAction: 400,
  UnknownParameter: 400,
  MissingParameter: 400,
  InvalidParameter: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  ValidationError: 400,
  InvalidRequest: 400,
  InvalidNextToken: 400,
  InvalidFilter: 400,
  FilterLimitExceeded: 400,
  // Authentication (SigV4) and authorization
  AuthFailure: 401,
  MissingAuthenticationToken: 401,
  IncompleteSignature: 400,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
  UnauthorizedOperation: 403,
  OptInRequired: 401,
  // DryRun success is an error response, by EC2's design
  DryRunOperation: 412,
  // Security groups and rules
  'InvalidGroup.NotFound': 400,
  'InvalidGroupId.Malformed': 400,
  'InvalidGroup.Duplicate': 400,
  'InvalidGroup.Reserved': 400,
  CannotDelete: 400,
  'InvalidPermission.Duplicate': 400,
  'InvalidPermission.NotFound': 400,
  'InvalidPermission.Malformed': 400,
  'InvalidSecurityGroupRuleId.NotFound': 400,
  'InvalidSecurityGroupRuleId.Malformed': 400,
  RulesPerSecurityGroupLimitExceeded: 400,
  SecurityGroupLimitExceeded: 400,
  DependencyViolation: 400,
  // VPCs
  'InvalidVpcID.NotFound': 400,
  'InvalidVpcId.Malformed': 400,
  VpcLimitExceeded: 400,
  VPCIdNotSpecified: 400,
  'InvalidVpc.Range': 400,
  // Prefix lists
  'InvalidPrefixListID.NotFound': 400,
  'InvalidPrefixListId.Malformed': 400,
  InvalidPrefixListModification: 400,
  PrefixListVersionMismatch: 400,
  PrefixListMaxEntriesExceeded: 400,
  IncorrectState: 400,
  // A request EC2 understands but does not carry out on this resource (AWS-managed prefix lists).
  UnsupportedOperation: 400,
  // Tags and resource IDs
  InvalidID: 400,
  'InvalidTagKey.Malformed': 400,
  TagLimitExceeded: 400,
  // Server side
  InternalError: 500,
  ServiceUnavailable: 503,
  /** Throttled; SDKs retry it with backoff. Weir: the body budget of the API is spent. */
  RequestLimitExceeded: 503,
} as const satisfies Record<string, number>;

export type Ec2ErrorCode = keyof typeof EC2_ERROR_STATUS;

/** An error the EC2 API returns to the caller as `<Response><Errors><Error>…`. */
export class Ec2Error extends WeirError {
  declare readonly code: Ec2ErrorCode;
  readonly status: number;
  constructor(code: Ec2ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'Ec2Error';
    this.status = EC2_ERROR_STATUS[code];
  }
}

/** Shorthand for `new Ec2Error(...)` where an expression is wanted. */
export function ec2Error(code: Ec2ErrorCode, message: string): Ec2Error {
  return new Ec2Error(code, message);
}
