import { describe, expect, it } from 'vitest';
import { randomIds } from './ids.js';

describe('randomIds', () => {
  it('gives distinct 12-character base64url ids across pool refills', () => {
    const next = randomIds(4);
    const ids = Array.from({ length: 50 }, () => next());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
