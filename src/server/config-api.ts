/**
 * @module server/config-api — the API listener's options of `weir serve` checked into one
 * `ApiListenConfig`: address, `--api-host` names, TLS material (`--api-tls-cert/--api-tls-key`,
 * read and matched now), the head/request/idle timeouts and the body budget. Each problem is a
 * `WeirError` (`BAD_OPTION`) naming the flag.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { DEFAULT_BODY_BUDGET, parseApiHosts } from '../api/index.js';
import type { ApiHost } from '../api/index.js';
import { WeirError } from '../model/index.js';
import { parseListen } from './options.js';
import type { ListenAddress, ServeOptions } from './options.js';

/** Defaults of the API listener's timeouts. */
export const DEFAULT_API_TIMEOUTS = {
  /** `--api-headers-timeout`: a client must send its whole request head within this. */
  headersMs: 10_000,
  /** `--api-request-timeout`: … and its whole request, body included, within this. */
  requestMs: 30_000,
  /**
   * `--api-idle-timeout`: an idle keep-alive connection is closed after this. Longer than the
   * SDKs' and load balancers' own idle timeouts, so the client, not the server, closes first and
   * a request never races the server's close.
   */
  idleMs: 65_000,
} as const;

/** The API's TLS material, read. */
export interface ApiTls {
  readonly cert: string;
  readonly key: string;
}

/** The API listener, checked. */
export interface ApiListenConfig {
  readonly listen: ListenAddress;
  readonly hosts: readonly ApiHost[];
  readonly tls?: ApiTls;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly bodyBudget: number;
}

const bad = (flag: string, problem: string): WeirError => new WeirError('BAD_OPTION', `${flag}: ${problem}`);

function readPem(flag: string, file: string): { path: string; text: string } {
  const path = resolve(file);
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch {
    throw bad(flag, `cannot read ${path}`);
  }
}

/** `--api-tls-cert` and `--api-tls-key`, both or neither, read and checked to belong together. */
function loadApiTls(certFile: string | undefined, keyFile: string | undefined): ApiTls | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (keyFile === undefined)
    throw bad('--api-tls-cert', "needs --api-tls-key (the certificate's private key)");
  if (certFile === undefined)
    throw bad('--api-tls-key', 'needs --api-tls-cert (the certificate of this key)');
  const cert = readPem('--api-tls-cert', certFile);
  const key = readPem('--api-tls-key', keyFile);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert.text);
  } catch {
    throw bad('--api-tls-cert', `${cert.path} holds no PEM certificate`);
  }
  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(createPrivateKey(key.text));
  } catch {
    throw bad(
      '--api-tls-key',
      `${key.path} holds no usable PEM private key (encrypted keys are not supported)`,
    );
  }
  if (!matches)
    throw bad('--api-tls-key', `${key.path} is not the private key of the certificate in ${cert.path}`);
  try {
    // What OpenSSL itself refuses is found now, not at the first handshake.
    createSecureContext({ cert: cert.text, key: key.text });
  } catch (err) {
    throw bad('--api-tls-cert', `OpenSSL refuses the certificate or key: ${(err as Error).message}`);
  }
  return { cert: cert.text, key: key.text };
}

/** Checks the API listener's options. @throws WeirError (`BAD_OPTION`) naming the flag. */
export function buildApiListenConfig(opts: ServeOptions): ApiListenConfig {
  const listen = parseListen(opts.apiListen, '--api-listen');
  let hosts: readonly ApiHost[];
  try {
    hosts = parseApiHosts(opts.apiHosts ?? []);
  } catch (err) {
    throw bad('--api-host', (err as Error).message);
  }
  const headersTimeoutMs = opts.apiHeadersTimeoutMs ?? DEFAULT_API_TIMEOUTS.headersMs;
  const requestTimeoutMs = opts.apiRequestTimeoutMs ?? DEFAULT_API_TIMEOUTS.requestMs;
  // Node refuses a head deadline past the whole request's; say so in the flags' words.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw bad(
      '--api-headers-timeout',
      `${headersTimeoutMs} ms is longer than --api-request-timeout (${requestTimeoutMs} ms); the head is part of the request`,
    );
  }
  const bodyBudget = opts.apiBodyBudget ?? DEFAULT_BODY_BUDGET;
  if (bodyBudget < 1 << 20) {
    throw bad('--api-body-budget', `must be at least 1MiB (one EC2 request body), got ${bodyBudget} bytes`);
  }
  const tls = loadApiTls(opts.apiTlsCertFile, opts.apiTlsKeyFile);
  return {
    listen,
    hosts,
    ...(tls !== undefined ? { tls } : {}),
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: opts.apiIdleTimeoutMs ?? DEFAULT_API_TIMEOUTS.idleMs,
    bodyBudget,
  };
}
