/**
 * @module test/policy-bundle — a signed bundle of examples/policies round-trips into a
 * PolicyBundleSlot, and every tampering (source, version, signature, key, truncation, rollback)
 * is refused with its reason while the slot keeps the bundle it had.
 */
import { createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  contentHashOf,
  createBundle,
  generateSigningKey,
  openBundle,
  readBundleSources,
  readPrivateKey,
  serializeBundle,
  signedBytes,
  trustKeys,
  verifyBundle,
} from '../../src/policy/bundle.js';
import type { BundleSource, LoadedBundle, PolicyBundle } from '../../src/policy/bundle.js';
import { PolicyBundleSlot } from '../../src/policy/bundle-slot.js';
import { sign } from 'node:crypto';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const signer = generateSigningKey();
const signingKey = readPrivateKey(signer.privateKeyPem);
const attacker = readPrivateKey(generateSigningKey().privateKeyPem);
const { sources: EXAMPLES, diagnostics: IO } = readBundleSources('examples/policies');

function bundle(version: number, sources: readonly BundleSource[] = EXAMPLES, key = signingKey): string {
  return serializeBundle(createBundle({ sources, privateKey: key, version }));
}

/** A parsed bundle an attacker may edit. */
type Editable = { -readonly [K in keyof PolicyBundle]: PolicyBundle[K] } & Record<string, unknown>;

/** Edits the parsed bundle, and re-serializes it without re-signing. */
function tamper(text: string, edit: (b: Editable) => void): string {
  const b = JSON.parse(text) as Editable;
  edit(b);
  return JSON.stringify(b);
}

describe('readBundleSources', () => {
  it('takes the policy and test YAML files of the directory with relative paths', () => {
    expect(IO).toEqual([]);
    expect(EXAMPLES.map((s) => s.path)).toEqual([
      'analytics.yaml',
      'ci-builder.yaml',
      'payments-checkout.yaml',
      'registry.yaml',
      'tests/payments-checkout.yaml',
    ]);
  });

  it('reports a directory without policy files', () => {
    const r = readBundleSources('docs');
    expect(r.sources).toEqual([]);
    expect(r.diagnostics).toMatchObject([{ code: 'io', message: 'no policy files (*.yaml, *.yml) here' }]);
  });
});

