/**
 * @module cli/policy-plan-errors — how `weir policy plan|apply|resolve` fail: a `PlanError`
 * exits 1 with its message (a usage mistake is a `WeirError` and exits 2), and any error is
 * shown as one line, EC2's code first.
 */

/** A failure that exits 1 (as opposed to a usage error, `WeirError`, which exits 2). */
export class PlanError extends Error {}

/** `Code: message` of an EC2 (SDK) error, or the message of any other. */
export function describeError(err: unknown): string {
  if (err instanceof PlanError) return err.message;
  // The SDK's words when neither the flags, the environment nor the profile name a region.
  if (err instanceof Error && err.message === 'Region is missing') {
    return 'no region: give --region R, or set AWS_REGION, or region in the profile';
  }
  if (err instanceof Error) {
    const code = err.name !== 'Error' ? `${err.name}: ` : '';
    return `${code}${err.message}`;
  }
  return String(err);
}
