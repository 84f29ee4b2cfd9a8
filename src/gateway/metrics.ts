/**
 * @module gateway/metrics — Prometheus metrics of the egress gateway (prom-client), registered on
 * the registry the API serves at `GET /metrics`, so one scrape shows the control plane and the
 * gateway together.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Snapshot } from '../engine/index.js';

/** The gateway's instruments. */
export interface GatewayMetrics {
  /** Decisions by result (`allow`, `deny`, `would-deny`, `unauthenticated`, `error`), reason, policy. */
  readonly decisions: Counter<'result' | 'reason' | 'policy'>;
  readonly wouldDeny: Counter<'policy'>;
  /** Guardrail denials by range (the CIDR, e.g. `169.254.169.254/32`). */
  readonly guardrailBlocks: Counter<'range'>;
  readonly dnsLookup: Histogram;
  readonly connect: Histogram;
  readonly activeTunnels: Gauge;
  /** `in`: destination → client; `out`: client → destination. */
  readonly bytes: Counter<'direction'>;
}

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

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2, 10];

/**
 * Registers the gateway metrics on `registry`.
 * `weir_gateway_snapshot_version` is the snapshot generation (`generation`, else the version read
 * as a number, 0 when it is not one); `weir_gateway_snapshot_info{version}` names what it is
 * built from.
 */
export function createGatewayMetrics(registry: Registry, snapshot: SnapshotInfo): GatewayMetrics {
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
  return {
    decisions: new Counter({
      name: 'weir_gateway_decisions_total',
      help: 'Gateway decisions by result, reason and policy.',
      labelNames: ['result', 'reason', 'policy'],
      registers,
    }),
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
    }),
    bytes: new Counter({
      name: 'weir_gateway_bytes_total',
      help: 'Bytes relayed by the gateway (in: from destinations, out: to destinations).',
      labelNames: ['direction'],
      registers,
    }),
  };
}
