/**
 * @module gateway/ids — decision ids: 9 random bytes (CSPRNG) as 12 base64url characters, drawn
 * from a pool refilled in blocks so that each id is not its own `getrandom` call.
 */
import { randomFillSync } from 'node:crypto';

/** Returns a generator of random 12-character base64url ids, refilling `poolIds` at a time. */
export function randomIds(poolIds = 512): () => string {
  const ID_BYTES = 9;
  const pool = Buffer.alloc(ID_BYTES * poolIds);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const id = pool.toString('base64url', at, at + ID_BYTES);
    at += ID_BYTES;
    return id;
  };
}
