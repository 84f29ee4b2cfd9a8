/**
 * @module benchmarks/query-client — the EC2 Query client `bench:api` drives every server with:
 * SigV4 on node:crypto and a keep-alive HTTP/1.1 client on plain sockets.
 *
 * Sequential calls on loopback are short enough that the client is a large share of each round
 * trip: `@smithy/signature-v4` (async, a hash object per HMAC step) cost 50–140 µs a call and
 * node:http's client machinery a few hundred more on this 2-vCPU VM. The signer here builds the
 * canonical request for a POST of a form body directly (botocore's header set for EC2:
 * `content-type;host;x-amz-date`) and caches the signing key per day and region; `bench:api`
 * checks its signatures against smithy's before measuring. The HTTP side writes each request
 * in one `write` and parses `Content-Length` and chunked responses, honouring `Connection:
 * close` (moto's server closes after every response, so every moto call opens a connection).
 */
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type Params = readonly (readonly [string, string | number])[];

export interface CallResult {
  readonly status: number;
  readonly body: string;
  /** Round trip, signed request written to last byte of the response read. */
  readonly ms: number;
  /** Building and signing the request. */
  readonly signMs: number;
}

export const CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The form body of an EC2 Query call, RFC 3986-encoded as botocore sends it. */
export function queryBody(action: string, params: Params): string {
  let body = `Action=${action}&Version=2016-11-15`;
  for (const [k, v] of params) body += `&${rfc3986(k)}=${rfc3986(String(v))}`;
  return body;
}

/** `20261123T151200Z` */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** SigV4 (header form) for EC2 Query POSTs to `/`, as botocore signs them. */
export class QuerySigner {
  private readonly keys = new Map<string, Buffer>();
  constructor(
    private readonly credentials: Credentials,
    private readonly host: string,
    private readonly service = 'ec2',
  ) {}

  private signingKey(date: string, region: string): Buffer {
    const id = `${date}/${region}`;
    let k = this.keys.get(id);
    if (!k) {
      k = createHmac('sha256', `AWS4${this.credentials.secretAccessKey}`).update(date).digest();
      for (const part of [region, this.service, 'aws4_request'])
        k = createHmac('sha256', k).update(part).digest();
      this.keys.set(id, k);
    }
    return k;
  }

