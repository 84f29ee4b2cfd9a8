/**
 * @module identity/tls — the gateway's TLS listener material from `weir serve
 * --proxy-tls-cert FILE --proxy-tls-key FILE [--proxy-client-ca FILE]`, checked before anything
 * listens: every problem (a missing file, no PEM in it, a key that is not the certificate's, a
 * certificate without its key) is one `WeirError` naming the option to fix. The client CA is
 * what certificate identities are verified against. Watching the files for rotation is the
 * `snapshot`'s (`snapshot/identity-tls-watch.ts`).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { WeirError } from '../model/index.js';

/** The option values, as given. */
export interface GatewayTlsFiles {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly clientCaFile?: string;
}

/** PEM texts the gateway listens with. */
export interface GatewayTls {
  /** The gateway's certificate (and chain). */
  readonly cert: string;
  readonly key: string;
  /** CA certificates that sign client certificates; without it none is asked for. */
  readonly clientCa?: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function bad(option: string, message: string): WeirError {
  return new WeirError('BAD_OPTION', `${option}: ${message}`);
}

function read(option: string, file: string): { path: string; text: string } {
  const path = resolve(file);
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw bad(option, `cannot read ${path} (${code})`);
  }
}

function certificates(option: string, path: string, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0)
    throw bad(option, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw bad(option, `certificate ${i + 1} in ${path} does not parse (${(err as Error).message})`);
    }
  });
}

/**
 * Reads and checks the TLS options; undefined when none is given (the gateway speaks plain HTTP).
 * @throws WeirError naming the option at fault.
 */
export function loadGatewayTls(files: GatewayTlsFiles): GatewayTls | undefined {
  const { certFile, keyFile, clientCaFile } = files;
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) {
      throw bad(
        '--proxy-client-ca',
        'needs --proxy-tls-cert and --proxy-tls-key (client certificates are asked for only over TLS)',
      );
    }
    return undefined;
  }
  if (keyFile === undefined)
    throw bad('--proxy-tls-cert', "needs --proxy-tls-key (the certificate's private key)");
  if (certFile === undefined)
    throw bad('--proxy-tls-key', 'needs --proxy-tls-cert (the certificate of this key)');
  const cert = read('--proxy-tls-cert', certFile);
  const [leaf] = certificates('--proxy-tls-cert', cert.path, cert.text);
  const key = read('--proxy-tls-key', keyFile);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.text);
  } catch (err) {
    throw bad(
      '--proxy-tls-key',
      `${key.path} holds no usable PEM private key (${(err as Error).message}; encrypted keys are not supported)`,
    );
  }
  if (leaf === undefined || !leaf.checkPrivateKey(privateKey)) {
    throw bad('--proxy-tls-key', `${key.path} is not the private key of the certificate in ${cert.path}`);
  }
  let clientCa: string | undefined;
  if (clientCaFile !== undefined) {
    const ca = read('--proxy-client-ca', clientCaFile);
    certificates('--proxy-client-ca', ca.path, ca.text);
    clientCa = ca.text;
  }
  try {
    // What OpenSSL itself refuses (a key too weak for its security level, …) is found now, not
    // at the first handshake.
    createSecureContext({
      cert: cert.text,
      key: key.text,
      ...(clientCa !== undefined ? { ca: clientCa } : {}),
    });
  } catch (err) {
    throw bad(
      '--proxy-tls-cert',
      `OpenSSL refuses the certificate, key or client CA: ${(err as Error).message}`,
    );
  }
  return { cert: cert.text, key: key.text, ...(clientCa !== undefined ? { clientCa } : {}) };
}
