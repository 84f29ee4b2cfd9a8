/**
 * @module explain/denial-target.test — the `--to` a denial's template prints is read back by
 * `weir check` (and `weir exception request`, which shares its syntax) as the same request.
 */
import { describe, expect, test } from 'vitest';
import { destinationText } from '../model/index.js';
import type { DeniedTarget } from '../model/index.js';
import { requestFor } from './explain.js';

describe('destinationText round-trips through requestFor', () => {
  test.each<DeniedTarget>([
    { host: 'api.example.com', port: 443, protocol: 'tcp' },
    { host: 'ntp.example.com', port: 123, protocol: 'udp' },
    { ip: '203.0.113.7', port: 1, protocol: 'tcp' },
    { ip: '2001:db8::1', port: 65535, protocol: 'tcp' },
    { ip: 'fd00::53', port: 53, protocol: 'udp' },
    { ip: '10.0.0.1', port: 0, protocol: 'icmp' },
    { ip: 'fd00::1', port: 0, protocol: 'icmpv6' },
  ])('%o', (t) => {
    const r = requestFor('id', destinationText(t), 0);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { host, ip, port, protocol } = r.value;
    expect({ host, ip, port, protocol }).toEqual({
      host: t.host,
      ip: t.ip,
      port: t.port,
      protocol: t.protocol,
    });
  });
});
