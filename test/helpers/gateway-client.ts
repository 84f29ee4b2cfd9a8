/**
 * @module test/helpers/gateway-client — a raw-socket client for gateway tests: sends `CONNECT`
 * exactly as written (so tests control every header byte) and reads the reply head and, for
 * refusals, the short body; `echo` round-trips bytes through an open tunnel; an echo upstream and
 * the loopback policy that lets a test identity reach it.
 */
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, OnReadOpts, Server as NetServer, Socket } from 'node:net';

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
        // A repeated field is one value joined with ', ', as Node's parser does (Proxy-Authenticate).
        const k = l.slice(0, i).toLowerCase();
        const v = l.slice(i + 1).trim();
        headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
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

/** A policy file of one rule: `identity` may reach `to` (a destination in flow YAML) on `ports`. */
function oneRulePolicy(name: string, identity: string, ruleId: string, to: string, ports: string): string {
  return `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: ${name}, owner: test@example.com }
spec:
  workloads: [{ identity: '${identity}' }]
  rules:
    - id: ${ruleId}
      to: [${to}]
      ports: [${ports}]
`;
}

/** A policy file letting `identity` reach the name `fqdn` on `ports` (rule `public`). */
export function fqdnPolicy(name: string, identity: string, fqdn: string, ports: string): string {
  return oneRulePolicy(name, identity, 'public', `{ fqdn: ${fqdn} }`, ports);
}

/** A policy file letting `identity` reach loopback on `port` (rule `loopback-echo`). */
export function loopbackEchoPolicy(name: string, identity: string, port: number): string {
  return oneRulePolicy(name, identity, 'loopback-echo', '{ cidr: 127.0.0.0/8 }', String(port));
}

/**
 * The gateway's `connect` for tests where 198.51.100.0/24 (TEST-NET-2) stands for public hosts:
 * those addresses are routed to 127.0.0.1, as a NAT would, so that name rules can be exercised
 * without opening loopback.
 */
export function natConnect(ip: string, port: number, onread?: OnReadOpts): Socket {
  return netConnect({
    host: ip.startsWith('198.51.100.') ? '127.0.0.1' : ip,
    port,
    ...(onread ? { onread } : {}),
  });
}
