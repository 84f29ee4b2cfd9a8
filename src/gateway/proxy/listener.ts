/**
 * @module gateway/proxy/listener — `createGateway`: the HTTP or HTTPS listener (TLS with optional
 * client certificates, rotated in place), the routing of its events to the request paths
 * (`accept`, `connect`, `plain-http`, `upgrade`), and listen and close.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GatewayTls } from '../../identity/index.js';
import { AcceptedConnection, onClientError } from './accept.js';
import type { PreauthRefusal } from './admission.js';
import { handleConnect } from './connect.js';
import { GatewayContext } from './context.js';
import type { Gateway, GatewayOptions } from './options.js';
import { onRequest } from './plain-http.js';
import { onUpgrade } from './upgrade.js';

/** Creates the gateway (not yet listening). */
export function createGateway(opts: GatewayOptions): Gateway {
  const gw = new GatewayContext(opts);
  const tls = opts.tls;
  const server = createListener(gw, tls);
  routeConnections(gw, server, tls !== undefined);
  gateConnections(gw, server, tls !== undefined);
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handleConnect(gw, req, socket, head);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    onRequest(gw, req, res).catch((err: unknown) => {
      gw.log.error({ err }, 'proxy request failed');
      res.destroy();
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(gw, err, socket));
  // An upgrade arrives on the connection's socket (TCP or TLS): a `net.Socket`.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    onUpgrade(gw, req, socket, head).catch((err: unknown) => {
      gw.log.error({ err }, 'proxy upgrade failed');
      socket.destroy();
    });
  });

  return {
    server,
    admission: gw.admission,
    updateTls: (next) => {
      if (tls === undefined) throw new Error('updateTls: this gateway does not listen with TLS');
      if ((next.clientCa === undefined) !== (tls.clientCa === undefined)) {
        throw new Error('updateTls: client certificates can be rotated, not switched on or off');
      }
      (server as unknown as HttpsServer).setSecureContext({
        cert: next.cert,
        key: next.key,
        ...(next.clientCa !== undefined ? { ca: next.clientCa } : {}),
      });
    },
    recheck: () => gw.live.recheck(),
    listen: (host, port) =>
      new Promise<AddressInfo>((res, rej) => {
        server.once('error', rej);
        server.listen(port, host, () => {
          server.off('error', rej);
          gw.deadlines.start();
          res(server.address() as AddressInfo);
        });
      }),
    close: async (graceMs = 10_000) => {
      if (!server.listening) return;
      const closed = new Promise<void>((res) => server.close(() => res()));
      gw.deadlines.cancelAll();
      gw.live.close();
      for (const t of gw.sockets) t.destroy();
      gw.pool.close();
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}

/** The HTTP server, or with `tls` the HTTPS one, with the gateway's head limits and timeouts. */
function createListener(gw: GatewayContext, tls: GatewayTls | undefined): Server {
  const { limits, headersTimeout } = gw;
  const httpOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both timeouts on this period (30 s by default): without a shorter one a slow
    // client would hold its socket far past the limit.
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
  };
  const server: Server =
    tls === undefined
      ? createServer(httpOptions)
      : createHttpsServer({
          ...httpOptions,
          cert: tls.cert,
          key: tls.key,
          // Client certificates are asked for but not enforced by the handshake: a bad one is
          // answered with 407 and its reason (identity.ts), not a reset the client cannot read.
          ...(tls.clientCa !== undefined ? { ca: tls.clientCa, requestCert: true } : {}),
          rejectUnauthorized: false,
          // A client that opens TCP and never finishes the handshake is cut like a slow head.
          handshakeTimeout: headersTimeout,
        });
  if (tls !== undefined) {
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: { remoteAddress?: string }) => {
      gw.log.debug({ err: err.code ?? err.message, src: socket.remoteAddress }, 'TLS handshake failed');
    });
  }
  // One over the limit so that an oversized head is seen (and refused) rather than truncated.
  server.maxHeadersCount = limits.maxHeadersCount + 1;
  return server;
}

/**
 * Takes over Node's handler of new connections (its HTTP parser): every connection is first
 * read by `AcceptedConnection`, which keeps a CONNECT and hands any other back to Node with its
 * bytes unread. On the TLS listener the same holds for the decrypted stream: Node's HTTP handler
 * listens to `secureConnection` there, `connection` being the TLS handshake's own.
 */
function routeConnections(gw: GatewayContext, server: Server, overTls: boolean): void {
  const connectionEvent = overTls ? 'secureConnection' : 'connection';
  const httpConnection = server.listeners(connectionEvent)[0] as ((socket: Socket) => void) | undefined;
  if (httpConnection === undefined || server.listenerCount(connectionEvent) !== 1) {
    throw new Error(`unexpected http.Server ${connectionEvent} listeners: cannot route CONNECT heads`);
  }
  server.removeAllListeners(connectionEvent);
  const handBack = (socket: Socket): void => void httpConnection.call(server, socket);
  server.on(connectionEvent, (socket: Socket) => AcceptedConnection.start(gw, socket, handBack));
}

/**
 * Counts every new TCP connection (before any TLS handshake) against the caps on connections
 * that have not yet proven an identity, and closes at once one over a cap; with the descriptor
 * limit known, `maxConnections` also caps client connections as a whole (Node closes the excess
 * itself). A connection over a cap on the plain listener gets a short 503 first, so a client
 * behind a crowded address sees why; on the TLS listener there is no HTTP to speak yet.
 */
function gateConnections(gw: GatewayContext, server: Server, overTls: boolean): void {
  const maxClientConns = gw.admission.maxClientConns;
  if (maxClientConns !== undefined) server.maxConnections = maxClientConns;
  let dropped = 0;
  server.on('drop', () => {
    gw.hot.decision('limit', 'limit-connections', '');
    if (dropped++ % 1_000 === 0) {
      gw.log.warn({ maxClientConns, dropped }, 'gateway connection cap reached: new connections are closed');
    }
  });
  const accept = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const over = gw.preauth.admit(socket);
    if (over === undefined) {
      for (const l of accept) l.call(server, socket);
      return;
    }
    gw.hot.decision('limit', over, '');
    // Counted, not logged per connection: a flood must not become a flood of log lines.
    if (refused++ % 1_000 === 0) {
      gw.log.warn(
        { reason: over, refused, src: socket.remoteAddress, caps: gw.admission },
        'unauthenticated connection cap reached: new connections are closed',
      );
    }
    closeAtAccept(socket, over, overTls);
  });
}

function closeAtAccept(socket: Socket, reason: PreauthRefusal, overTls: boolean): void {
  socket.on('error', () => undefined);
  if (overTls) return void socket.destroy();
  const body =
    reason === 'limit-preauth'
      ? 'The gateway has as many connections still proving an identity as it allows.\n'
      : 'This address has as many connections still proving an identity as the gateway allows.\n';
  socket.end(
    `HTTP/1.1 503 Service Unavailable by Weir: ${reason}\r\nWeir-Decision: limit\r\n` +
      `Weir-Reason: ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
