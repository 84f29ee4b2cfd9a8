/**
 * @module api/server — the HTTP front of the control plane: EC2 Query at `POST /` (and
 * `GET /?Action=…`), STS GetCallerIdentity, the Weir API at `/weir/v1/…` (api/weir),
 * `GET /healthz`, `GET /metrics`. Every request is
 * SigV4-verified and routed by its credential scope (service `ec2` or `sts`; the region is the
 * namespace). Bad input always gets an EC2 error document, never a 5xx or a stack trace.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Ec2Error } from '../model/index.js';
import type { Store } from '../store/index.js';
import { ACTIONS } from './actions/index.js';
import type { ActionDef } from './actions/index.js';
import { DEFAULT_API_CONFIG, randomIds } from './context.js';
import type { ActionContext, ApiConfig, DeclaredAttachments, IdSource } from './context.js';
import type { KeyRing } from './credentials.js';
import { hasOperation } from '../ec2-model/index.js';
import type { ApiMetrics } from './metrics.js';
import { isProtocolParameter, parseEc2Query } from './query.js';
import { checkSignedHost } from './api-host.js';
import type { ApiHost } from './api-host.js';
import { LANDING_HEADERS, LANDING_PAGE, wantsLandingPage } from './landing.js';
import { announcesBody, BodyBudget, chargeBody, logText, readBody, recordRequest } from './request.js';
import { checkRegion } from './regions.js';
import { ScopeRegistry } from './scope.js';
import { checkSigV4Head, headersFromRaw, parseAuthScope, splitRequestTarget, verifySigV4 } from './sigv4.js';
import type { PendingSigV4, VerifiedRequest } from './sigv4.js';
import { serializeGetCallerIdentity, serializeStsError } from './sts.js';
import { ec2ResponseBytes, serializeEc2Error } from './xml.js';
import { describeApiError, errorBody } from './weir/errors.js';
import { handleWeirRequest, WEIR_API_PREFIX, WEIR_SIGNING_SERVICE } from './weir/handler.js';
import { registerExceptionMetrics } from './weir/exceptions.js';
import type { WeirHandlerDeps } from './weir/handler.js';
import type { WeirApiOptions } from './weir/operations.js';
import { EC2_EVENT_SOURCE } from '../audit/index.js';
import { RequestAudit } from './audit-hook.js';
import type { AuditOptions } from './audit-hook.js';
import { usesConsoleSession } from './console-front.js';
import type { ConsoleFront } from './console-front.js';

/** EC2 Query bodies are small; anything larger is refused before it is buffered. */
export const MAX_BODY_BYTES = 1 << 20;

/** Default of `--api-body-budget`: four 16 MiB bundles, or 64 EC2 bodies at their limit. */
export const DEFAULT_BODY_BUDGET = 64 << 20;

/** What the API's edge enforces before a request reaches a route: bound hosts, the body budget. */
export interface ApiEdgeOptions {
  /** `--api-host`: the hosts a request may be signed for; empty or absent: any. */
  readonly hosts?: readonly ApiHost[];
  /** `--api-body-budget`: bytes of request bodies held at once (default {@link DEFAULT_BODY_BUDGET}). */
  readonly bodyBudget?: number;
}

/** What the API handler is built from; clock, ids and request ids default to real ones. */
export interface ApiHandlerOptions {
  readonly store: Store;
  readonly keys: KeyRing;
  readonly logger: Logger;
  readonly metrics: ApiMetrics;
  readonly config?: ApiConfig;
  readonly ids?: IdSource;
  readonly now?: () => Date;
  readonly requestId?: () => string;
  /** What the Weir API (`/weir/v1/…`) needs beyond the store and keys: token key, bundle keys, explainer. */
  readonly weir?: WeirApiOptions;
  /** Where scopes are stored on first write; tests pass their own to watch it. Default: a new one on `store`. */
  readonly scopes?: ScopeRegistry;
  readonly edge?: ApiEdgeOptions;
  /** How calls are audited (`weir serve --audit-reads`); every write is recorded either way. */
  readonly audit?: AuditOptions;
  /** The web console at `/console/` (src/console); absent: none is served. */
  readonly console?: ConsoleFront;
}

