/**
 * @module test/helpers/gateway-tls-client — clients that speak TLS to the gateway itself (an
 * `https://` proxy, as `curl --proxy https://… --proxy-cert …` does), optionally with a client
 * certificate from test/fixtures/tls: a raw `CONNECT` and an absolute-URI plain HTTP request.
 */
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { readReply } from './gateway-client.js';

/** The committed TLS fixtures (`scripts/gen-test-certs.sh`). */
export const TLS_FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

/** A fixture file's text, e.g. `fixture('proxy.pem')`. */
export function fixture(name: string): string {
  return readFileSync(`${TLS_FIXTURES}${name}`, 'utf8');
}

/** A client certificate by fixture name: `client-spiffe` → its `.pem` and `-key.pem`. */
export function clientCert(name: string): { cert: string; key: string } {
  return { cert: fixture(`${name}.pem`), key: fixture(`${name}-key.pem`) };
}

export interface TlsReply {
  readonly status: number;
  readonly head: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Paused; the tunnel after a 200 to CONNECT, or the connection for another request. */
  readonly socket: TLSSocket;
}

export interface TlsClientOptions {
  /** A client certificate (`clientCert('client-spiffe')`). */
  readonly client?: { cert: string; key: string };
  readonly token?: string;
  /** An already open TLS connection to reuse (keep-alive). */
  readonly socket?: TLSSocket;
}

/** Opens TLS to the gateway on 127.0.0.1, checking its certificate against server-ca.pem. */
export function openTls(port: number, client?: { cert: string; key: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: fixture('server-ca.pem'),
      ...(client ?? {}),
    });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Writes `request` and reads one reply (head and Content-Length body). */
function exchange(socket: TLSSocket, request: string): Promise<TlsReply> {
  const reply = readReply(socket);
  socket.write(request);
  return reply;
}

function authLine(token: string | undefined): string {
  return token === undefined ? '' : `Proxy-Authorization: Bearer ${token}\r\n`;
}

/** `CONNECT target` over TLS to the gateway. */
export async function tlsConnectVia(
  port: number,
  target: string,
  opts: TlsClientOptions = {},
): Promise<TlsReply> {
  const socket = opts.socket ?? (await openTls(port, opts.client));
  return exchange(socket, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${authLine(opts.token)}\r\n`);
}

/** `GET url` (absolute `http://` URI) over TLS to the gateway; the connection stays open. */
export async function tlsGetVia(port: number, url: string, opts: TlsClientOptions = {}): Promise<TlsReply> {
  const socket = opts.socket ?? (await openTls(port, opts.client));
  const host = /^http:\/\/([^/]*)/.exec(url)?.[1] ?? '';
  return exchange(socket, `GET ${url} HTTP/1.1\r\nHost: ${host}\r\n${authLine(opts.token)}\r\n`);
}
