/**
 * @module gateway/proxy/descriptors — the gateway's share of the process's file descriptors: the
 * soft `RLIMIT_NOFILE` (read from `/proc/self/limits`, Node having no `getrlimit`), less a reserve
 * kept for everything else in the process (the API and `/healthz` listeners and their clients,
 * the store, log files, DNS sockets), and the connection caps derived from that budget so that
 * the gateway's own sockets can never take the last descriptor.
 */
import { readFileSync } from 'node:fs';
import { WeirError } from '../../model/index.js';
import type { GatewayLimits } from './options.js';

/**
 * The soft limit on open files from the text of `/proc/self/limits` (`Max open files  1024
 * 4096  files`); undefined when the line is absent or says `unlimited`.
 */
export function parseSoftNofile(text: string): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith('Max open files')) continue;
    const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0] ?? '';
    return /^[0-9]{1,12}$/.test(soft) ? Number(soft) : undefined;
  }
  return undefined;
}

/** This process's soft `RLIMIT_NOFILE` on Linux; undefined where `/proc/self/limits` is not. */
export function softDescriptorLimit(read: (path: string) => string = readText): number | undefined {
  try {
    return parseSoftNofile(read('/proc/self/limits'));
  } catch {
    return undefined;
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The caps the gateway enforces on connections, after fitting them to the descriptor budget. */
export interface AdmissionCaps {
  /** The soft `RLIMIT_NOFILE` the caps were fitted to; undefined when unknown (then not fitted). */
  readonly descriptorLimit: number | undefined;
  /** Descriptors left to the rest of the process (`--proxy-fd-reserve`). */
  readonly fdReserve: number;
  /** Client connections in all (authenticated or not); undefined: no cap (the limit is unknown). */
  readonly maxClientConns: number | undefined;
  /** Client connections that have not yet proven an identity, in all. */
  readonly maxPreauthConns: number;
  /** The same, per source address (an IPv6 client: per /64). */
  readonly maxPreauthConnsPerSource: number;
  /** Open tunnels and in-flight plain requests (`--proxy-max-conns`), after fitting. */
  readonly maxConns: number;
  /** Idle upstream connections kept (`--proxy-upstream-max-idle`), after fitting. */
  readonly maxIdleUpstreams: number;
}

/** The fewest descriptors the gateway runs with: a handful of tunnels. */
const MIN_BUDGET = 16;

/**
 * Fits the connection caps to `descriptorLimit − fdReserve`. Each client connection may hold two
 * descriptors (itself and its upstream), and idle upstreams one each, so: idle upstreams get at
 * most an eighth of the budget, client connections half of the rest, connections still proving
 * their identity at most half of those (so that a flood of them leaves room for authenticated
 * work), and `--proxy-max-conns` no more than the client connections. Configured caps that are
 * already lower stay. With the limit unknown, the configured caps stand and client connections
 * are not capped as a whole.
 * @throws WeirError `InvalidFdReserve` when the reserve leaves fewer than 16 descriptors
 *   (`weir serve` prints its message and exits 2).
 */
export function fitToDescriptors(limits: GatewayLimits, descriptorLimit: number | undefined): AdmissionCaps {
  const reserve = limits.fdReserve;
  const perSource = Math.min(limits.maxPreauthConnsPerSource, limits.maxPreauthConns);
  if (descriptorLimit === undefined) {
    return {
      descriptorLimit,
      fdReserve: reserve,
      maxClientConns: undefined,
      maxPreauthConns: limits.maxPreauthConns,
      maxPreauthConnsPerSource: perSource,
      maxConns: limits.maxConns,
      maxIdleUpstreams: limits.maxIdleUpstreams,
    };
  }
  const budget = descriptorLimit - reserve;
  if (budget < MIN_BUDGET) {
    throw new WeirError(
      'InvalidFdReserve',
      `--proxy-fd-reserve ${reserve} leaves the gateway ${Math.max(0, budget)} of the process's ` +
        `${descriptorLimit} file descriptors (ulimit -n); it needs at least ${MIN_BUDGET}: raise ` +
        'the limit (ulimit -n, or LimitNOFILE= in a systemd unit) or lower --proxy-fd-reserve',
    );
  }
  const maxIdleUpstreams = Math.min(limits.maxIdleUpstreams, Math.floor(budget / 8));
  const maxClientConns = Math.floor((budget - maxIdleUpstreams) / 2);
  const maxPreauthConns = Math.min(limits.maxPreauthConns, Math.max(1, Math.floor(maxClientConns / 2)));
  return {
    descriptorLimit,
    fdReserve: reserve,
    maxClientConns,
    maxPreauthConns,
    maxPreauthConnsPerSource: Math.min(perSource, maxPreauthConns),
    maxConns: Math.min(limits.maxConns, maxClientConns),
    maxIdleUpstreams,
  };
}