type Service = 'ec2' | 'sts';

/** STS names two authentication failures differently from EC2; botocore expects its names. */
const STS_AUTH_ERRORS: Readonly<Record<string, { code: string; message: string }>> = {
  MissingParameter: {
    code: 'MissingAuthenticationToken',
    message: 'Request is missing Authentication Token',
  },
  AuthFailure: {
    code: 'InvalidClientTokenId',
    message: 'The security token included in the request is invalid.',
  },
};

/** The EC2 Query answer when the body would exceed {@link MAX_BODY_BYTES}. */
const bodyTooLarge = (max: number): Ec2Error =>
  new Ec2Error('InvalidRequest', `The request body exceeds ${max} bytes.`);

/** Builds the request handler; `http.createServer(handler)` serves it. */
export function createApiHandler(
  opts: ApiHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return new ApiServer(opts).handle;
}

/** How one EC2 Query / STS call went so far: mutated as it proceeds, recorded when it ends. */
interface QueryCall {
  readonly requestId: string;
  service: Service;
  action: string;
  status: number;
  /** `ok`, or the error code answered. */
  code: string;
  accessKeyId: string | undefined;
  region: string | undefined;
  readonly started: bigint;
}

/**
 * The API server's state, built once from its options: what every request needs (store, keys,
 * clock, scope registry, the Weir API's dependencies) and the routes that use it.
 */
class ApiServer {
  private readonly keys: KeyRing;
  private readonly logger: Logger;
  private readonly metrics: ApiMetrics;
  private readonly config: ApiConfig;
  private readonly ids: IdSource;
  private readonly now: () => Date;
  private readonly newRequestId: () => string;
  private readonly scopes: ScopeRegistry;
  private readonly regions: ReadonlySet<string>;
  private readonly declaredAttachments: (() => DeclaredAttachments) | undefined;
  /** What the Weir API handler needs; the same for every request, so built once. */
  private readonly weir: WeirHandlerDeps;
  private readonly hosts: readonly ApiHost[];
  private readonly budget: BodyBudget;
  private readonly store: Store;
  private readonly audit: AuditOptions;
  private readonly console: ConsoleFront | undefined;

  constructor(opts: ApiHandlerOptions) {
    this.console = opts.console;
    this.store = opts.store;
    this.audit = opts.audit ?? {};
    this.keys = opts.keys;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.config = opts.config ?? DEFAULT_API_CONFIG;
    this.ids = opts.ids ?? randomIds;
    this.now = opts.now ?? (() => new Date());
    this.newRequestId = opts.requestId ?? randomUUID;
    this.scopes = opts.scopes ?? new ScopeRegistry(opts.store);
    this.regions = new Set(this.config.regions);
    this.declaredAttachments = opts.weir?.declaredAttachments;
    this.hosts = opts.edge?.hosts ?? [];
    this.budget = new BodyBudget(opts.edge?.bodyBudget ?? DEFAULT_BODY_BUDGET, (held, peak) => {
      this.metrics.bodyBytes.set(held);
      this.metrics.bodyBytesPeak.set(peak);
    });
    registerExceptionMetrics(this.metrics.registry, opts.store, this.now);
    this.weir = {
      // Reads of a scope nobody wrote to see its defaults without storing them.
      store: this.scopes.view,
      regions: this.regions,
      keys: opts.keys,
      scopes: this.scopes,
      logger: this.logger,
      metrics: this.metrics,
      now: this.now,
      options: opts.weir ?? {},
      audit: this.audit,
      ...(opts.console !== undefined ? { console: opts.console } : {}),
    };
  }

