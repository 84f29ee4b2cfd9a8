/**
 * @module cli/ec2/wire/http — one signed POST of a Query/EC2 form body over node:http/https, with the
 * AWS CLI's connection options: connect and read timeouts (seconds, 0 = none), `--no-verify-ssl`,
 * a CA bundle, `--no-sign-request`; and its connection error messages.
 * Follows botocore 1.43.11's `botocore/httpsession.py` (`URLLib3Session`) and the messages of
 * `botocore/exceptions.py` (`EndpointConnectionError`, `ConnectTimeoutError`, `ReadTimeoutError`,
 * `SSLError`); signing is @smithy/signature-v4, not a port of `botocore/auth.py`.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import type { Hash, Hmac } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from './config.js';

/** How to send. */
export interface SendOptions {
  readonly endpoint: URL;
  readonly body: string;
  /** SigV4 scope; no credentials means an unsigned request. */
  readonly service: string;
  readonly region: string;
  readonly credentials?: Credentials;
  readonly verifySsl: boolean;
  readonly caBundle?: string;
  /** Seconds; 0 waits forever. */
  readonly connectTimeout: number;
  readonly readTimeout: number;
  readonly userAgent: string;
  /** `--debug` lines go here. */
  readonly debug?: (line: string) => void;
}

/** What came back. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request that got no HTTP response (botocore's EndpointConnectionError and friends). */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(
    message: string,
    /** Whether botocore would retry it. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface SignableRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

/** Bytes in any of the shapes the signer hands over. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * SHA-256 and HMAC-SHA256 for the signer, from node:crypto. The signer's usual partner,
 * @aws-crypto/sha256-js, is SHA-256 in JavaScript: slower, and six more modules to load on every
 * `weir ec2` start, which is the CLI's startup budget (docs/cli.md).
 */
class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

/** AWS's SigV4 signer for `service` in `region` with `credentials` (session token when there is one). */
export function sigV4Signer(service: string, region: string, credentials: Credentials): SignatureV4 {
  return new SignatureV4({
    service,
    region,
    sha256: NodeSha256,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
    },
  });
}

/** Sends one request. @throws ConnectionError when no response arrives. */
export async function send(opts: SendOptions): Promise<HttpResponse> {
  const url = opts.endpoint;
  const https = url.protocol === 'https:';
  const path = url.pathname === '' ? '/' : url.pathname;
  const unsigned: SignableRequest = {
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    path,
    query: {},
    headers: {
      host: url.host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'content-length': String(Buffer.byteLength(opts.body)),
      'user-agent': opts.userAgent,
    },
    body: opts.body,
  };
  let headers: Record<string, string> = unsigned.headers;
  if (opts.credentials) {
    const signer = sigV4Signer(opts.service, opts.region, opts.credentials);
    const signed = await signer.sign(unsigned);
    headers = signed.headers;
  }
  opts.debug?.(
    `Making request to ${url.href} with headers ${JSON.stringify(redact(headers))} and body ${opts.body}`,
  );

  let ca: Buffer | undefined;
  if (https && opts.caBundle !== undefined && opts.verifySsl) {
    try {
      ca = readFileSync(opts.caBundle);
    } catch (err) {
      throw new ConnectionError(
        `Could not find a suitable TLS CA certificate bundle, invalid path: ${opts.caBundle} (${(err as Error).message})`,
        false,
      );
    }
  }

  return new Promise<HttpResponse>((resolvePromise, reject) => {
    const outgoing: OutgoingHttpHeaders = { ...headers };
    const options = {
      method: 'POST',
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      ...(url.port !== '' ? { port: Number(url.port) } : {}),
      path,
      headers: outgoing,
      ...(https
        ? { rejectUnauthorized: opts.verifySsl, ...(ca ? { ca } : {}), servername: url.hostname }
        : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(connectTimer);
        resolvePromise({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', (err) => fail(err));
    });
    let settled = false;
    const fail = (err: Error, message?: string, retryable = true): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      req.destroy();
      opts.debug?.(`Request to ${url.href} failed: ${err.message}`);
      reject(new ConnectionError(message ?? describe(err, url.href), retryable));
    };
    const connectTimer =
      opts.connectTimeout > 0
        ? setTimeout(
            () => fail(new Error('connect timeout'), `Connect timeout on endpoint URL: "${url.href}"`),
            opts.connectTimeout * 1000,
          )
        : undefined;
    req.on('socket', (socket) => {
      const connected = (): void => clearTimeout(connectTimer);
      if (socket.connecting) socket.once(https ? 'secureConnect' : 'connect', connected);
      else connected();
    });
    if (opts.readTimeout > 0) {
      req.setTimeout(opts.readTimeout * 1000, () =>
        fail(new Error('read timeout'), `Read timeout on endpoint URL: "${url.href}"`),
      );
    }
    req.on('error', (err) => fail(err, undefined, !TLS_CODES.has((err as NodeJS.ErrnoException).code ?? '')));
    req.end(opts.body);
  });
}

function redact(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  if (out.authorization !== undefined)
    out.authorization = out.authorization.replace(/Signature=\w+/, 'Signature=…');
  if (out['x-amz-security-token'] !== undefined) out['x-amz-security-token'] = '…';
  return out;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

function describe(err: Error, href: string): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (TLS_CODES.has(code)) return `SSL validation failed for ${href} ${err.message}`;
  return `Could not connect to the endpoint URL: "${href}"`;
}
