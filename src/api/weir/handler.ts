/**
 * @module api/weir/handler — the Weir API: JSON over HTTP at `/weir/v1/…`, on the same server
 * and keys as the EC2 API. Every request is SigV4-signed for service `weir`; the namespace is
 * the key's account and the signing region, as for EC2. Only keys of the account whose groups
 * the gateway enforces may call it (api/weir/tenancy); writes need an admin key. Errors are
 * `{ "error": { "code", "message" } }` with a 4xx for anything the caller can fix.
 * Operations and wire form: docs/weir-api.md.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Ec2Error } from '../../model/index.js';
import type { Store } from '../../store/index.js';
import { WEIR_EVENT_SOURCE } from '../../audit/index.js';
import { RequestAudit } from '../audit-hook.js';
import type { AuditOptions } from '../audit-hook.js';
import { DEFAULT_ACCOUNT_ID } from '../credentials.js';
import type { AccessKey, KeyRing } from '../credentials.js';
import { usesConsoleSession } from '../console-front.js';
import type { ConsoleFront } from '../console-front.js';
import type { ApiMetrics } from '../metrics.js';
import type { ScopeRegistry } from '../scope.js';
import { readBody, recordRequest } from '../request.js';
import { checkRegion } from '../regions.js';
import { headersFromRaw, verifySigV4 } from '../sigv4.js';
import { describeApiError, errorBody, WeirApiError } from './errors.js';
import { parseFields, parseQuery } from './input.js';
import type { FieldSpec, Fields } from './input.js';
import type { Route, RouteTable } from './route.js';
import {
  applyBundle,
  attachWorkload,
  checkOp,
  detachWorkload,
  getBundle,
  issueTokenOp,
  listRevokedTokensOp,
  listWorkloads,
  revokeTokenOp,
} from './operations.js';
import type { WeirApiOptions } from './operations.js';
import { authorizeWeirCall } from './tenancy.js';
import { REPORT_ROUTES } from './report.js';
import { inspectTokenOp, listTokensOp } from './tokens.js';
import { DECISION_ROUTES } from './decisions.js';
import { closeBreakglassOp, listBreakglassOp, openBreakglassOp } from './breakglass.js';
import { listAuditOp, verifyAuditOp } from './audit.js';
import {
  approveExceptionOp,
  denyExceptionOp,
  listExceptionsOp,
  requestExceptionOp,
  revokeExceptionOp,
  showExceptionOp,
} from './exceptions.js';
import { INVENTORY_ROUTES } from './inventory.js';
import { OVERVIEW_ROUTES } from './overview.js';
import { EXCEPTION_REVIEW_ROUTES } from './exception-review.js';

/** The path prefix of the Weir API. */
export const WEIR_API_PREFIX = '/weir/v1/';
/** The SigV4 service name Weir API requests are signed for. */
export const WEIR_SIGNING_SERVICE = 'weir';
/** JSON bodies are small; a bundle may be larger. */
const MAX_JSON_BYTES = 1 << 20;
const MAX_BUNDLE_BYTES = 16 << 20;

/** The body of OpenBreakglass and DrillBreakglass (no `to`: everything but the guardrails). */
const BREAKGLASS_OPEN_FIELDS: FieldSpec = {
  identity: 'string',
  to: 'string[]',
  reason: 'string',
  ttl: 'string',
  otp: 'string',
};