  /** Routes one request: health, metrics, the Weir API, else the EC2 Query / STS endpoint. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = this.newRequestId();
    // The JS SDK reads $metadata.requestId from this header, not from the body.
    res.setHeader('x-amzn-RequestId', requestId);
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/healthz') {
      send(res, 200, JSON.stringify({ status: 'ok' }) + '\n', 'application/json');
      return;
    }
    if (req.method === 'GET' && url === '/metrics') {
      this.sendMetrics(res);
      return;
    }
    const target = splitRequestTarget(url);
    const { path } = target;
    if (this.console?.handle(req, res, path) === true) return;
    if (wantsLandingPage(req, path, target.query)) {
      send(res, 200, LANDING_PAGE, LANDING_HEADERS['content-type'], LANDING_HEADERS);
      return;
    }
    if (path.startsWith(WEIR_API_PREFIX)) {
      this.handleWeir(req, res, target, requestId);
      return;
    }
    if (path !== '/' || (req.method !== 'POST' && req.method !== 'GET')) {
      send(
        res,
        404,
        serializeEc2Error(
          'InvalidRequest',
          `No such endpoint: ${req.method} ${path}. The EC2 API is served at POST /.`,
          requestId,
        ),
      );
      return;
    }
    this.handleQuery(req, res, target, requestId).catch((err: unknown) => {
      // handleQuery answers every error itself; reaching here means the socket failed mid-reply.
      this.logger.warn({ err: errorText(err), requestId }, 'request aborted');
      if (!res.headersSent)
        send(res, 500, serializeEc2Error('InternalError', 'An internal error has occurred', requestId));
    });
  };

  /**
   * A Weir API request: its head is checked here, before the Weir handler reads a body, and the
   * body it reads is charged to the budget. A refusal is answered in the Weir API's JSON form.
   */
  private handleWeir(
    req: IncomingMessage,
    res: ServerResponse,
    target: { path: string; query: string },
    requestId: string,
  ): void {
    try {
      // A console request (session cookie, no signature) is authenticated by the Weir handler
      // before it reads the body; the Host check applies to it as to a signed one (a page served
      // under another name, as in DNS rebinding, gets nothing).
      if (this.console !== undefined && usesConsoleSession(req, target.query))
        checkSignedHost(req.headers.host, this.hosts);
      else
        this.checkHead(
          req,
          target,
          [WEIR_SIGNING_SERVICE],
          (s) => `Credential should be scoped to the service 'weir' for ${WEIR_API_PREFIX}…, not '${s}'.`,
        );
    } catch (err) {
      const known = describeApiError(err);
      const code = known?.code ?? 'InternalError';
      const status = known?.status ?? 500;
      if (announcesBody(req)) res.setHeader('connection', 'close');
      send(
        res,
        status,
        errorBody(code, known?.message ?? 'an internal error has occurred', requestId),
        'application/json',
      );
      recordRequest(this.metrics, this.logger, {
        requestId,
        service: 'weir',
        action: 'weir:unknown',
        status,
        code,
        accessKeyId: undefined,
        region: undefined,
        started: process.hrtime.bigint(),
      });
      return;
    }
    chargeBody(req, res, this.budget);
    handleWeirRequest(this.weir, req, res, target, requestId).catch((err: unknown) => {
      this.logger.warn({ err: errorText(err), requestId }, 'request aborted');
    });
  }

  /**
   * What the head of a request must show before its body is read: a well-formed signature of a
   * known key, in the time window, over a Host this server answers to (`--api-host`), for a
   * service this route serves. Unsigned and stale uploads are refused without reading a byte.
   */
  private checkHead(
    req: IncomingMessage,
    { path, query }: { path: string; query: string },
    services: readonly string[],
    wrongService: (service: string) => string,
  ): PendingSigV4 {
    const headers = headersFromRaw(req.rawHeaders);
    const pending = checkSigV4Head(
      { method: req.method ?? 'GET', path, query, headers },
      this.keys,
      this.now(),
    );
    const service = pending.auth.scope.service;
    if (!services.includes(service)) {
      throw new Ec2Error('AuthFailure', wrongService(service));
    }
    checkSignedHost(req.headers.host, this.hosts);
    return pending;
  }