describe('PolicyBundleSlot', () => {
  let slot: PolicyBundleSlot;
  let changes: { next: number; previous: number | undefined }[];
  const v2 = bundle(2);

  beforeEach(() => {
    changes = [];
    slot = new PolicyBundleSlot(
      [signer.publicKeyPem],
      (next, previous) => changes.push({ next: next.bundle.version, previous: previous?.bundle.version }),
      { now: () => NOW },
    );
    expect(slot.current()).toBeUndefined();
    expect(slot.load(v2)).toMatchObject({ ok: true, version: 2 });
  });

  it('loads a bundle of examples/policies: the set, tests included, ready to compile', () => {
    const current = slot.current();
    expect(current?.bundle.sources).toEqual(EXAMPLES);
    expect(current?.set.policies.map((p) => p.name).sort()).toEqual([
      'analytics-events',
      'ci-builder',
      'payments-checkout',
    ]);
    expect(current?.set.workloads.length).toBe(5);
    // tests/payments-checkout.yaml is loaded as a test file (its cases join their policy).
    expect(current?.set.policies.find((p) => p.name === 'payments-checkout')?.tests.length).toBeGreaterThan(
      0,
    );
    expect(current?.diagnostics).toEqual([]);
    expect(current?.set.policies[0]?.loc.file).toMatch(/^[a-z-]+\.yaml$/);
    expect(changes).toEqual([{ next: 2, previous: undefined }]);
  });

  it('accepts a newer bundle and hands the previous one to the consumer', () => {
    const edited = EXAMPLES.map((s) =>
      s.path === 'analytics.yaml' ? { ...s, text: s.text.replace('mode: report', 'mode: enforce') } : s,
    );
    const r = slot.load(Buffer.from(bundle(3, edited)));
    expect(r).toMatchObject({ ok: true, version: 3 });
    expect(slot.current()?.set.policies.find((p) => p.name === 'analytics-events')?.mode).toBe('enforce');
    expect(changes).toEqual([
      { next: 2, previous: undefined },
      { next: 3, previous: 2 },
    ]);
  });

  const SOURCE = 'payments-checkout.yaml';
  const editText = (b: Editable) => {
    const s = b.sources.find((x) => x.path === SOURCE) as { text: string };
    s.text = s.text.replace('443', '444');
  };

  it.each<[string, () => string | Uint8Array, string, RegExp]>([
    ['a changed source text', () => tamper(bundle(3), editText), 'hash-mismatch', /^hash mismatch: /],
    [
      'a changed source text with its hash recomputed',
      () => {
        const forged = createBundle({
          sources: EXAMPLES.map((s) =>
            s.path === SOURCE ? { ...s, text: s.text.replace('443', '444') } : s,
          ),
          privateKey: attacker,
          version: 3,
        });
        return tamper(bundle(3), (b) => {
          b.sources = forged.sources;
          b.contentHash = forged.contentHash;
        });
      },
      'signature-invalid',
      /^signature invalid: not signed by key sha256:/,
    ],
    [
      'a changed version',
      () =>
        tamper(bundle(3), (b) => {
          b.version = 4;
        }),
      'signature-invalid',
      /^signature invalid/,
    ],
    [
      'a changed creation time',
      () =>
        tamper(bundle(3), (b) => {
          b.created = '2030-01-01T00:00:00.000Z';
        }),
      'signature-invalid',
      /^signature invalid/,
    ],
    [
      'a signature swapped from another bundle by the same key',
      () => {
        const other = JSON.parse(bundle(4)) as PolicyBundle;
        return tamper(bundle(3), (b) => {
          b.signature = other.signature;
        });
      },
      'signature-invalid',
      /^signature invalid/,
    ],
    [
      'a bundle re-signed by another key',
      () => bundle(3, EXAMPLES, attacker),
      'unknown-key',
      /^unknown key sha256:/,
    ],
    [
      "another key's signature under the trusted key ID",
      () =>
        tamper(bundle(3, EXAMPLES, attacker), (b) => {
          b.keyId = signer.keyId;
        }),
      'signature-invalid',
      /^signature invalid/,
    ],
    ['a truncated file', () => bundle(3).slice(0, 2000), 'bad-json', /^not a bundle: bad JSON \(/],
    ['an empty file', () => '', 'bad-json', /^not a bundle: bad JSON/],
    ['a JSON array', () => '[]', 'bad-json', /^not a bundle: the JSON is not an object$/],
    ['bytes that are not UTF-8', () => Buffer.from([0x7b, 0xff, 0x7d]), 'bad-json', /bad JSON/],
    [
      'an unknown format',
      () =>
        tamper(bundle(3), (b) => {
          (b as Record<string, unknown>).format = 'weir.bundle/v2';
        }),
      'unknown-format',
      /^unknown format "weir.bundle\/v2" \(this Weir reads weir.bundle\/v1\)$/,
    ],
    [
      'an extra field (unsigned data riding along)',
      () =>
        tamper(bundle(3), (b) => {
          b.note = 'x';
        }),
      'malformed',
      /^malformed bundle: unknown field note$/,
    ],
    [
      'a source path leaving the directory',
      () => {
        const unsigned = {
          format: 'weir.bundle/v1' as const,
          version: 3,
          created: new Date(NOW).toISOString(),
          keyId: signer.keyId,
          contentHash: contentHashOf([{ path: '../x.yaml', text: 'x' }]),
          sources: [{ path: '../x.yaml', text: 'x' }],
        };
        return JSON.stringify({
          ...unsigned,
          signature: sign(null, signedBytes(unsigned), signingKey).toString('base64'),
        });
      },
      'malformed',
      /not a relative path inside the bundled directory/,
    ],
    [
      'a rollback to an older version',
      () => bundle(1),
      'not-newer',
      /^version 1 is not newer than the current version 2 \(replay or rollback\)$/,
    ],
    ['a replay of the current version', () => bundle(2), 'not-newer', /^version 2 is not newer/],
    [
      'a validly signed set with load errors',
      () => bundle(3, [...EXAMPLES, { path: 'broken.yaml', text: 'apiVersion: weir.dev/v1\nkind: Nope\n' }]),
      'invalid-policy',
      /^the policy set has 1 error; first: broken.yaml:2:7: /,
    ],
    [
      'a policy under tests/ (where only test files belong, as in weir policy lint)',
      () => {
        const policy = EXAMPLES.find((s) => s.path === 'ci-builder.yaml') as BundleSource;
        return bundle(3, [
          ...EXAMPLES.filter((s) => s !== policy),
          { ...policy, path: 'tests/ci-builder.yaml' },
        ]);
      },
      'invalid-policy',
      /^the policy set has \d+ errors?; first: tests\/ci-builder.yaml:/,
    ],
    [
      'a validly signed set with lint errors',
      () =>
        bundle(
          3,
          EXAMPLES.map((s) =>
            s.path === SOURCE
              ? { ...s, text: s.text.replace(/ *justification: Card authorisation\n/, '') }
              : s,
          ),
        ),
      'invalid-policy',
      /^the policy set has 1 error; first: payments-checkout.yaml:\d+:\d+: rule 'stripe-api' does not say why it is needed$/,
    ],
  ])('refuses %s and keeps the previous bundle', (_name, make, code, reason) => {
    const before = slot.current();
    const r = slot.load(make());
    expect(r).toMatchObject({ ok: false, code });
    expect(r.ok ? '' : r.reason).toMatch(reason);
    expect(slot.current()).toBe(before);
    expect(slot.current()?.bundle.version).toBe(2);
    expect(changes).toHaveLength(1);
    // The slot still moves on to a good newer bundle afterwards.
    expect(slot.load(bundle(5))).toMatchObject({ ok: true, version: 5 });
  });

  it('keeps the previous bundle when the consumer (the engine compile) throws', () => {
    const before = slot.current();
    const strict = new PolicyBundleSlot(
      trustKeys([createPublicKey(signingKey)]),
      (next) => {
        if (next.bundle.version === 3) throw new Error('compile failed');
      },
      { now: () => NOW },
    );
    expect(strict.load(v2)).toMatchObject({ ok: true });
    expect(strict.load(bundle(3))).toEqual({
      ok: false,
      code: 'rejected-by-consumer',
      reason: 'the consumer refused version 3: compile failed',
    });
    expect(strict.current()?.bundle.version).toBe(2);
    expect(slot.current()).toBe(before);
  });

  it('accepts expired rules (time alone must not make a signed bundle unloadable)', () => {
    const late = new PolicyBundleSlot([signer.publicKeyPem], () => {}, {
      now: () => Date.parse('2031-01-01'),
    });
    const r = late.load(v2);
    expect(r).toMatchObject({ ok: true, version: 2 });
    expect(late.current()?.diagnostics.some((d) => d.code === 'expired')).toBe(true);
  });

  it('keeps rollback protection across a restart with minVersion', () => {
    const restarted = new PolicyBundleSlot([signer.publicKeyPem], () => {}, {
      now: () => NOW,
      minVersion: 2,
    });
    expect(restarted.load(v2)).toMatchObject({ ok: false, code: 'not-newer' });
    expect(restarted.current()).toBeUndefined();
    expect(restarted.load(bundle(3))).toMatchObject({ ok: true, version: 3 });
  });

  it('trusts several keys and needs at least one', () => {
    const both = new PolicyBundleSlot([signer.publicKeyPem, createPublicKey(attacker)], () => {}, {
      now: () => NOW,
    });
    expect(both.load(bundle(7, EXAMPLES, attacker))).toMatchObject({ ok: true, version: 7 });
    expect(() => new PolicyBundleSlot([], () => {})).toThrow(/at least one trusted key/);
  });
});

describe('any single-byte corruption', () => {
  const text = bundle(9);
  const original = JSON.parse(text) as unknown;
  const trusted = trustKeys([signer.publicKeyPem]);

  it('is refused, unless it leaves the parsed bundle unchanged (whitespace)', () => {
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.integer({ min: 0x20, max: 0x7e }), (at, code) => {
        const mutated = text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1);
        const r = verifyBundle(mutated, trusted);
        if (r.ok) expect(JSON.parse(mutated)).toEqual(original);
      }),
      { numRuns: 300 },
    );
  });
});

describe('openBundle', () => {
  it('is what the slot runs, without state', () => {
    const r = openBundle(bundle(4), trustKeys([signer.publicKeyPem]), { current: 3, now: NOW });
    expect(r.ok).toBe(true);
    const loaded = r as LoadedBundle;
    expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