  /** The headers to send with `body`: content-type, x-amz-date and authorization. */
  sign(region: string, body: string, now = new Date()): Record<string, string> {
    const time = amzDate(now);
    const date = time.slice(0, 8);
    const scope = `${date}/${region}/${this.service}/aws4_request`;
    const canonical =
      `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${this.host}\nx-amz-date:${time}\n\n` +
      `content-type;host;x-amz-date\n${createHash('sha256').update(body).digest('hex')}`;
    const toSign = `AWS4-HMAC-SHA256\n${time}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(date, region)).update(toSign).digest('hex');
    return {
      'content-type': CONTENT_TYPE,
      'x-amz-date': time,
      authorization:
        `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, ` +
        `SignedHeaders=content-type;host;x-amz-date, Signature=${signature}`,
    };
  }
}

interface Response {
  readonly status: number;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive HTTP/1.1 connection carrying one request at a time. */
class Connection {
  private readonly socket: Socket;
  /**
   * Bytes received and not yet consumed, as they arrived: joined only when a response can be
   * complete, so a large body (a thousand rules, 400 KB in 64 KiB reads) is copied once, not once
   * per read.
   */
  private chunks: Buffer[] = [];
  private size = 0;
  /** The length of the pending response once its head has said it (Content-Length); else 0. */
  private need = 0;
  private waiting: { resolve: (r: Response) => void; reject: (e: Error) => void } | undefined;
  /** False once the peer closed, failed or asked to close: the connection takes no more requests. */
  reusable = true;

  constructor(port: number, host: string) {
    this.socket = connect({ port, host, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new Error('connection closed before the response ended')));
  }

  request(head: string, body: string, timeoutMs: number): Promise<Response> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`no response within ${timeoutMs / 1000} s`));
        this.socket.destroy();
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.socket.write(head + body);
    });
  }

  close(): void {
    this.reusable = false;
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.reusable = false;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (!this.waiting || this.size < this.need) return;
    const buffered = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.size);
    this.chunks = [buffered];
    let parsed: ReturnType<typeof parseResponse>;
    try {
      parsed = parseResponse(buffered);
    } catch (err) {
      this.fail(err as Error);
      this.socket.destroy();
      return;
    }
    if (!parsed) return;
    if ('need' in parsed) {
      this.need = parsed.need;
      return;
    }
    this.need = 0;
    this.chunks = parsed.rest.length > 0 ? [parsed.rest] : [];
    this.size = parsed.rest.length;
    if (parsed.close) this.close();
    const w = this.waiting;
    this.waiting = undefined;
    w.resolve(parsed.response);
  }
}

/**
 * One complete response at the start of `buf`; while more bytes are due, how many `buf` must hold
 * (when the head says it), or undefined.
 */
function parseResponse(
  buf: Buffer,
): { response: Response; rest: Buffer; close: boolean } | { need: number } | undefined {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(lines[0])}`);
  const code = Number(status[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  // 1xx interim responses (100 Continue) precede the real one.
  if (code >= 100 && code < 200) {
    const next = parseResponse(buf.subarray(end + 4));
    return next !== undefined && 'need' in next ? { need: end + 4 + next.need } : next;
  }
  const close =
    /\bclose\b/i.test(headers.get('connection') ?? '') || lines[0]?.startsWith('HTTP/1.0') === true;
  const start = end + 4;
  if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('malformed chunk size');
      if (size === 0) {
        // The empty line after the last chunk (and any trailers) ends the message.
        const done = buf.indexOf(HEADER_END, lineEnd);
        if (done < 0) return undefined;
        return {
          response: { status: code, body: Buffer.concat(parts) },
          rest: buf.subarray(done + 4),
          close,
        };
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = headers.get('content-length');
  if (length === undefined) throw new Error('response has neither Content-Length nor chunked encoding');
  const stop = start + Number(length);
  if (buf.length < stop) return { need: stop };
  return { response: { status: code, body: buf.subarray(start, stop) }, rest: buf.subarray(stop), close };
}

/**
 * Signed EC2 Query calls over a pool of keep-alive connections: a call takes an idle connection
 * or opens one, so concurrent callers each get their own.
 */
export class QueryClient {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly host: string;
  readonly signer: QuerySigner;

  constructor(
    private readonly port: number,
    credentials: Credentials,
    private readonly timeoutMs = 120_000,
  ) {
    this.host = `127.0.0.1:${port}`;
    this.signer = new QuerySigner(credentials, this.host);
  }

  async call(region: string, action: string, params: Params = []): Promise<CallResult> {
    const s0 = performance.now();
    const body = queryBody(action, params);
    const headers = this.signer.sign(region, body);
    let head = `POST / HTTP/1.1\r\nhost: ${this.host}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    return this.send(head + '\r\n', body, s0);
  }

  /** An unsigned GET (the transport floor: `/healthz`). */
  get(path: string): Promise<CallResult> {
    return this.send(`GET ${path} HTTP/1.1\r\nhost: ${this.host}\r\n\r\n`, '', performance.now());
  }

  private async send(head: string, body: string, s0: number): Promise<CallResult> {
    let conn = this.idle.pop();
    // An idle connection the server has closed meanwhile takes no request.
    while (conn && !conn.reusable) {
      this.open.delete(conn);
      conn = this.idle.pop();
    }
    conn ??= this.connect();
    const t0 = performance.now();
    try {
      const r = await conn.request(head, body, this.timeoutMs);
      const ms = performance.now() - t0;
      return { status: r.status, body: r.body.toString('utf8'), ms, signMs: t0 - s0 };
    } finally {
      if (conn.reusable) this.idle.push(conn);
      else this.open.delete(conn);
    }
  }

  private connect(): Connection {
    const c = new Connection(this.port, '127.0.0.1');
    this.open.add(c);
    return c;
  }

  close(): void {
    for (const c of this.open) c.close();
    this.open.clear();
    this.idle.length = 0;
  }
}