/** The routes of the on-ramp and the gateway's own resources; other tables are spread in below. */
const CORE_ROUTES: RouteTable = {
  'workloads/attach': [
    {
      method: 'POST',
      name: 'AttachWorkload',
      read: false,
      fields: { identity: 'string', groupId: 'string' },
      run: (c, i) => attachWorkload(c, i.fields),
    },
  ],
  'workloads/detach': [
    {
      method: 'POST',
      name: 'DetachWorkload',
      read: false,
      fields: { identity: 'string', groupId: 'string' },
      run: (c, i) => detachWorkload(c, i.fields),
    },
  ],
  workloads: [
    {
      method: 'GET',
      name: 'ListWorkloads',
      read: true,
      query: ['identity', 'groupId'],
      run: (c, i) => listWorkloads(c, i.query),
    },
  ],
  tokens: [
    {
      method: 'POST',
      name: 'IssueToken',
      read: false,
      fields: { identity: 'string', ttl: 'string' },
      run: (c, i) => issueTokenOp(c, i.fields),
    },
    {
      method: 'GET',
      name: 'ListTokens',
      read: true,
      query: ['all'],
      run: (c, i) => listTokensOp(c, i.query),
    },
  ],
  'tokens/inspect': [
    {
      method: 'POST',
      name: 'InspectToken',
      read: true,
      fields: { id: 'string', token: 'string' },
      run: (c, i) => inspectTokenOp(c, i.fields),
    },
  ],
  'tokens/revoke': [
    {
      method: 'POST',
      name: 'RevokeToken',
      read: false,
      fields: { id: 'string', token: 'string' },
      run: (c, i) => revokeTokenOp(c, i.fields),
    },
  ],
  'tokens/revoked': [
    { method: 'GET', name: 'ListRevokedTokens', read: true, query: [], run: (c) => listRevokedTokensOp(c) },
  ],
  bundle: [
    {
      method: 'PUT',
      name: 'ApplyBundle',
      read: false,
      maxBytes: MAX_BUNDLE_BYTES,
      run: (c, i) => applyBundle(c, i.body),
    },
    { method: 'GET', name: 'GetBundle', read: true, query: [], run: (c) => getBundle(c) },
  ],
  audit: [
    {
      method: 'GET',
      name: 'ListAuditRecords',
      read: true,
      query: ['since', 'principal', 'event', 'after', 'limit'],
      run: (c, i) => listAuditOp(c, i.query),
    },
  ],
  'audit/verify': [
    { method: 'GET', name: 'VerifyAuditTrail', read: true, query: [], run: (c) => verifyAuditOp(c) },
  ],
  exceptions: [
    {
      method: 'POST',
      name: 'RequestException',
      read: false,
      // A request grants nothing: any key of the gateway account may ask (docs/exceptions.md).
      roles: ['readonly', 'approver'],
      fields: {
        identity: 'string',
        to: 'string[]',
        reason: 'string',
        ttl: 'string',
        dataClass: 'string',
        window: 'string',
      },
      run: (c, i) => requestExceptionOp(c, i.fields),
    },
    {
      method: 'GET',
      name: 'ListExceptions',
      read: true,
      query: ['state', 'identity'],
      run: (c, i) => listExceptionsOp(c, i.query),
    },
  ],
  'exceptions/show': [
    {
      method: 'GET',
      name: 'ShowException',
      read: true,
      query: ['id'],
      run: (c, i) => showExceptionOp(c, i.query),
    },
  ],
  'exceptions/approve': [
    {
      method: 'POST',
      name: 'ApproveException',
      read: false,
      roles: ['approver'],
      fields: { id: 'string', ttl: 'string', comment: 'string' },
      run: (c, i) => approveExceptionOp(c, i.fields),
    },
  ],
  'exceptions/deny': [
    {
      method: 'POST',
      name: 'DenyException',
      read: false,
      roles: ['approver'],
      fields: { id: 'string', reason: 'string' },
      run: (c, i) => denyExceptionOp(c, i.fields),
    },
  ],
  'exceptions/revoke': [
    {
      method: 'POST',
      name: 'RevokeException',
      read: false,
      // A read-only key may withdraw only its own request: the operation checks the principal.
      roles: ['readonly', 'approver'],
      fields: { id: 'string', reason: 'string' },
      run: (c, i) => revokeExceptionOp(c, i.fields),
    },
  ],
  check: [
    {
      method: 'POST',
      name: 'Check',
      read: true,
      fields: { from: 'string', to: 'string', at: 'string', resolve: 'boolean' },
      run: (c, i) => checkOp(c, i.fields),
    },
  ],
  // Break-glass: any role may open (the TOTP secret of the key's principal is what authorizes).
  breakglass: [
    {
      method: 'POST',
      name: 'OpenBreakglass',
      read: false,
      roles: ['readonly', 'approver'],
      fields: BREAKGLASS_OPEN_FIELDS,
      run: (c, i) => openBreakglassOp(c, i.fields, false),
    },
    {
      method: 'GET',
      name: 'ListBreakglass',
      read: true,
      query: ['all'],
      run: (c, i) => listBreakglassOp(c, i.query),
    },
  ],
  'breakglass/drill': [
    {
      method: 'POST',
      name: 'DrillBreakglass',
      read: false,
      roles: ['readonly', 'approver'],
      fields: BREAKGLASS_OPEN_FIELDS,
      run: (c, i) => openBreakglassOp(c, i.fields, true),
    },
  ],
  'breakglass/close': [
    {
      method: 'POST',
      name: 'CloseBreakglass',
      read: false,
      // The opener (any role), an approver or an admin: the operation checks the opener.
      roles: ['readonly', 'approver'],
      fields: { id: 'string', reason: 'string' },
      run: (c, i) => closeBreakglassOp(c, i.fields),
    },
  ],
};

