import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../engine/index.js';
import { createGatewayMetrics } from './metrics.js';

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function setup(): { registry: Registry; metrics: ReturnType<typeof createGatewayMetrics> } {
  const registry = new Registry();
  const snapshot = { version: '1' } as unknown as Snapshot;
  const metrics = createGatewayMetrics(registry, {
    getSnapshot: () => snapshot,
    loadedAt: () => 0,
    now: () => 0,
  });
  return { registry, metrics };
}

describe('gateway hot-path counts', () => {
  it('are all in the scrape that follows them, and keep adding up across scrapes', async () => {
    const { registry, metrics } = setup();
    const { hot } = metrics;
    hot.bytesIn += 5;
    hot.bytesOut += 7;
    hot.activeTunnels++;
    hot.decision('allow', 'matched', 'p');
    hot.decision('allow', 'matched', 'p');
    hot.decision('deny', 'no-match', '');
    let text = await registry.metrics();
    expect(sample(text, 'weir_gateway_bytes_total{direction="in"}')).toBe(5);
    expect(sample(text, 'weir_gateway_bytes_total{direction="out"}')).toBe(7);
    expect(sample(text, 'weir_gateway_active_tunnels')).toBe(1);
    expect(sample(text, 'weir_gateway_decisions_total{result="allow",reason="matched",policy="p"}')).toBe(2);
    expect(sample(text, 'weir_gateway_decisions_total{result="deny",reason="no-match",policy=""}')).toBe(1);

    hot.bytesIn += 3;
    hot.activeTunnels--;
    hot.decision('allow', 'matched', 'p');
    text = await registry.metrics();
    expect(sample(text, 'weir_gateway_bytes_total{direction="in"}')).toBe(8);
    expect(sample(text, 'weir_gateway_bytes_total{direction="out"}')).toBe(7);
    expect(sample(text, 'weir_gateway_active_tunnels')).toBe(0);
    expect(sample(text, 'weir_gateway_decisions_total{result="allow",reason="matched",policy="p"}')).toBe(3);
    // Read through the instrument itself (as the egress share does), not only the registry.
    hot.bytesOut += 1;
    const out = (await metrics.bytes.get()).values.find((v) => v.labels.direction === 'out');
    expect(out?.value).toBe(8);
  });

  it('lose no decision when more label sets arrive between scrapes than are held', async () => {
    const { registry, metrics } = setup();
    for (let i = 0; i < 5000; i++) metrics.hot.decision('deny', 'no-match', `p${i}`);
    metrics.hot.decision('deny', 'no-match', 'p0');
    const text = await registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('weir_gateway_decisions_total{'));
    expect(lines).toHaveLength(5000);
    expect(lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)).toBe(5001);
    expect(sample(text, 'weir_gateway_decisions_total{result="deny",reason="no-match",policy="p0"}')).toBe(2);
  });
});
