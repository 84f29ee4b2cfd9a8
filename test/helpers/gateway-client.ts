/**
 * @module test/helpers/gateway-client — a raw-socket client for gateway tests: sends `CONNECT`
 * exactly as written (so tests control every header byte) and reads the reply head and, for
 * refusals, the short body; `echo` round-trips bytes through an open tunnel; an echo upstream and
 * the loopback policy that lets a test identity reach it.
 */
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

export interface ConnectReply {
  /** The status code, e.g. 200, 403, 407. */
  readonly status: number;
  /** The whole status line, e.g. `HTTP/1.1 200 Connection established`. */
  readonly statusLine: string;
  /** The reply head without the blank line. */
  readonly head: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Paused; the tunnel when status is 200. */
  readonly socket: Socket;
}

export interface ConnectOptions {
  /** Sent as `Proxy-Authorization: Bearer …` when given. */
  readonly token?: string;
  /** Adds `Host: target`, as curl does. */
  readonly hostHeader?: boolean;
  /** Raw extra header lines, each ending in CRLF. */
  readonly extra?: string;
}

/** Sends `CONNECT target` to the proxy (`port` on 127.0.0.1, or `host:port`) and reads the reply. */
export function connectVia(
  proxy: number | string,
  target: string,
  opts: ConnectOptions = {},
): Promise<ConnectReply> {
  const [host, port] =
    typeof proxy === 'number'
      ? ['127.0.0.1', proxy]
      : [proxy.slice(0, proxy.lastIndexOf(':')), Number(proxy.slice(proxy.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const auth = opts.token === undefined ? '' : `Proxy-Authorization: Bearer ${opts.token}\r\n`;
    const hostLine = opts.hostHeader ? `Host: ${target}\r\n` : '';
    socket.write(`CONNECT ${target} HTTP/1.1\r\n${hostLine}${auth}${opts.extra ?? ''}\r\n`);
    readReply(socket).then(resolve, reject);
  });
}

/** Reads one reply head (and its Content-Length body) from `socket`, then pauses it. */
export function readReply<S extends Socket>(
  socket: S,
): Promise<Omit<ConnectReply, 'socket'> & { socket: S }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const [statusLine = '', ...rest] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of rest) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const bodyLen = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + bodyLen) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      resolve({
        status: Number(statusLine.split(' ')[1]),
        statusLine,
        head,
        headers,
        body: buf.subarray(end + 4, end + 4 + bodyLen).toString(),
        socket,
      });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/** Writes `msg` into a tunnel and reads the same number of bytes back. */
export function echo(socket: Socket, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (c: Buffer): void => {
      got += c.toString();
      if (got.length >= msg.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
    socket.write(msg);
  });
}

/** A TCP echo server on 127.0.0.1 (a free port): the upstream most gateway tests tunnel to. */
export async function startEchoServer(): Promise<{ server: NetServer; port: number }> {
  const server = createNetServer((s) => s.pipe(s).on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A policy file letting `identity` reach loopback on `port` (rule `loopback-echo`). */
export function loopbackEchoPolicy(name: string, identity: string, port: number): string {
  return `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: ${name}, owner: test@example.com }
spec:
  workloads: [{ identity: '${identity}' }]
  rules:
    - id: loopback-echo
      to: [{ cidr: 127.0.0.0/8 }]
      ports: [${port}]
`;
}
