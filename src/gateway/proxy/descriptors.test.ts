import { describe, expect, test } from 'vitest';
import { WeirError } from '../../model/index.js';
import { fitToDescriptors, parseSoftNofile, softDescriptorLimit } from './descriptors.js';
import { sourceKey } from './admission.js';
import { DEFAULT_GATEWAY_LIMITS } from './options.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('the soft RLIMIT_NOFILE from /proc/self/limits', () => {
  test('reads the soft limit; unlimited or absent is unknown', () => {
    expect(parseSoftNofile(LIMITS)).toBe(1024);
    expect(parseSoftNofile(LIMITS.replace('1024  ', 'unlimited'))).toBeUndefined();
    expect(parseSoftNofile('Limit Soft Hard Units\n')).toBeUndefined();
    expect(softDescriptorLimit(() => LIMITS)).toBe(1024);
    expect(
      softDescriptorLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  test('this process on Linux: a number', () => {
    if (process.platform === 'linux') expect(softDescriptorLimit()).toBeGreaterThan(0);
  });
});

describe('caps fitted to the descriptor budget', () => {
  test('ulimit -n 1024 with the default reserve: gateway sockets stay within 1024 - 128', () => {
    const caps = fitToDescriptors(DEFAULT_GATEWAY_LIMITS, 1024);
    expect(caps).toEqual({
      descriptorLimit: 1024,
      fdReserve: 128,
      maxIdleUpstreams: 112,
      maxClientConns: 392,
      maxPreauthConns: 196,
      maxPreauthConnsPerSource: 100,
      maxConns: 392,
    });
    // Each client connection with its upstream, and every idle upstream.
    expect(2 * (caps.maxClientConns ?? 0) + caps.maxIdleUpstreams).toBeLessThanOrEqual(1024 - 128);
  });

  test('a high limit leaves the configured caps; an unknown one does not fit them', () => {
    expect(fitToDescriptors(DEFAULT_GATEWAY_LIMITS, 1_048_576)).toMatchObject({
      maxPreauthConns: 1_000,
      maxPreauthConnsPerSource: 100,
      maxConns: 10_000,
      maxIdleUpstreams: 256,
    });
    expect(fitToDescriptors(DEFAULT_GATEWAY_LIMITS, undefined)).toMatchObject({
      maxClientConns: undefined,
      maxPreauthConns: 1_000,
      maxConns: 10_000,
    });
  });

  test('a per-source cap above the total is the total', () => {
    const caps = fitToDescriptors(
      { ...DEFAULT_GATEWAY_LIMITS, maxPreauthConns: 10, maxPreauthConnsPerSource: 50 },
      undefined,
    );
    expect(caps.maxPreauthConnsPerSource).toBe(10);
  });

  test('a reserve that leaves under 16 descriptors is refused with the fix', () => {
    expect(() => fitToDescriptors({ ...DEFAULT_GATEWAY_LIMITS, fdReserve: 250 }, 256)).toThrow(WeirError);
    expect(() => fitToDescriptors({ ...DEFAULT_GATEWAY_LIMITS, fdReserve: 250 }, 256)).toThrow(
      /raise the limit \(ulimit -n.*or lower --proxy-fd-reserve/,
    );
  });
});

describe('the source a pre-authentication cap counts by', () => {
  test.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:0DB8:0001:0002::', '2001:db8:1:2::/64'],
  ])('%s → %s', (address, key) => {
    expect(sourceKey(address)).toBe(key);
  });
});
