/**
 * @module api/weir/tokens — the Weir API's reads of gateway tokens: ListTokens (the tokens this
 * server issued, with whether each is revoked) and InspectToken (one token by its text or ID:
 * its claims and status). Issue and revoke are in operations.ts. The server records issued
 * tokens' claims only, never their text, so nothing here hands out a credential.
 */
import { signedTokenClaims, verifyToken } from '../../identity/index.js';
import type { TokenClaims } from '../../identity/index.js';
import type { IssuedToken, RevokedToken } from '../../store/index.js';
import { WeirApiError } from './errors.js';
import { booleanQuery } from './input.js';
import type { Fields } from './input.js';
import { unknownTokenId } from './operations.js';
import type { OperationContext } from './operations.js';

type Json = Record<string, unknown>;

const TOKEN_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** `valid`, `expired`, `not-yet-valid` or `revoked` (which wins: it is what the gateway says). */
function statusOf(t: IssuedToken, revoked: RevokedToken | undefined, now: number): string {
  if (revoked !== undefined) return 'revoked';
  if (now >= t.expires.getTime()) return 'expired';
  if (now < t.issued.getTime()) return 'not-yet-valid';
  return 'valid';
}

function tokenJson(t: IssuedToken, revoked: RevokedToken | undefined, now: number): Json {
  return {
    id: t.id,
    identity: t.identity,
    issued: t.issued.toISOString(),
    expires: t.expires.toISOString(),
    status: statusOf(t, revoked, now),
    revoked: revoked !== undefined,
    ...(revoked !== undefined ? { revokedAt: revoked.revokedAt.toISOString() } : {}),
  };
}

/** ListTokens: tokens not yet expired (all with `all=true`), in issue order. */
export async function listTokensOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Json> {
  const all = booleanQuery(query, 'all', 'ListTokens');
  const now = ctx.now();
  const { issued, revoked } = await ctx.store.transaction(
    undefined,
    async (tx) => ({
      issued: await tx.listIssuedTokens(all ? undefined : now),
      // Every revocation still recorded, so an expired token listed with all=true shows it too.
      revoked: await tx.listRevokedTokens(new Date(0)),
    }),
    { readOnly: true },
  );
  const byId = new Map(revoked.map((r) => [r.id, r]));
  return { tokens: issued.map((t) => tokenJson(t, byId.get(t.id), now.getTime())) };
}

/** The claims of a token text signed by this server, inside its validity window or not. */
function signedClaims(ctx: OperationContext, token: string, now: number): TokenClaims {
  const key = ctx.options.tokenKey;
  if (key === undefined) {
    throw new WeirApiError('ServiceUnavailable', 'InspectToken: this server has no gateway token key');
  }
  const check = verifyToken(key, token, now);
  if (check.ok) return check.claims;
  // Only the time window failed: the signature held, so the claims are ours. Nothing from an
  // unsigned text is shown: its claims would be whatever the sender wrote.
  const signed = signedTokenClaims(key, token);
  if ((check.reason === 'token-expired' || check.reason === 'token-not-yet-valid') && signed.ok) {
    return signed.claims;
  }
  throw new WeirApiError(
    'InvalidToken',
    `InspectToken: field 'token' is not a token of this server (${check.reason})`,
  );
}

/** InspectToken: one token, by `token` (its text) or `id`: claims, status, revocation. */
export async function inspectTokenOp(ctx: OperationContext, fields: Fields): Promise<Json> {
  const op = 'InspectToken';
  const byId = fields.id as string | undefined;
  const byText = fields.token as string | undefined;
  if ((byId === undefined) === (byText === undefined)) {
    throw new WeirApiError('MissingParameter', `${op}: give exactly one of the fields 'id' and 'token'`);
  }
  const now = ctx.now();
  let claims: TokenClaims | undefined;
  if (byText !== undefined) claims = signedClaims(ctx, byText, now.getTime());
  else if (!TOKEN_ID.test(byId ?? '')) {
    throw new WeirApiError(
      'InvalidParameterValue',
      `${op}: field 'id' must be a token ID (letters, digits, '-' and '_'), got ${JSON.stringify(byId)}`,
    );
  }
  const id = claims?.id ?? (byId as string);
  const { recorded, revoked } = await ctx.store.transaction(
    undefined,
    async (tx) => ({
      recorded: await tx.getIssuedToken(id),
      revoked: (await tx.listRevokedTokens(new Date(0))).find((r) => r.id === id),
    }),
    { readOnly: true },
  );
  const token: IssuedToken | undefined =
    recorded ??
    (claims !== undefined
      ? {
          id: claims.id,
          identity: claims.identity,
          issued: new Date(claims.issued),
          expires: new Date(claims.expires),
        }
      : undefined);
  if (token === undefined) throw unknownTokenId(op, id);
  return { ...tokenJson(token, revoked, now.getTime()), recorded: recorded !== undefined };
}
