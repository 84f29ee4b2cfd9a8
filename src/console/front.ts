/**
 * @module console/front — the console's HTTP front on the API listener: its files under
 * `/console/`, and the session routes: `POST /console/session` (sign in with an access key and its
 * secret: an HttpOnly, SameSite=Strict cookie, Secure over TLS), `GET /console/session` (who is
 * signed in, and the CSRF token), `POST /console/session/sign-out`. Sign-ins (both outcomes) and
 * sign-outs are audit records (`ConsoleLogin`, `ConsoleSignOut`). The Weir API accepts the cookie
 * through {@link ConsoleFront.callerOf} (api/weir/handler checks the CSRF token on writes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { appendAudit, auditEvent } from '../audit/index.js';
import type { AuditActor } from '../audit/index.js';
import { cookieValue, SESSION_COOKIE } from '../api/index.js';
import type { AccessKey, ConsoleCaller, ConsoleFront, KeyRing } from '../api/index.js';
import type { Store } from '../store/index.js';
import { loadAssets, NOT_BUILT_PAGE, NOT_FOUND_PAGE, SECURITY_HEADERS } from './assets.js';
import type { Assets } from './assets.js';
import { ConsoleSessions, csrfMatches, secretEquals, SignInThrottle } from './sessions.js';
import type { Session } from './sessions.js';

/** `eventSource` of sign-in records, as CloudTrail names the console's sign-in. */
export const SIGNIN_EVENT_SOURCE = 'signin.amazonaws.com';
/** A sign-in body is two short strings. */
const MAX_SIGN_IN_BYTES = 4096;
const ACCESS_KEY_ID = /^\w{1,128}$/;

/** What the console is built from (`weir serve` wires it). */
export interface ConsoleOptions {
  readonly store: Store;
  /** The key ring in force, read at each request. */
  readonly keys: () => KeyRing;
  readonly logger: Logger;
  /** The gateway account: only its keys may sign in (as only they may use the Weir API). */
  readonly account: string;
  /** The region the console acts in (the gateway's). */
  readonly region: string;
  /** The API serves HTTPS: the cookie is `Secure`. */
  readonly tls: boolean;
  /** `--console-session-ttl` (ms). */
  readonly sessionTtlMs?: number;
  readonly sessionIdleMs?: number;
  readonly now?: () => Date;
  /** Where the built files are (default: dist/console of this checkout). */
  readonly assetsDir?: string;
}

/** An answer with a status and a message the console shows. */
class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Builds the console's front door. */
export function createConsole(opts: ConsoleOptions): ConsoleFront & { readonly sessions: ConsoleSessions } {
  return new Console(opts);
}

class Console implements ConsoleFront {
  readonly sessions: ConsoleSessions;
  readonly #assets: Assets;
  readonly #throttle: SignInThrottle;
  readonly #now: () => Date;

