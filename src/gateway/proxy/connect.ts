/**
 * @module gateway/proxy/connect — one `CONNECT host:port`: its checks (header count, target,
 * identity, connection slot), the decision, the upstream connect, the `200` and the tunnel. An
 * IP-literal target goes through without a promise (callbacks only); a name waits for its lookup.
 */
import type { Socket } from 'node:net';
import { formatHost, parseAuthority } from '../host.js';
import type { Authority } from '../host.js';
import { UpstreamReads } from '../upstream-reads.js';
import { EMPTY, Exchange, ignore } from './context.js';
import type { GatewayContext, RequestHead } from './context.js';
import { decideLiteral, decideTarget } from './decide.js';
import { headerCount, isRefusal, refuseRaw } from './refusals.js';
import type { Refusal } from './refusals.js';
import { Tunnel } from './tunnel.js';
import { adoptUpstream, connectFirst } from './upstream.js';

const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n');

/** Handles a CONNECT, logging and closing the socket if that throws. */
export function handleConnect(gw: GatewayContext, req: RequestHead, client: Socket, head: Buffer): void {
  try {
    onConnect(gw, req, client, head);
  } catch (err) {
    connectFailed(gw, client, err);
  }
}

/** A CONNECT: checks, decision, upstream connect, `200`, relay. */
function onConnect(gw: GatewayContext, req: RequestHead, client: Socket, head: Buffer): void {
  // Hold client bytes until the tunnel is decided and the first bytes are inspected.
  client.pause();
  client.setNoDelay(true);
  client.on('error', ignore);
  const sockets = gw.sockets;
  sockets.add(client);
  client.once('close', () => sockets.delete(client));
  const x = new Exchange(gw, client, 'connect');
  const entry = x.entry;
  const tooMany = headerCount(req, gw.limits.maxHeadersCount);
  if (tooMany !== undefined) return refuseRaw(gw, client, entry, tooMany);
  const target = parseAuthority(req.url ?? '');
  if (!target.ok) {
    return refuseRaw(gw, client, entry, { status: 400, reason: 'invalid-target', text: target.problem });
  }
  entry.host = formatHost(target.value.host);
  entry.port = target.value.port;
  const auth = gw.authenticate(req);
  if ('status' in auth) return refuseRaw(gw, client, entry, auth);
  entry.identity = auth.identity;
  entry.identitySource = auth.source;
  const release = gw.slots.acquire(auth.identity);
  if (isRefusal(release)) return refuseRaw(gw, client, entry, release);
  client.once('close', release);
  const to = target.value;
  const snapshot = gw.opts.getSnapshot();
  x.admitted = {
    identity: auth.identity,
    token: auth.token,
    host: to.host.kind === 'name' ? to.host.name : undefined,
    port: to.port,
    snapshot,
  };
  if (to.host.kind === 'ip') {
    const allowed = decideLiteral(entry, snapshot, auth.identity, to, to.host.ip, gw.decisionEnv);
    return openTunnel(x, to, head, allowed);
  }
  decideTarget(entry, snapshot, auth.identity, to, gw.decisionEnv)
    .then((allowed) => openTunnel(x, to, head, allowed))
    .catch((err: unknown) => connectFailed(gw, client, err));
}

function connectFailed(gw: GatewayContext, client: Socket, err: unknown): void {
  gw.log.error({ err }, 'CONNECT failed');
  client.destroy();
}

/** Connects a decided CONNECT to its upstream, answers `200` and starts the relay. */
function openTunnel(x: Exchange, target: Authority, head: Buffer, allowed: string[] | Refusal): void {
  const { gw, client, entry } = x;
  if (client.destroyed) return;
  if (isRefusal(allowed)) return refuseRaw(gw, client, entry, allowed);
  const reads = new UpstreamReads();
  connectFirst(gw, entry, allowed, target.port, reads, (connected) => {
    try {
      const upstream = adoptUpstream(x, connected);
      if (upstream === undefined) return;
      client.write(ESTABLISHED);
      Tunnel.open(x, target, upstream, head, EMPTY, reads);
    } catch (err) {
      connectFailed(gw, client, err);
    }
  });
}
