/**
 * @module gateway/metrics — Prometheus metrics of the egress gateway (prom-client), registered on
 * the registry the API serves at `GET /metrics`, so one scrape shows the control plane and the
 * gateway together.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Snapshot } from '../engine/index.js';
import { decisionOutcomes } from './outcome-metrics.js';

/** The gateway's instruments. */
export interface GatewayMetrics {
  /** Decisions by result (`allow`, `deny`, `would-deny`, `unauthenticated`, `error`), reason, policy. */
  readonly decisions: Counter<'result' | 'reason' | 'policy'>;
  readonly wouldDeny: Counter<'policy'>;
  /** Guardrail denials by range (the CIDR, e.g. `169.254.169.254/32`). */
  readonly guardrailBlocks: Counter<'range'>;
  /** Denials with no rule near (neither destination nor port of any rule): failed exfiltration attempts. */
  readonly unknownDestinations: Counter;
  /** Open tunnels and keep-alive connections cut: `revoked`, `expired`, `policy-changed`. */
  readonly connectionsCut: Counter<'reason'>;
  readonly dnsLookup: Histogram;
  readonly connect: Histogram;
  readonly activeTunnels: Gauge;
  /** `in`: destination → client; `out`: client → destination. */
  readonly bytes: Counter<'direction'>;
  /** Where the gateway counts per tunnel and per chunk; folded into the instruments above at each scrape. */
  readonly hot: HotCounts;
}

/**
 * The gateway's hot-path counts as plain numbers. prom-client hashes the label set on every
 * `inc` (per relayed chunk, per tunnel); these are added to `bytes`, `decisions` and
 * `activeTunnels` only when the registry is read, so a scrape shows everything counted before it.
 */
export interface HotCounts {
  /** Bytes from destinations to clients not yet added to `weir_gateway_bytes_total{direction="in"}`. */
  bytesIn: number;
  /** Bytes from clients to destinations not yet added to `{direction="out"}`. */
  bytesOut: number;
  /** CONNECT tunnels (and upgraded connections) open now. */
  activeTunnels: number;
  /** Counts one decision in `weir_gateway_decisions_total`. */
  decision(result: string, reason: string, policy: string): void;
}

/** Distinct decision label sets held between scrapes before they are folded in early. */
const MAX_PENDING_DECISION_LABELS = 4096;

/** Where the snapshot gauges read from at scrape time. */
export interface SnapshotInfo {
  readonly getSnapshot: () => Snapshot;
  /** Epoch ms when the current snapshot was loaded. */
  readonly loadedAt: () => number;
  /** Epoch ms. */
  readonly now: () => number;
  /** How many snapshots have been enforced (each swap adds one); else the version read as a number. */
  readonly generation?: () => number;
}

/** Reads the host's interface byte counters: the text of Linux's `/proc/net/dev`, or undefined. */
export type InterfaceCountersReader = () => string | undefined;

/** `/proc/net/dev` of this host, or undefined where there is none (not Linux). */
export const readProcNetDev: InterfaceCountersReader = () => {
  try {
    return readFileSync('/proc/net/dev', 'utf8');
  } catch {
    return undefined;
  }
};

/** Parses `/proc/net/dev`: interface → received and transmitted bytes. */
export function parseProcNetDev(text: string): Map<string, { rxBytes: number; txBytes: number }> {
  const out = new Map<string, { rxBytes: number; txBytes: number }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes …
    const rx = Number(fields[0]);
    const tx = Number(fields[8]);
    if (fields.length < 9 || !Number.isFinite(rx) || !Number.isFinite(tx)) continue;
    out.set(line.slice(0, colon).trim(), { rxBytes: rx, txBytes: tx });
  }
  return out;
}

/** Where the egress-share gauge reads the host's transmitted bytes. */
export interface EgressShareSource {
  readonly read: InterfaceCountersReader;
  /** Interfaces whose transmitted bytes count as egress; default: all but loopback (`lo`). */
  readonly interfaces?: readonly string[];
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2, 10];

/**
 * Registers the gateway metrics on `registry`.
 * `weir_gateway_snapshot_version` is the snapshot generation (`generation`, else the version read
 * as a number, 0 when it is not one); `weir_gateway_snapshot_info{version}` names what it is
 * built from.
 */
