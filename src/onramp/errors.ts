/**
 * @module onramp/errors — why the on-ramp refuses a request, approval, denial or revocation: one
 * error with a stable code (the Weir API answers with the same code) and the field at fault.
 */
import { WeirError } from '../model/index.js';

/** The codes of {@link OnrampError}; the Weir API answers each with the same code. */
export type OnrampErrorCode =
  | 'MissingParameter'
  | 'InvalidParameterValue'
  | 'IncorrectState'
  | 'UnauthorizedOperation'
  | 'InvalidException.NotFound';

/** A refusal, naming the field at fault (`ttl`, `to`, `dataClass` …) when there is one. */
export class OnrampError extends WeirError {
  declare readonly code: OnrampErrorCode;
  constructor(
    code: OnrampErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
    this.name = 'OnrampError';
  }
}