  private sendMetrics(res: ServerResponse): void {
    this.metrics.registry
      .metrics()
      .then((text) => send(res, 200, text, this.metrics.registry.contentType))
      .catch((err: unknown) => {
        this.logger.error({ err }, 'metrics failed');
        send(res, 500, 'metrics unavailable\n', 'text/plain');
      });
  }

  /**
   * One EC2 Query or STS call: read the parameters, verify the signature, route on the credential
   * scope's service, run the action. Every failure is answered here, in the caller's format.
   */
  private async handleQuery(
    req: IncomingMessage,
    res: ServerResponse,
    { path, query }: { path: string; query: string },
    requestId: string,
  ): Promise<void> {
    const call: QueryCall = {
      requestId,
      service: 'ec2',
      action: 'unknown',
      status: 200,
      code: 'ok',
      accessKeyId: undefined,
      region: undefined,
      started: process.hrtime.bigint(),
    };
    // Every authenticated call is audited here, whatever the action (api/audit-hook).
    const audit = new RequestAudit(
      { store: this.store, now: this.now, logger: this.logger, options: this.audit },
      requestId,
      req,
    );
    try {
      const scopeGuess = parseAuthScope(req.headers, query);
      if (scopeGuess?.service === 'sts') call.service = 'sts';
      // Authenticate what the head shows before a body byte is read.
      const pending = this.checkHead(req, { path, query }, ['ec2', 'sts'], wrongQueryService);
      chargeBody(req, res, this.budget);
      const body =
        req.method === 'POST' ? await readBody(req, MAX_BODY_BYTES, bodyTooLarge) : Buffer.alloc(0);
      const params = queryParams(query, body, req.headers['content-type'] ?? '');
      call.action = params.get('Action') ?? 'unknown';
      // Raw headers keep every value of a repeated header, as the signer saw them.
      const verified = verifySigV4(
        { method: req.method ?? 'GET', path, query, headers: headersFromRaw(req.rawHeaders), body },
        this.keys,
        this.now(),
        pending,
      );
      call.accessKeyId = verified.key.accessKeyId;
      call.region = verified.region;
      // A region is a namespace: one the server does not serve is refused, or every made-up
      // name a client signs for would become a namespace.
      checkRegion(this.regions, verified.region);
      if (verified.service === 'sts') {
        call.service = 'sts';
        const body = callerIdentity(verified, call.action, requestId);
        audit.begin(
          {
            eventSource: 'sts.amazonaws.com',
            eventName: call.action,
            region: verified.region,
            key: verified.key,
            readOnly: true,
          },
          {},
        );
        await audit.end();
        send(res, 200, body);
        return;
      }
      const def = ec2Action(verified, call.action, params);
      audit.begin(
        {
          eventSource: EC2_EVENT_SOURCE,
          eventName: call.action,
          region: verified.region,
          key: verified.key,
          readOnly: def.readOnly,
        },
        paramsObject(params),
      );
      const input = parseEc2Query(call.action, params);
      audit.setParameters(input);
      // Permission is checked before DryRun so a read-only key learns it may not, as EC2 does.
      if (verified.key.role !== 'admin' && !def.readOnly) {
        throw new Ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
      }
      const scope = { accountId: verified.key.accountId, region: verified.region };
      // Only writes store a scope (with its default VPC and group); reads of an unwritten one
      // see the defaults through the view, so a read-only key cannot make the store grow.
      if (!def.readOnly) await this.scopes.ensure(scope);
      const ctx: ActionContext = {
        store: audit.wrap(this.scopes.view),
        scope,
        caller: verified.key,
        dryRun: input['DryRun'] === true,
        config: this.config,
        ids: this.ids,
        now: this.now,
        declaredAttachments: this.declaredAttachments,
      };
      const output = await def.handler(ctx, input);
      await audit.end();
      send(res, 200, ec2ResponseBytes(call.action, output, requestId));
    } catch (err) {
      const known = err instanceof Ec2Error ? err : undefined;
      await audit.end({
        code: known?.code ?? 'InternalError',
        message: known?.message ?? 'An internal error has occurred',
      });
      // A refused request's unread body is not waited for: the answer closes the connection.
      if (announcesBody(req) && !req.complete && !res.headersSent) res.setHeader('connection', 'close');
      this.answerError(res, call, err);
    } finally {
      recordRequest(this.metrics, this.logger, call);
    }
  }