/**
 * Every route, by resource path under {@link WEIR_API_PREFIX}. A component with routes of its own
 * exports a `RouteTable` from its file and is spread in here (one line each, so merges stay easy).
 */
const ROUTES: RouteTable = {
  ...CORE_ROUTES,
  ...OVERVIEW_ROUTES,
  ...DECISION_ROUTES,
  ...INVENTORY_ROUTES,
  ...REPORT_ROUTES,
  ...EXCEPTION_REVIEW_ROUTES,
};

/** What the Weir API handler is built from (the EC2 server's own store, keys and scopes). */
export interface WeirHandlerDeps {
  readonly store: Store;
  readonly keys: KeyRing;
  readonly scopes: ScopeRegistry;
  /** The regions served (`--regions`). */
  readonly regions: ReadonlySet<string>;
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  readonly now: () => Date;
  readonly options: WeirApiOptions;
  /** How calls are audited (`--audit-reads`); every write is recorded either way. */
  readonly audit?: AuditOptions;
  /** The web console: its session cookie stands for a signature (docs/console.md). */
  readonly console?: ConsoleFront;
}

/**
 * The caller of a console request (session cookie, no signature): its key and region. Checked
 * before the body is read: a live session, and for anything but GET the session's CSRF token in
 * `x-weir-csrf` (a cross-site form or script cannot read it, so it cannot forge a write).
 */
function consoleCaller(
  front: ConsoleFront,
  req: IncomingMessage,
  route: Route,
): { key: AccessKey; region: string } {
  const caller = front.callerOf(req);
  if (caller === undefined || caller === 'ended') {
    throw new WeirApiError(
      'NotSignedIn',
      `${route.name}: the console session has ended (expired, signed out, or its key was removed); sign in again at /console/`,
    );
  }
  if (req.method !== 'GET') {
    const token = req.headers['x-weir-csrf'];
    if (!caller.csrfMatches(typeof token === 'string' ? token : undefined)) {
      throw new WeirApiError(
        'InvalidCsrfToken',
        `${route.name}: a console write must carry its session's CSRF token in the x-weir-csrf header ` +
          `(the console sends it; GET /console/session returns it)`,
      );
    }
  }
  return { key: caller.key, region: caller.region };
}

/** The JSON body's fields of a route that takes them (checked against its spec); `{}` otherwise. */
function routeFields(route: Route, req: IncomingMessage, body: Buffer): Fields {
  if (route.fields === undefined) return {};
  const type = req.headers['content-type'] ?? '';
  if (body.length > 0 && !type.startsWith('application/json')) {
    throw new WeirApiError(
      'UnsupportedMediaType',
      `${route.name}: send the body as application/json, not '${type}'`,
    );
  }
  return parseFields(body, route.fields, route.name);
}

/** The caller of a SigV4-signed request, verified (signature, region served, service `weir`). */
function verifiedCaller(
  deps: WeirHandlerDeps,
  req: IncomingMessage,
  target: { path: string; query: string },
  body: Buffer,
): { key: AccessKey; region: string } {
  const verified = verifySigV4(
    {
      method: req.method ?? 'GET',
      path: target.path,
      query: target.query,
      headers: headersFromRaw(req.rawHeaders),
      body,
    },
    deps.keys,
    deps.now(),
  );
  checkRegion(deps.regions, verified.region);
  if (verified.service !== WEIR_SIGNING_SERVICE) {
    throw new Ec2Error(
      'AuthFailure',
      `Credential should be scoped to the service 'weir' for ${WEIR_API_PREFIX}…, not '${verified.service}'.`,
    );
  }
  return { key: verified.key, region: verified.region };
}

