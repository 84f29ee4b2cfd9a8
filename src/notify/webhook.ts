/**
 * @module notify/webhook — one webhook: its URL checked at start (`parseWebhookUrl`), the key its
 * delivery state is stored under (a digest: URLs may carry tokens), the JSON body of a
 * notification, and one POST with a timeout and a bounded, discarded response body.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { WeirError } from '../model/index.js';
import type { QueuedNotification } from '../store/index.js';

/** A webhook as configured: its position among the `--notify-webhook` flags (1-based) and URL. */
export interface Webhook {
  /** 1-based position of its flag: the metrics' `webhook` label, and what logs name. */
  readonly index: number;
  readonly url: URL;
  /** What its delivery state is stored under: a digest of the URL, never the URL itself. */
  readonly key: string;
}

/** The URL with its path, query and credentials hidden, for errors and logs. */
export function redactedUrl(url: URL): string {
  return `${url.protocol}//${url.host}/…`;
}

/**
 * Checks one `--notify-webhook` value (the `position`th, 1-based): an absolute http or https URL.
 * The error names the flag and its position but shows no more of the value than its scheme and
 * host, since a webhook URL's path is often its secret (Slack, Mattermost).
 * @throws WeirError (`BAD_OPTION`).
 */
export function parseWebhookUrl(text: string, position: number): Webhook {
  const flag = `--notify-webhook (#${position})`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WeirError(
      'BAD_OPTION',
      `${flag}: not an absolute URL; give the webhook's http:// or https:// URL (e.g. https://hooks.example.com/T0/B0/x)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WeirError(
      'BAD_OPTION',
      `${flag}: the scheme '${url.protocol.slice(0, -1)}' is not http or https; give an http:// or https:// URL`,
    );
  }
  if (url.hostname === '') throw new WeirError('BAD_OPTION', `${flag}: the URL names no host`);
  if (url.hash !== '') {
    throw new WeirError('BAD_OPTION', `${flag}: a fragment (#…) is never sent; remove it from the URL`);
  }
  const key = createHash('sha256').update(url.href).digest('hex').slice(0, 32);
  return { index: position, url, key };
}

/** Checks every `--notify-webhook` value; the same URL twice is refused (it would get each notice twice). */
export function parseWebhookUrls(texts: readonly string[]): Webhook[] {
  const hooks = texts.map((t, i) => parseWebhookUrl(t, i + 1));
  for (const h of hooks) {
    const first = hooks.find((o) => o.key === h.key);
    if (first !== undefined && first.index !== h.index) {
      throw new WeirError(
        'BAD_OPTION',
        `--notify-webhook (#${h.index}): the same URL as #${first.index}; give each webhook once`,
      );
    }
  }
  return hooks;
}

/** Keys of the body a notification's fields may not take: they are the notification's own. */
const RESERVED = new Set(['text', 'event', 'at', 'id']);

/**
 * The JSON a webhook receives: `text` (Slack and Mattermost show it as is), `event`, `at` (ISO
 * 8601, when it was queued), `id` (the outbox row: the same for every retry, so a receiver can
 * drop repeats), then the notification's structured fields.
 */
export function notificationBody(n: QueuedNotification): string {
  const body: Record<string, unknown> = { text: n.text, event: n.event, at: n.at.toISOString(), id: n.seq };
  for (const [k, v] of Object.entries(n.fields)) if (!RESERVED.has(k)) body[k] = v;
  return JSON.stringify(body);
}

/** What one POST came to. */
export type PostResult =
  | { readonly ok: true; readonly status: number }
  | {
      readonly ok: false;
      /** For the log and `last_error`: the status or the network error's code, never the URL. */
      readonly error: string;
      /** `Retry-After` of a 429 or 503, in ms, when given in seconds. */
      readonly retryAfterMs?: number;
    };

/** How a poster posts. */
export interface PostOptions {
  /** The whole exchange, connect to the response's head, must end within this. */
  readonly timeoutMs: number;
  /** Response body bytes read (then the connection is dropped); the body is never kept. */
  readonly maxResponseBytes: number;
  /** Requests in flight at once (the agent's sockets). */
  readonly concurrency: number;
}

/** POSTs bodies to one webhook; `close()` aborts what is in flight. */
export interface WebhookPoster {
  post(body: string): Promise<PostResult>;
  close(): void;
}

/** `Retry-After` in seconds → ms (an HTTP date is ignored: the backoff applies then). */
function retryAfter(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^[0-9]{1,6}$/.test(value)) return undefined;
  return Number(value) * 1000;
}

/**
 * A poster for `url` over node:http(s) with a keep-alive agent of `concurrency` sockets. Redirects
 * are not followed (a webhook that moved is a configuration error to fix, and following one could
 * send the body elsewhere); any status outside 2xx is a failure to retry.
 */
export function createWebhookPoster(url: URL, opts: PostOptions): WebhookPoster {
  const https = url.protocol === 'https:';
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: opts.concurrency })
    : new HttpAgent({ keepAlive: true, maxSockets: opts.concurrency });
  const inFlight = new Set<() => void>();
  const post = (body: string): Promise<PostResult> =>
    new Promise<PostResult>((resolve) => {
      let settled = false;
      const finish = (r: PostResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        inFlight.delete(abort);
        resolve(r);
      };
      const req = (https ? httpsRequest : httpRequest)(url, {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'weir-notify',
        },
      });
      const abort = () => {
        req.destroy();
        finish({ ok: false, error: 'aborted: the server is shutting down' });
      };
      inFlight.add(abort);
      // Never unref'd work the process waits for: the timer only bounds this request.
      const timer = setTimeout(() => {
        req.destroy();
        finish({ ok: false, error: `no answer within ${opts.timeoutMs} ms` });
      }, opts.timeoutMs);
      timer.unref();
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const result: PostResult =
          status >= 200 && status < 300
            ? { ok: true, status }
            : (() => {
                const after =
                  status === 429 || status === 503 ? retryAfter(res.headers['retry-after']) : undefined;
                return {
                  ok: false,
                  error: `HTTP ${status}`,
                  ...(after !== undefined ? { retryAfterMs: after } : {}),
                };
              })();
        // Read (and drop) a little of the body so the socket can be reused; past the bound the
        // connection is cut: a receiver cannot make us hold or read more.
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > opts.maxResponseBytes) res.destroy();
        });
        res.on('end', () => finish(result));
        res.on('close', () => finish(result));
        res.on('error', () => finish(result));
      });
      req.end(body);
    });
  return {
    post,
    close: () => {
      for (const abort of [...inFlight]) abort();
      agent.destroy();
    },
  };
}
