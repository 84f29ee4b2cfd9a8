/**
 * @module gateway/proxy/refusals — the gateway's refusals before any upstream byte: what each
 * is (status, `Weir-Reason`, text), the checks of a request's form that produce some (too many
 * header fields, two Host headers, a head Node's parser refused), the answer's `Weir-*` headers,
 * its decision line, and the answer itself, on a raw socket or through Node's response.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Decision } from '../../engine/index.js';
import type { LogEntry } from '../decision-line.js';
import type { GatewayContext, RequestHead } from './context.js';

/** A refusal before any upstream byte: status, `Weir-Reason`, text. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly text: string;
  readonly decision?: Decision;
  readonly headers?: Record<string, string>;
}

/** Whether a result is a refusal (rather than addresses, a socket, a release or an admission). */
export function isRefusal(v: unknown): v is Refusal {
  return typeof v === 'object' && v !== null && 'status' in v && 'reason' in v;
}

/** 431 when the head has more fields than allowed. */
export function headerCount(req: RequestHead, maxHeadersCount: number): Refusal | undefined {
  if (req.rawHeaders.length / 2 <= maxHeadersCount) return undefined;
  return {
    status: 431,
    reason: 'too-many-headers',
    text: `More than ${maxHeadersCount} header fields.`,
  };
}

/**
 * 400 for a head Node's parser accepts but hops can read differently: more than one Host (Node
 * keeps the first, a server behind another proxy may use the last). Node's parser itself refuses
 * the other smuggling spellings (see `parserRefusal`).
 */
export function ambiguousHead(req: RequestHead): Refusal | undefined {
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] ?? '';
    if (k.length === 4 && k.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) {
    return { status: 400, reason: 'invalid-request', text: 'More than one Host header: send exactly one.' };
  }
  return undefined;
}

/**
 * The refusal of a request head Node's parser refused (`clientError` with an `HPE_*` code or a
 * request timeout): 431 for an oversized head, 408 for a slow one, 400 with the parser's code for
 * the rest (both Content-Length and Transfer-Encoding, two Content-Lengths, a Transfer-Encoding
 * other than chunked, bare CR or LF, space before a colon, control bytes in the target: the
 * request-smuggling spellings), so the client can see what was wrong.
 */
export function parserRefusal(err: NodeJS.ErrnoException, maxHeaderSize: number): Refusal {
  const code = err.code ?? 'error';
  return code === 'HPE_HEADER_OVERFLOW'
    ? {
        status: 431,
        reason: 'header-too-large',
        text: `The request head is larger than ${maxHeaderSize} bytes.`,
      }
    : code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? { status: 408, reason: 'request-timeout', text: 'The request head did not arrive in time.' }
      : {
          status: 400,
          reason: 'malformed-request',
          text: `Malformed HTTP request (${code}: ${err.message}); requests must be plain HTTP/1.1 with CRLF line ends.`,
        };
}

/** 504 when the last upstream connect timed out, else 502 with its error code. */
export function connectRefusal(last: string): Refusal {
  return last === 'timeout'
    ? { status: 504, reason: 'connect-timeout', text: 'Upstream connect timed out.' }
    : { status: 502, reason: 'connect-failed', text: `Upstream connect failed (${last}).` };
}

function refusalDecision(status: number): 'deny' | 'unauthenticated' | 'limit' | 'error' {
  return status === 403 ? 'deny' : status === 407 ? 'unauthenticated' : status === 429 ? 'limit' : 'error';
}

function statusText(status: number): string {
  return (
    {
      400: 'Bad Request',
      408: 'Request Timeout',
      403: 'Forbidden',
      407: 'Proxy Authentication Required',
      429: 'Too Many Requests',
      431: 'Request Header Fields Too Large',
      502: 'Bad Gateway',
      504: 'Gateway Timeout',
    }[status] ?? 'Error'
  );
}

function refusalHeaders(entry: LogEntry, r: Refusal): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Weir-Decision': refusalDecision(r.status),
    'Weir-Reason': r.reason,
    'Weir-Decision-Id': entry.decisionId,
    ...r.headers,
  };
  if (r.decision?.matched) h['Weir-Rule'] = r.decision.matched.ruleId;
  return h;
}

function logRefusal(gw: GatewayContext, entry: LogEntry, r: Refusal): void {
  entry.status = r.status;
  entry.reason = r.reason;
  entry.decision = refusalDecision(r.status);
  gw.logDecision(entry);
}

/** Logs a refusal, answers it on the raw socket (a CONNECT, an upgrade, a bad head) and closes. */
export function refuseRaw(gw: GatewayContext, socket: Duplex, entry: LogEntry, r: Refusal): void {
  logRefusal(gw, entry, r);
  const body = `${r.text}\n`;
  const headers = {
    ...refusalHeaders(entry, r),
    'Content-Length': `${Buffer.byteLength(body)}`,
    Connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${r.status} ${statusText(r.status)}\r\n${head}\r\n${body}`);
}

/** Logs a refusal of a plain-HTTP request and answers it through Node's response. */
export function refuseHttp(gw: GatewayContext, res: ServerResponse, entry: LogEntry, r: Refusal): void {
  logRefusal(gw, entry, r);
  const body = `${r.text}\n`;
  const headers: Record<string, string | number> = {
    ...refusalHeaders(entry, r),
    'Content-Length': Buffer.byteLength(body),
  };
  // A request refused for its form (two Host headers, too many fields, a bad target) is one
  // whose framing the gateway does not trust: what follows it on the connection is not read as
  // another request. Policy refusals (403, 407, 429) keep the connection for the next one.
  if (r.status === 400 || r.status === 431) headers.Connection = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
}