/** Serves one request under {@link WEIR_API_PREFIX}; never throws (errors are answered). */
export async function handleWeirRequest(
  deps: WeirHandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  target: { path: string; query: string },
  requestId: string,
): Promise<void> {
  const started = process.hrtime.bigint();
  let operation = 'weir:unknown';
  let code = 'ok';
  let status = 200;
  let accessKeyId: string | undefined;
  let region: string | undefined;
  // Every authenticated call is audited from the handler, whatever the route (api/audit-hook).
  const audit = new RequestAudit(
    { store: deps.store, now: deps.now, logger: deps.logger, options: deps.audit ?? {} },
    requestId,
    req,
  );
  const send = (s: number, body: string): void => {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(s, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
  };
  try {
    const resource = target.path.slice(WEIR_API_PREFIX.length);
    const routes = ROUTES[resource];
    if (routes === undefined) {
      throw new WeirApiError('NotFound', `no Weir API operation at ${target.path} (see docs/weir-api.md)`);
    }
    const route = routes.find((r) => r.method === req.method);
    if (route === undefined) {
      res.setHeader('allow', routes.map((r) => r.method).join(', '));
      throw new WeirApiError(
        'MethodNotAllowed',
        `${req.method ?? ''} ${target.path}: use ${routes.map((r) => r.method).join(' or ')}`,
      );
    }
    operation = `weir:${route.name}`;
    const readRouteBody = (): Promise<Buffer> =>
      readBody(
        req,
        route.maxBytes ?? MAX_JSON_BYTES,
        (max) => new WeirApiError('RequestTooLarge', `the request body exceeds ${max} bytes`),
      );
    let body: Buffer;
    let caller: { key: AccessKey; region: string };
    if (deps.console !== undefined && usesConsoleSession(req, target.query)) {
      // The session is checked before a byte of the body is read.
      caller = consoleCaller(deps.console, req, route);
      body = await readRouteBody();
    } else {
      body = await readRouteBody();
      caller = verifiedCaller(deps, req, target, body);
    }
    accessKeyId = caller.key.accessKeyId;
    region = caller.region;
    audit.begin({
      eventSource: WEIR_EVENT_SOURCE,
      eventName: route.name,
      region: caller.region,
      key: caller.key,
      readOnly: route.read,
    });
    authorizeWeirCall(route, caller.key, deps.options.account ?? DEFAULT_ACCOUNT_ID);
    const fields = routeFields(route, req, body);
    const query = parseQuery(target.query, route.query ?? [], route.name);
    // A raw body (a bundle) is recorded by its size and hash, never its bytes.
    audit.setParameters(
      route.fields !== undefined || body.length === 0
        ? { ...query, ...fields }
        : { ...query, body: { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') } },
    );
    const scope = { accountId: caller.key.accountId, region: caller.region };
    // Reads create nothing (deps.store shows an unwritten scope's defaults); writes store it.
    if (!route.read) await deps.scopes.ensure(scope);
    const out = await route.run(
      {
        store: audit.wrap(deps.store),
        scope,
        now: deps.now,
        options: deps.options,
        caller: caller.key,
        metrics: deps.metrics,
      },
      { fields, query, body },
    );
    await audit.end();
    send(200, `${JSON.stringify(out)}\n`);
  } catch (err) {
    const known = describeApiError(err);
    code = known?.code ?? 'InternalError';
    status = known?.status ?? 500;
    if (!known) deps.logger.error({ err, requestId, operation }, 'internal error');
    const message = known?.message ?? 'an internal error has occurred';
    await audit.end({ code, message });
    send(status, errorBody(code, message, requestId));
  } finally {
    recordRequest(deps.metrics, deps.logger, {
      requestId,
      service: 'weir',
      action: operation,
      status,
      code,
      accessKeyId,
      region,
      started,
    });
  }
}
