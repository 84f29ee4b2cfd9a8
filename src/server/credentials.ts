/**
 * @module server/credentials — the access keys `weir serve` accepts: `--credentials FILE` when
 * given, else `DATA/credentials`, created on first start with a new admin key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyRing, generateAccessKey, parseCredentialsFile, renderCredentialsFile } from '../api/index.js';
import type { AccessKey } from '../api/index.js';

/** The keys loaded, from which file, and whether it was created now. */
export interface LoadedKeys {
  readonly file: string;
  readonly keys: KeyRing;
  readonly created: boolean;
}

/**
 * Reads `credentialsFile` (checked to exist), else `DATA/credentials`, which is created with a
 * new admin key when missing (mode 0600: it holds a secret; `wx`: never over another's file).
 */
export function loadKeys(dataDir: string, credentialsFile: string | undefined): LoadedKeys {
  const file = credentialsFile ?? join(dataDir, 'credentials');
  if (credentialsFile !== undefined || existsSync(file)) {
    return {
      file,
      keys: new KeyRing(parseCredentialsFile(readFileSync(file, 'utf8'), file)),
      created: false,
    };
  }
  const key: AccessKey = generateAccessKey(randomBytes);
  writeFileSync(file, renderCredentialsFile([key]), { mode: 0o600, flag: 'wx' });
  return { file, keys: new KeyRing([key]), created: true };
}
