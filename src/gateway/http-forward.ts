/**
 * @module gateway/http-forward — pieces of plain-HTTP forwarding that hold upstream sockets: the
 * keep-alive pool of idle upstream connections (keyed by the checked address, port and Host, so a
 * socket is only ever reused for a request that was decided to that same address), the one-socket
 * agent that hands a checked socket to `http.request`. An upgraded (`101`) connection is relayed
 * by the tunnel relay in `proxy/tunnel.ts`.
 */
import type { Agent, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

/** Bounds of the idle upstream pool. */
export interface UpstreamPoolLimits {
  /** An idle upstream socket is closed after this; keep it below upstreams' own keep-alive timeout. */
  readonly idleTimeoutMs: number;
  /** Idle sockets per (address, port, Host). */
  readonly maxIdlePerKey: number;
  /** Idle sockets in all. */
  readonly maxIdleTotal: number;
}

/** Idle keep-alive connections to upstreams, bounded per key and in total. */
export interface UpstreamPool {
  /**
   * An idle, still open socket to one of `ips` (each already allowed for this request) on `port`
   * for `host`, in the order of `ips`; undefined when there is none.
   */
  take(ips: readonly string[], port: number, host: string): { ip: string; socket: Socket } | undefined;
  /** Keeps `socket` (to `ip`:`port`, last used for `host`) for reuse, or closes it when the pool is full. */
  offer(ip: string, port: number, host: string, socket: Socket): void;
  /** Idle sockets held now. */
  readonly size: number;
  /** Closes every idle socket. */
  close(): void;
}

const poolKey = (ip: string, port: number, host: string): string => `${ip}\0${port}\0${host.toLowerCase()}`;

/** Whether an idle socket can carry another request (the upstream has not closed or reset it). */
function reusable(s: Socket): boolean {
  return !s.destroyed && s.readable && s.writable && !s.readableEnded && !s.writableEnded;
}

/** Creates the pool. */
export function createUpstreamPool(limits: UpstreamPoolLimits): UpstreamPool {
  const idle = new Map<string, Socket[]>();
  let size = 0;
  const remove = (key: string, s: Socket): void => {
    const list = idle.get(key);
    const i = list?.indexOf(s) ?? -1;
    if (list === undefined || i < 0) return;
    list.splice(i, 1);
    size--;
    if (list.length === 0) idle.delete(key);
  };
  /** Per socket: the listeners that drop it from the pool while it waits there. */
  const watchers = new WeakMap<Socket, () => void>();
  const unwatch = (s: Socket): void => {
    const w = watchers.get(s);
    if (w === undefined) return;
    watchers.delete(s);
    s.off('close', w).off('end', w).off('timeout', w);
  };
  return {
    take(ips, port, host) {
      for (const ip of ips) {
        const key = poolKey(ip, port, host);
        const list = idle.get(key);
        while (list !== undefined && list.length > 0) {
          // Most recently used first: the least likely to have been timed out by the upstream.
          const s = list.pop() as Socket;
          size--;
          if (list.length === 0) idle.delete(key);
          unwatch(s);
          s.setTimeout(0);
          if (reusable(s)) return { ip, socket: s };
          s.destroy();
        }
      }
      return undefined;
    },
    offer(ip, port, host, socket) {
      const key = poolKey(ip, port, host);
      const list = idle.get(key) ?? [];
      if (!reusable(socket) || list.length >= limits.maxIdlePerKey || size >= limits.maxIdleTotal) {
        socket.destroy();
        return;
      }
      list.push(socket);
      idle.set(key, list);
      size++;
      // An upstream that closes an idle connection (its keep-alive timeout) takes it out of the pool.
      const drop = (): void => {
        unwatch(socket);
        remove(key, socket);
        socket.destroy();
      };
      watchers.set(socket, drop);
      socket.once('close', drop).once('end', drop).once('timeout', drop);
      socket.setTimeout(limits.idleTimeoutMs);
    },
    get size() {
      return size;
    },
    close() {
      for (const list of idle.values()) for (const s of list) s.destroy();
      idle.clear();
      size = 0;
    },
  };
}

/**
 * An `http.Agent` stand-in that gives its one request the socket the gateway connected to a
 * checked address. With `keepAlive` it lets Node keep the connection open and emit `free` on the
 * socket once the exchange is complete (a plain `createConnection` forces `Connection: close`).
 */
export function oneSocketAgent(socket: Socket, keepAlive: boolean): Agent {
  return {
    keepAlive,
    maxSockets: 1,
    protocol: 'http:',
    defaultPort: 80,
    addRequest(req: ClientRequest) {
      req.onSocket(socket);
    },
  } as unknown as Agent;
}
