/**
 * @module api/metrics — Prometheus metrics of the API (prom-client), served at `GET /metrics`.
 * Each server gets its own registry so several servers in one process (tests) do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'action' | 'code'>;
  readonly duration: Histogram<'action'>;
  /** Bytes of request bodies held now (the `--api-body-budget` in use). */
  readonly bodyBytes: Gauge;
  /** The most ever held at once. */
  readonly bodyBytesPeak: Gauge;
}

export function createApiMetrics(opts: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'weir_' });
  return {
    registry,
    requests: new Counter({
      name: 'weir_api_requests_total',
      help: 'EC2/STS API requests by action and result code (ok or the EC2 error code).',
      labelNames: ['action', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'weir_api_request_duration_seconds',
      help: 'EC2/STS API request latency by action.',
      labelNames: ['action'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    bodyBytes: new Gauge({
      name: 'weir_api_body_bytes_buffered',
      help: 'Bytes of API request bodies held now, all connections together (bounded by --api-body-budget).',
      registers: [registry],
    }),
    bodyBytesPeak: new Gauge({
      name: 'weir_api_body_bytes_buffered_peak',
      help: 'The most bytes of API request bodies ever held at once.',
      registers: [registry],
    }),
  };
}
