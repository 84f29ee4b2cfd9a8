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