  constructor(private readonly opts: ConsoleOptions) {
    this.#now = opts.now ?? (() => new Date());
    const nowMs = (): number => this.#now().getTime();
    this.sessions = new ConsoleSessions({
      keys: opts.keys,
      now: nowMs,
      ...(opts.sessionTtlMs !== undefined ? { ttlMs: opts.sessionTtlMs } : {}),
      ...(opts.sessionIdleMs !== undefined ? { idleMs: opts.sessionIdleMs } : {}),
    });
    this.#throttle = new SignInThrottle(nowMs);
    this.#assets = loadAssets(opts.assetsDir);
    if (!this.#assets.has('index.html'))
      opts.logger.warn('the console is not built (no dist/console/index.html): run npm run build');
  }

  callerOf(req: IncomingMessage): ConsoleCaller | 'ended' | undefined {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const found = this.sessions.lookup(id);
    if (found === undefined) return 'ended';
    const { session, key } = found;
    return {
      key,
      region: this.opts.region,
      csrfMatches: (token) => csrfMatches(session, token),
    };
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/console') {
      send(res, 301, '', 'text/plain', { location: '/console/' });
      return true;
    }
    if (!path.startsWith('/console/')) return false;
    if (path === '/console/session' || path === '/console/session/sign-out') {
      this.#session(req, res, path).catch((err: unknown) => {
        const known = err instanceof ConsoleError ? err : undefined;
        if (!known) this.opts.logger.error({ err }, 'console session request failed');
        if (res.headersSent) return;
        if (req.readableEnded === false) res.setHeader('connection', 'close');
        sendJson(
          res,
          known?.status ?? 500,
          {
            error: {
              code: known?.code ?? 'InternalError',
              message: known?.message ?? 'an internal error has occurred',
            },
          },
          known?.headers,
        );
      });
      return true;
    }
    this.#file(req, res, path.slice('/console/'.length));
    return true;
  }

  #file(req: IncomingMessage, res: ServerResponse, name: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Use GET.\n', 'text/plain; charset=utf-8', { allow: 'GET, HEAD' });
      return;
    }
    if (!this.#assets.has('index.html')) {
      send(res, 503, NOT_BUILT_PAGE, 'text/html; charset=utf-8');
      return;
    }
    const asset = this.#assets.get(name === '' ? 'index.html' : name);
    if (asset === undefined) {
      send(res, 404, NOT_FOUND_PAGE, 'text/html; charset=utf-8');
      return;
    }
    // no-cache: the browser revalidates (a 304 by the ETag), so a rebuilt console shows at once.
    const headers = { etag: asset.etag, 'cache-control': 'no-cache' };
    if (req.headers['if-none-match'] === asset.etag) {
      send(res, 304, '', asset.type, headers, false);
      return;
    }
    // Node sends no body to a HEAD, and the length is the file's, as for a GET.
    send(res, 200, asset.body, asset.type, headers);
  }

  async #session(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/console/session/sign-out') {
      if (req.method !== 'POST') throw methodNotAllowed('POST');
      await this.#signOut(req, res);
    } else if (req.method === 'GET') {
      const id = cookieValue(req, SESSION_COOKIE);
      const found = id === undefined ? undefined : this.sessions.lookup(id);
      if (found === undefined) throw notSignedIn();
      sendJson(res, 200, sessionJson(found.key, found.session));
    } else if (req.method === 'POST') {
      await this.#signIn(req, res);
    } else {
      throw methodNotAllowed('GET or POST');
    }
  }

  async #signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = sourceIp(req);
    const wait = this.#throttle.blockedFor(address);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new ConsoleError(
        429,
        'TooManyRequests',
        `too many failed sign-ins from ${address}; try again in ${seconds} s`,
        { 'retry-after': String(seconds) },
      );
    }
    const { accessKeyId, secretAccessKey } = await readSignIn(req);
    const key = this.opts.keys().get(accessKeyId);
    // Compared even for an unknown key, so the answer's timing does not tell which IDs exist.
    const secretOk = secretEquals(secretAccessKey, key?.secretAccessKey ?? '\0unknown key');
    if (key === undefined || !secretOk) {
      this.#throttle.failed(address);
      await this.#audit(req, res, 'ConsoleLogin', unknownActor(accessKeyId, key, this.opts.account), {
        failure: 'Failed authentication',
      });
      throw new ConsoleError(401, 'AuthFailure', 'the access key ID or its secret is wrong');
    }
    if (key.accountId !== this.opts.account) {
      this.#throttle.failed(address);
      const message =
        `the key ${key.accessKeyId} acts in account ${key.accountId}; only keys of account ` +
        `${this.opts.account} (the gateway's) may use the console`;
      await this.#audit(req, res, 'ConsoleLogin', actorOf(key), { failure: message });
      throw new ConsoleError(403, 'AccessDenied', message);
    }
    const { id, session } = this.sessions.create(key);
    await this.#audit(req, res, 'ConsoleLogin', actorOf(key), {});
    const cookie =
      `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; ` +
      `Max-Age=${Math.floor(this.sessions.ttlMs / 1000)}${this.opts.tls ? '; Secure' : ''}`;
    sendJson(res, 200, sessionJson(key, session), { 'set-cookie': cookie });
  }

  async #signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = cookieValue(req, SESSION_COOKIE);
    const found = id === undefined ? undefined : this.sessions.lookup(id);
    if (id === undefined || found === undefined) throw notSignedIn();
    const token = req.headers['x-weir-csrf'];
    if (!csrfMatches(found.session, typeof token === 'string' ? token : undefined)) {
      throw new ConsoleError(
        403,
        'InvalidCsrfToken',
        "sign-out must carry the session's CSRF token in the x-weir-csrf header",
      );
    }
    this.sessions.end(id);
    await this.#audit(req, res, 'ConsoleSignOut', actorOf(found.key), {});
    const cookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.opts.tls ? '; Secure' : ''}`;
    sendJson(res, 200, { signedOut: true }, { 'set-cookie': cookie });
  }

  /** Appends a sign-in or sign-out record; a trail that cannot be written is logged, not fatal. */
  async #audit(
    req: IncomingMessage,
    res: ServerResponse,
    eventName: string,
    actor: AuditActor,
    outcome: { failure?: string },
  ): Promise<void> {
    const event = auditEvent(
      {
        eventSource: SIGNIN_EVENT_SOURCE,
        eventName,
        region: this.opts.region,
        actor,
        sourceIPAddress: sourceIp(req),
        userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
        requestParameters: null,
        requestId: String(res.getHeader('x-amzn-RequestId') ?? ''),
        readOnly: false,
      },
      outcome.failure !== undefined
        ? {
            responseElements: { [eventName]: 'Failure' },
            errorCode: 'AuthFailure',
            errorMessage: outcome.failure,
          }
        : { responseElements: { [eventName]: 'Success' } },
      this.#now(),
    );
    try {
      await this.opts.store.transaction(undefined, (tx) => appendAudit(tx, event));
    } catch (err) {
      this.opts.logger.error({ err }, `the audit record of a console ${eventName} could not be written`);
    }
  }
}

/** The JSON of a session: who, which role, the CSRF token, and until when. */
function sessionJson(key: AccessKey, session: Session): Record<string, unknown> {
  return {
    principal: key.principal,
    role: key.role,
    accessKeyId: key.accessKeyId,
    accountId: key.accountId,
    csrfToken: session.csrfToken,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

const actorOf = (key: AccessKey): AuditActor => ({
  principal: key.principal,
  role: key.role,
  accountId: key.accountId,
  accessKeyId: key.accessKeyId,
  userName: key.profile,
});

/** The actor of a failed sign-in: the key's when it exists, else the ID as given (if well-formed). */
function unknownActor(accessKeyId: string, key: AccessKey | undefined, account: string): AuditActor {
  if (key !== undefined) return actorOf(key);
  return {
    principal: 'unknown',
    role: 'none',
    accountId: account,
    ...(ACCESS_KEY_ID.test(accessKeyId) ? { accessKeyId } : {}),
    userName: 'unknown',
  };
}

const notSignedIn = (): ConsoleError =>
  new ConsoleError(401, 'NotSignedIn', 'not signed in (or the session has ended): sign in again');

const methodNotAllowed = (allowed: string): ConsoleError =>
  new ConsoleError(405, 'MethodNotAllowed', `use ${allowed}`);

/** The sign-in body: JSON `{accessKeyId, secretAccessKey}`, small, both non-empty strings. */
async function readSignIn(req: IncomingMessage): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json'))
    throw new ConsoleError(
      415,
      'UnsupportedMediaType',
      `send the sign-in as application/json, not '${type}'`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_SIGN_IN_BYTES)
      throw new ConsoleError(413, 'RequestTooLarge', `a sign-in body is at most ${MAX_SIGN_IN_BYTES} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConsoleError(400, 'InvalidRequest', 'the sign-in body is not JSON');
  }
  const field = (name: string): string => {
    const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
    if (typeof v !== 'string' || v === '' || v.length > 1024)
      throw new ConsoleError(
        400,
        'MissingParameter',
        `'${name}' is required: a string from the credentials file (aws_${name === 'accessKeyId' ? 'access_key_id' : 'secret_access_key'})`,
      );
    return v;
  };
  return { accessKeyId: field('accessKeyId'), secretAccessKey: field('secretAccessKey') };
}

/** The peer's address, IPv4-mapped IPv6 shown as IPv4. */
function sourceIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Readonly<Record<string, string>> = {},
): void {
  // Session answers hold the CSRF token: never stored by a cache.
  send(res, status, `${JSON.stringify(body)}\n`, 'application/json', {
    'cache-control': 'no-store',
    ...extra,
  });
}

/** Writes a whole answer with the console's security headers. */
function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  extra: Readonly<Record<string, string>> = {},
  withLength = true,
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    'content-type': type,
    ...(withLength ? { 'content-length': bytes.length } : {}),
  });
  res.end(bytes);
}
