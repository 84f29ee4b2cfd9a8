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
import { Ec2Error, WeirError } from '../model/index.js';
import type { Store } from '../store/index.js';
import { ACTIONS } from './actions/index.js';
import { DEFAULT_API_CONFIG, randomIds } from './context.js';
import type { ActionContext, ApiConfig, IdSource } from './context.js';
import type { KeyRing } from './credentials.js';
import { hasOperation } from '../ec2-model/index.js';
import type { ApiMetrics } from './metrics.js';
import { parseEc2Query } from './query.js';
import { readBody, recordRequest } from './request.js';
import { ScopeRegistry } from './scope.js';
import { headersFromRaw, parseAuthScope, splitRequestTarget, verifySigV4 } from './sigv4.js';
import { serializeGetCallerIdentity, serializeStsError } from './sts.js';
import { ec2ResponseBytes, serializeEc2Error } from './xml.js';
import { handleWeirRequest, WEIR_API_PREFIX } from './weir/handler.js';
import type { WeirApiOptions } from './weir/operations.js';

/** EC2 Query bodies are small; anything larger is refused before it is buffered. */
export const MAX_BODY_BYTES = 1 << 20;

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

/** Builds the request handler; `http.createServer(handler)` serves it. */
export function createApiHandler(
  opts: ApiHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const config = opts.config ?? DEFAULT_API_CONFIG;
  const ids = opts.ids ?? randomIds;
  const now = opts.now ?? (() => new Date());
  const newRequestId = opts.requestId ?? randomUUID;
  const scopes = new ScopeRegistry(opts.store, ids);
  const { logger, metrics } = opts;
  const declaredAttachments = opts.weir?.declaredAttachments;

  function send(
    res: ServerResponse,
    status: number,
    body: string | Buffer,
    type = 'text/xml;charset=UTF-8',
  ): void {
    // Encode once: the length and the bytes sent come from the same buffer.
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { 'content-type': type, 'content-length': bytes.length });
    res.end(bytes);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const started = process.hrtime.bigint();
    const { path, query } = splitRequestTarget(req.url ?? '/');
    let service: Service = 'ec2';
    let action = 'unknown';
    let accessKeyId: string | undefined;
    let region: string | undefined;
    let code = 'ok';
    let status = 200;
    try {
      const scopeGuess = parseAuthScope(req.headers, query);
      if (scopeGuess?.service === 'sts') service = 'sts';
      const body =
        req.method === 'POST'
          ? await readBody(
              req,
              MAX_BODY_BYTES,
              (max) => new Ec2Error('InvalidRequest', `The request body exceeds ${max} bytes.`),
            )
          : Buffer.alloc(0);
      const params = new URLSearchParams(query);
      const contentType = req.headers['content-type'] ?? '';
      if (body.length > 0) {
        if (!contentType.startsWith('application/x-www-form-urlencoded')) {
          throw new Ec2Error(
            'InvalidRequest',
            `Unsupported content type '${contentType}': send application/x-www-form-urlencoded (EC2 Query).`,
          );
        }
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
      }
      action = params.get('Action') ?? 'unknown';
      // Raw headers keep every value of a repeated header, as the signer saw them.
      const verified = verifySigV4(
        { method: req.method ?? 'GET', path, query, headers: headersFromRaw(req.rawHeaders), body },
        opts.keys,
        now(),
      );
      accessKeyId = verified.key.accessKeyId;
      region = verified.region;
      if (verified.service === 'sts') {
        service = 'sts';
        if (action !== 'GetCallerIdentity') {
          throw new Ec2Error('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
        }
        const k = verified.key;
        const out = serializeGetCallerIdentity(
          {
            arn: `arn:aws:iam::${k.accountId}:user/${k.profile}`,
            userId: k.accessKeyId,
            account: k.accountId,
          },
          requestId,
        );
        send(res, 200, out);
        return;
      }
      if (verified.service !== 'ec2') {
        throw new Ec2Error(
          'AuthFailure',
          `Credential should be scoped to a valid service ('ec2' or 'sts'), not '${verified.service}'.`,
        );
      }
      if (!params.has('Action'))
        throw new Ec2Error('MissingParameter', 'The request must contain the parameter Action');
      const def = hasOperation(action) ? ACTIONS[action] : undefined;
      if (!def)
        throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      const input = parseEc2Query(action, params);
      // Permission is checked before DryRun so a read-only key learns it may not, as EC2 does.
      if (verified.key.role !== 'admin' && !def.readOnly) {
        throw new Ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
      }
      const scope = { accountId: verified.key.accountId, region: verified.region };
      await scopes.ensure(scope);
      const ctx: ActionContext = {
        store: opts.store,
        scope,
        caller: verified.key,
        dryRun: input['DryRun'] === true,
        config,
        ids,
        now,
        declaredAttachments,
      };
      const output = await def.handler(ctx, input);
      send(res, 200, ec2ResponseBytes(action, output, requestId));
    } catch (err) {
      const known = err instanceof Ec2Error ? err : undefined;
      code = known?.code ?? 'InternalError';
      status = known?.status ?? 500;
      const message = known?.message ?? 'An internal error has occurred';
      if (!known) logger.error({ err, requestId, action }, 'internal error');
      if (service === 'sts') {
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
    } finally {
      recordRequest(metrics, logger, {
        requestId,
        service,
        action,
        status,
        code,
        accessKeyId,
        region,
        started,
      });
    }
  }

  return (req, res) => {
    const requestId = newRequestId();
    // The JS SDK reads $metadata.requestId from this header, not from the body.
    res.setHeader('x-amzn-RequestId', requestId);
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/healthz') {
      send(res, 200, JSON.stringify({ status: 'ok' }) + '\n', 'application/json');
      return;
    }
    if (req.method === 'GET' && url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => send(res, 200, text, metrics.registry.contentType))
        .catch((err: unknown) => {
          logger.error({ err }, 'metrics failed');
          send(res, 500, 'metrics unavailable\n', 'text/plain');
        });
      return;
    }
    const { path, query } = splitRequestTarget(url);
    if (path.startsWith(WEIR_API_PREFIX)) {
      const deps = {
        store: opts.store,
        keys: opts.keys,
        scopes,
        logger,
        metrics,
        now,
        options: opts.weir ?? {},
      };
      handleWeirRequest(deps, req, res, { path, query }, requestId).catch((err: unknown) => {
        logger.warn({ err, requestId }, 'request aborted');
      });
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
    handleApi(req, res, requestId).catch((err: unknown) => {
      // handleApi answers every error itself; reaching here means the socket failed mid-reply.
      logger.warn({ err: err instanceof WeirError ? err.message : err, requestId }, 'request aborted');
      if (!res.headersSent)
        send(res, 500, serializeEc2Error('InternalError', 'An internal error has occurred', requestId));
    });
  };
}