export function createGatewayMetrics(
  registry: Registry,
  snapshot: SnapshotInfo,
  share?: EgressShareSource,
): GatewayMetrics {
  const registers = [registry];
  new Gauge({
    name: 'weir_gateway_snapshot_version',
    help: 'Generation of the policy snapshot the gateway enforces.',
    registers,
    collect() {
      const v = snapshot.generation?.() ?? Number(snapshot.getSnapshot().version);
      this.set(Number.isFinite(v) ? v : 0);
    },
  });
  new Gauge({
    name: 'weir_gateway_snapshot_info',
    help: 'The enforced snapshot: what it is built from (policy generation or bundle version, store changes).',
    labelNames: ['version'],
    registers,
    collect() {
      this.reset();
      this.set({ version: snapshot.getSnapshot().version }, 1);
    },
  });
  new Gauge({
    name: 'weir_gateway_snapshot_age_seconds',
    help: 'Seconds since the enforced policy snapshot was loaded.',
    registers,
    collect() {
      this.set(Math.max(0, (snapshot.now() - snapshot.loadedAt()) / 1000));
    },
  });
  const pendingDecisions = new Map<string, { labels: [string, string, string]; n: number }>();
  const foldDecisions = (): void => {
    for (const p of pendingDecisions.values()) {
      if (p.n > 0) decisions.inc({ result: p.labels[0], reason: p.labels[1], policy: p.labels[2] }, p.n);
    }
    pendingDecisions.clear();
  };
  const hot: HotCounts = {
    bytesIn: 0,
    bytesOut: 0,
    activeTunnels: 0,
    decision(result, reason, policy) {
      const key = `${result}\0${reason}\0${policy}`;
      const p = pendingDecisions.get(key);
      if (p !== undefined) {
        p.n++;
        return;
      }
      if (pendingDecisions.size >= MAX_PENDING_DECISION_LABELS) foldDecisions();
      pendingDecisions.set(key, { labels: [result, reason, policy], n: 1 });
    },
  };
  const bytes = new Counter({
    name: 'weir_gateway_bytes_total',
    help: 'Bytes relayed by the gateway (in: from destinations, out: to destinations).',
    labelNames: ['direction'],
    registers,
    collect() {
      if (hot.bytesIn > 0) this.inc({ direction: 'in' }, hot.bytesIn);
      if (hot.bytesOut > 0) this.inc({ direction: 'out' }, hot.bytesOut);
      hot.bytesIn = 0;
      hot.bytesOut = 0;
    },
  });
  const decisions = new Counter({
    name: 'weir_gateway_decisions_total',
    help: 'Gateway decisions by result, reason and policy.',
    labelNames: ['result', 'reason', 'policy'],
    registers,
    collect: foldDecisions,
  });
  if (share !== undefined) registerEgressShare(registers, bytes, share);
  return {
    decisions,
    wouldDeny: new Counter({
      name: 'weir_gateway_would_deny_total',
      help: 'Requests a report-mode policy let through that enforce mode would deny.',
      labelNames: ['policy'],
      registers,
    }),
    guardrailBlocks: new Counter({
      name: 'weir_gateway_guardrail_blocks_total',
      help: 'Requests blocked by a guardrail, by range.',
      labelNames: ['range'],
      registers,
    }),
    ...decisionOutcomes(registers),
    connectionsCut: new Counter({
      name: 'weir_gateway_connections_cut_total',
      help: 'Open tunnels and keep-alive client connections cut because their token was revoked or expired, or the policy no longer allows their destination.',
      labelNames: ['reason'],
      registers,
    }),
    dnsLookup: new Histogram({
      name: 'weir_gateway_dns_lookup_seconds',
      help: 'Time to resolve a destination name.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    connect: new Histogram({
      name: 'weir_gateway_connect_seconds',
      help: 'Time to open the upstream TCP connection (all checked addresses tried).',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    activeTunnels: new Gauge({
      name: 'weir_gateway_active_tunnels',
      help: 'CONNECT tunnels currently open.',
      registers,
      collect() {
        this.set(hot.activeTunnels);
      },
    }),
    bytes,
    hot,
  };
}

/**
 * `weir_gateway_egress_share`: of the bytes the host's egress interfaces transmitted since the
 * previous scrape, the share the gateway sent to destinations (`weir_gateway_bytes_total{direction="out"}`),
 * clamped to 0..1. On a dedicated egress node, well below 1 means traffic leaves without passing
 * the gateway. TCP/IP headers are counted by the interfaces and not by the gateway, so a node
 * whose egress all goes through Weir reads a little under 1. NaN before the second scrape and
 * when nothing was transmitted. `weir_gateway_interface_transmit_bytes` is the interfaces' sum, for
 * shares over other windows in PromQL.
 */
function registerEgressShare(
  registers: Registry[],
  bytes: Counter<'direction'>,
  share: EgressShareSource,
): void {
  const transmitted = (): number | undefined => {
    const text = share.read();
    if (text === undefined) return undefined;
    let sum = 0;
    for (const [name, c] of parseProcNetDev(text)) {
      if (share.interfaces === undefined ? name !== 'lo' : share.interfaces.includes(name)) sum += c.txBytes;
    }
    return sum;
  };
  new Gauge({
    name: 'weir_gateway_interface_transmit_bytes',
    help: 'Bytes transmitted by the egress interfaces of the host (from /proc/net/dev).',
    registers,
    collect() {
      const tx = transmitted();
      if (tx !== undefined) this.set(tx);
    },
  });
  let last: { gateway: number; tx: number } | undefined;
  new Gauge({
    name: 'weir_gateway_egress_share',
    help: 'Share (0..1) of the bytes the egress interfaces transmitted since the last scrape that the gateway sent.',
    registers,
    async collect() {
      const tx = transmitted();
      if (tx === undefined) return;
      const out = (await bytes.get()).values.find((v) => v.labels.direction === 'out')?.value ?? 0;
      const dTx = tx - (last?.tx ?? NaN);
      const dOut = out - (last?.gateway ?? NaN);
      last = { gateway: out, tx };
      // A first scrape, an idle interval or a counter reset (interface re-created) has no share.
      this.set(dTx > 0 && dOut >= 0 ? Math.min(1, dOut / dTx) : NaN);
    },
  });
}
