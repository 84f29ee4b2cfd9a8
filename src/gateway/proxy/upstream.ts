/**
 * @module gateway/proxy/upstream — connecting a decided request to its upstream: the first allowed
 * address that answers (each one was checked; nothing else is ever dialled), within the connect
 * timeout, and the socket adopted for relaying once the client is known to be still there.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LogEntry } from '../decision-line.js';
import type { UpstreamReads } from '../upstream-reads.js';
import { ignore } from './context.js';
import type { Exchange, GatewayContext } from './context.js';
import { connectRefusal, isRefusal, refuseRaw } from './refusals.js';
import type { Refusal } from './refusals.js';

/** `connectFirst` as a promise, for the plain-HTTP paths. */
export function connectChecked(
  gw: GatewayContext,
  entry: LogEntry,
  allowed: readonly string[],
  port: number,
  reads?: UpstreamReads,
): Promise<Socket | Refusal> {
  return new Promise((res) => connectFirst(gw, entry, allowed, port, reads, res));
}

/**
 * Connects to the first allowed address that answers (every one was checked) and calls `done`
 * with the socket or a refusal. A callback, not a promise: a CONNECT makes no promise at all.
 */
export function connectFirst(
  gw: GatewayContext,
  entry: LogEntry,
  allowed: readonly string[],
  port: number,
  reads: UpstreamReads | undefined,
  done: (result: Socket | Refusal) => void,
): void {
  const { opts, metrics } = gw;
  const connecting = gw.deadlines.connecting;
  const started = opts.now();
  const t0 = performance.now();
  const finish = (result: Socket | Refusal): void => {
    entry.connectMs = opts.now() - started;
    metrics?.connect.observe((performance.now() - t0) / 1000);
    done(result);
  };
  const attempt = (i: number, last: string): void => {
    const ip = allowed[i];
    if (ip === undefined) return finish(connectRefusal(last));
    entry.ip = ip;
    const sock = opts.connect(ip, port, reads?.onread);
    // With `onread` every read goes straight to the relay: read nothing before it starts.
    if (reads?.inUse === true) sock.pause();
    const onConnect = (): void => settle('ok');
    const onError = (err: NodeJS.ErrnoException): void => settle(err.code ?? 'error');
    const settle = (outcome: string): void => {
      connecting.delete(sock);
      sock.off('connect', onConnect);
      sock.off('error', onError);
      if (outcome !== 'ok') {
        sock.destroy();
        return attempt(i + 1, outcome);
      }
      // A relay must not add Nagle's delay to small writes the endpoints already sent.
      sock.setNoDelay(true);
      // The upstream's FIN ends only its direction: the client's may still be sending.
      sock.allowHalfOpen = true;
      sock.on('error', ignore);
      finish(sock);
    };
    // The sweep settles it as `timeout` at the deadline.
    connecting.set(sock, { deadline: performance.now() + gw.limits.connectTimeoutMs, settle });
    // `on`, not `once`: settle removes both, so once's wrappers would only add garbage.
    sock.on('connect', onConnect);
    sock.on('error', onError);
  };
  attempt(0, 'error');
}

/**
 * The upstream a decided request connected to, its decision logged and the socket counted
 * as a tunnel; undefined when the connect was refused (answered here) or the client left in
 * the meantime (the upstream is closed).
 */
export function adoptUpstream(x: Exchange, connected: Socket | Refusal): Socket | undefined {
  const { gw, client, entry } = x;
  if (isRefusal(connected)) {
    refuseRaw(gw, client, entry, connected);
    return undefined;
  }
  if (client.destroyed) {
    connected.destroy();
    return undefined;
  }
  gw.logDecision(entry);
  gw.sockets.add(connected);
  return connected;
}
