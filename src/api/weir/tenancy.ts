/**
 * @module api/weir/tenancy — who may call which Weir API operation. The Weir API acts on what
 * the gateway enforces (its tokens, the attachments of its namespace, the policy bundle, `check`
 * against its snapshot), and the gateway enforces the security groups of one account
 * (`--gateway-account`): only that account's keys may use it, any role for reads, admin keys
 * for writes, and the roles a route names for the writes of the on-ramp (requests, approvals). Other accounts keep the EC2 API for their own namespaces. docs/security.md
 * "Tenancy" states the model.
 */
import type { AccessKey, Role } from '../credentials.js';
import { WeirApiError } from './errors.js';

/** What the authorization of one operation reads of its route. */
export interface RouteAccess {
  /** Operation name, for the message. */
  readonly name: string;
  /** Read-only keys may call it. */
  readonly read: boolean;
  /**
   * For a write that is not admin-only: the roles that may call it (a read-only key may request
   * an exception, an approver approves one). Absent: admin only.
   */
  readonly roles?: readonly Role[];
}

/**
 * Refuses `key` for `route` unless it acts in `account` (the gateway's) and, for a write, is an
 * admin key.
 * @throws WeirApiError `AccessDenied` (another account) or `UnauthorizedOperation` (read-only key).
 */
export function authorizeWeirCall(route: RouteAccess, key: AccessKey, account: string): void {
  if (key.accountId !== account) {
    // Without this, any account's admin key could mint a token for an identity the gateway
    // account attached to its groups (and so use its egress rights), revoke its tokens, replace
    // its bundle, and read its rules and ARNs through check. The message names no resource of
    // the gateway account beyond its ID, which the caller needs to know whom to ask.
    throw new WeirApiError(
      'AccessDenied',
      `${route.name}: the key ${key.accessKeyId} acts in account ${key.accountId}, but this server's gateway ` +
        `enforces the security groups of account ${account}; only keys of account ${account} may use the ` +
        `Weir API (tokens, workload attachments, policy bundles, check). Account ${key.accountId} may use ` +
        `the EC2 API for its own security groups, which this gateway does not enforce.`,
    );
  }
  if (route.read || key.role === 'admin') return;
  const roles = route.roles ?? ['admin'];
  if (!roles.includes(key.role)) {
    throw new WeirApiError(
      'UnauthorizedOperation',
      `${route.name}: the key ${key.accessKeyId} (principal ${key.principal}) is ` +
        `${key.role === 'readonly' ? 'read-only' : `an ${key.role}'s`} (weir_role ${key.role}); ` +
        `use a key whose weir_role is ${roles.join(' or ')}`,
    );
  }
}