  /** Answers a failed call in its service's format; anything not an `Ec2Error` is logged as a 500. */
  private answerError(res: ServerResponse, call: QueryCall, err: unknown): void {
    const known = err instanceof Ec2Error ? err : undefined;
    call.code = known?.code ?? 'InternalError';
    call.status = known?.status ?? 500;
    const { code, status, requestId } = call;
    const message = known?.message ?? 'An internal error has occurred';
    if (!known) this.logger.error({ err, requestId, action: logText(call.action) }, 'internal error');
    if (call.service === 'sts') {
      const sts = STS_AUTH_ERRORS[code];
      send(
        res,
        status,
        serializeStsError(
          sts?.code ?? code,
          sts?.message ?? message,
          requestId,
          status >= 500 ? 'Receiver' : 'Sender',
        ),
      );
    } else {
      send(res, status, serializeEc2Error(code, message, requestId));
    }
  }
}

/**
 * An error's message for the log, cut short: socket errors and the like can carry text the peer
 * sent, and a stack is no use for a request that merely failed.
 */
function errorText(err: unknown): string | undefined {
  return logText(err instanceof Error ? err.message : String(err));
}

/** Writes a whole response with its length. */
function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type = 'text/xml;charset=UTF-8',
  extra: Readonly<Record<string, string>> = {},
): void {
  // Encode once: the length and the bytes sent come from the same buffer.
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...extra, 'content-type': type, 'content-length': bytes.length });
  res.end(bytes);
}

/** The call's parameters: the query string's, then the form-encoded body's (the only body type EC2 Query takes). */
function queryParams(query: string, body: Buffer, contentType: string): URLSearchParams {
  const params = new URLSearchParams(query);
  if (body.length > 0) {
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      throw new Ec2Error(
        'InvalidRequest',
        `Unsupported content type '${contentType}': send application/x-www-form-urlencoded (EC2 Query).`,
      );
    }
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  }
  return params;
}

/**
 * The raw parameters of an EC2 Query call but `Action`, `Version` and the `X-Amz-*` of a
 * presigned URL (its signature is a credential until it expires), until they are parsed.
 */
function paramsObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) if (!isProtocolParameter(k)) out[k] = v;
  return out;
}

/** STS's one action here, GetCallerIdentity, answered for the verified key. */
function callerIdentity(verified: VerifiedRequest, action: string, requestId: string): string {
  if (action !== 'GetCallerIdentity') {
    throw new Ec2Error('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
  }
  const k = verified.key;
  return serializeGetCallerIdentity(
    {
      arn: `arn:aws:iam::${k.accountId}:user/${k.profile}`,
      userId: k.accessKeyId,
      account: k.accountId,
    },
    requestId,
  );
}

/** EC2's words for a credential scoped to a service the Query endpoint does not serve. */
const wrongQueryService = (service: string): string =>
  `Credential should be scoped to a valid service ('ec2' or 'sts'), not '${service}'.`;

/** The EC2 action a call verified for service `ec2` names, or EC2's error for why there is none. */
function ec2Action(verified: VerifiedRequest, action: string, params: URLSearchParams): ActionDef {
  if (verified.service !== 'ec2') throw new Ec2Error('AuthFailure', wrongQueryService(verified.service));
  if (!params.has('Action'))
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter Action');
  const def = hasOperation(action) ? ACTIONS[action] : undefined;
  if (!def) {
    throw new Ec2Error('InvalidAction', `The action ${logText(action)} is not valid for this web service.`);
  }
  return def;
}
