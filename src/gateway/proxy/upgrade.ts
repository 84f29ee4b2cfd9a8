/**
 * @module gateway/proxy/upgrade — a plain-HTTP request with `Upgrade` (WebSocket, h2c): admitted
 * like any plain request, sent on a fresh connection to a checked address with `Connection:
 * Upgrade` kept; a `101` turns both sides into a tunnel (counted, idle and lifetime limits, cut
 * on close), any other answer goes back as a normal response and the connection closes.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Exchange } from './context.js';
import type { GatewayContext } from './context.js';
import { admit, forwardable, requestOver } from './plain-http.js';
import { isRefusal, refuseRaw } from './refusals.js';
import { Tunnel } from './tunnel.js';
import { adoptUpstream, connectChecked } from './upstream.js';

/** An upgrade request on the client's socket (TCP or TLS): admitted, forwarded, then relayed. */
export async function onUpgrade(
  gw: GatewayContext,
  req: IncomingMessage,
  client: Socket,
  head: Buffer,
): Promise<void> {
  client.on('error', () => undefined);
  const sockets = gw.sockets;
  sockets.add(client);
  client.once('close', () => sockets.delete(client));
  const x = new Exchange(gw, client, 'http');
  const entry = x.entry;
  const opened = gw.opts.now();
  entry.upgrade = req.headers.upgrade ?? '';
  const admitted = await admit(gw, req, entry, (release) => client.once('close', release));
  if (isRefusal(admitted)) return refuseRaw(gw, client, entry, admitted);
  const { uri, host } = admitted;
  x.admitted = admitted.admission;
  // Never from the pool: after a 101 the connection belongs to the new protocol.
  const sock = adoptUpstream(x, await connectChecked(gw, entry, admitted.allowed, uri.port));
  if (sock === undefined) return;
  sock.once('close', () => sockets.delete(sock));
  const upgrade = ['Host', host, 'Connection', 'Upgrade', 'Upgrade', entry.upgrade];
  const upstream = requestOver(sock, req, uri.path, upgrade, false, gw.limits.idleTimeoutMs);
  let answered = false;
  client.once('close', () => {
    if (!answered) upstream.destroy();
  });
  upstream.on('upgrade', (pres: IncomingMessage, upSock: Socket, upHead: Buffer) => {
    answered = true;
    upSock.setTimeout(0);
    const lines = [`HTTP/1.1 101 ${pres.statusMessage || 'Switching Protocols'}`];
    for (let i = 0; i + 1 < pres.rawHeaders.length; i += 2) {
      lines.push(`${pres.rawHeaders[i] ?? ''}: ${pres.rawHeaders[i + 1] ?? ''}`);
    }
    client.write(`${lines.join('\r\n')}\r\n\r\n`);
    Tunnel.open(x, undefined, upSock, head, upHead);
  });
  upstream.on('response', (pres: IncomingMessage) => {
    answered = true;
    notUpgraded(x, opened, pres, sock);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (!answered) {
      answered = true;
      const body = `Upstream failed (${err.code ?? 'error'}).\n`;
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nWeir-Decision-Id: ${entry.decisionId}\r\n` +
          `Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    gw.logClosed('request closed', entry, opened, `upstream-error ${err.code ?? ''}`.trim(), 0, 0);
  });
  upstream.end();
}

/**
 * Not switched: a normal response (a 4xx from a server that refused the upgrade), after which
 * the connection closes; its body is delimited by that close.
 */
function notUpgraded(x: Exchange, opened: number, pres: IncomingMessage, sock: Socket): void {
  const { gw, client, entry } = x;
  const hot = gw.hot;
  const kept = forwardable(pres.rawHeaders, pres.headers.connection);
  const lines = [`HTTP/1.1 ${pres.statusCode ?? 502} ${pres.statusMessage ?? ''}`];
  for (let i = 0; i + 1 < kept.length; i += 2) lines.push(`${kept[i] ?? ''}: ${kept[i + 1] ?? ''}`);
  lines.push('Connection: close');
  client.write(`${lines.join('\r\n')}\r\n\r\n`);
  let bytesIn = 0;
  pres.on('data', (c: Buffer) => {
    bytesIn += c.length;
    hot.bytesIn += c.length;
  });
  pres.pipe(client);
  pres.once('end', () => {
    sock.destroy();
    gw.logClosed('request closed', entry, opened, 'not-upgraded', bytesIn, 0);
  });
  pres.once('error', () => client.destroy());
}
