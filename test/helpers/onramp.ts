/**
 * @module test/helpers/onramp — what the on-ramp's whole-program tests share: an HTTP upstream on
 * this machine's own non-loopback address (loopback is a guardrail that exceptions may not open,
 * so the gateway could never let an exception reach 127.0.0.1), real processes run without
 * blocking this one (the upstream and the webhook receiver live here), the real curl through the
 * gateway with the token in the proxy URL, the `weir` CLI as a process, and RFC 6238 codes.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardrailFor } from '../../src/engine/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI as a user runs it: bin/weir.js → dist (built). */
export const WEIR_BIN = join(ROOT, 'bin/weir.js');

/**
 * The first IPv4 address of this machine that is neither internal nor in a guardrail range, or
 * undefined (a machine with loopback only cannot host these tests).
 */
export function localUpstreamAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      if (guardrailFor(a.address)?.inside === true) continue;
      return a.address;
    }
  }
  return undefined;
}

/** An HTTP upstream answering `hello from upstream` on `host`, keeping idle connections open. */
export async function startUpstream(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello from upstream\n');
  });
  // A tunnel held open by a test must be closed by the gateway, never by the upstream's timers.
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The environment of a client: no proxy settings or AWS configuration from this machine. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/proxy$|_CA_BUNDLE$|^AWS_|^WEIR_/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** What a process did. */
export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args` to its exit without blocking this process. */
export function runProcess(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A directory holding a `weir` command (this checkout's bin/weir.js), to put first on PATH, so
 * that a command copied from a denial runs as printed.
 */
export function weirShimDir(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'weir'), `#!/bin/sh\nexec "${process.execPath}" "${WEIR_BIN}" "$@"\n`);
  chmodSync(join(bin, 'weir'), 0o755);
  return bin;
}

/** A response as `curl -si` printed it: status, header fields (lower-cased names) and body. */
export interface CurlReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly run: Run;
}

/**
 * The real curl fetching `url` through the gateway, the token in the proxy URL
 * (`http://weir:TOKEN@127.0.0.1:PORT`, so curl sends `Proxy-Authorization: Basic`).
 */
export async function curlVia(proxyPort: number, token: string, url: string): Promise<CurlReply> {
  const run = await runProcess(
    'curl',
    ['-s', '-i', '--max-time', '30', '-x', `http://weir:${token}@127.0.0.1:${proxyPort}`, url],
    cleanEnv(),
  );
  const end = run.stdout.indexOf('\r\n\r\n');
  const head = end < 0 ? run.stdout : run.stdout.slice(0, end);
  const [statusLine = '', ...fields] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const f of fields) {
    const i = f.indexOf(':');
    if (i > 0) headers[f.slice(0, i).toLowerCase()] = f.slice(i + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1] ?? 0),
    headers,
    body: end < 0 ? '' : run.stdout.slice(end + 4),
    run,
  };
}

/**
 * The status (0: the connection was cut) of one plain-HTTP GET of `url` through the gateway (the same request as curlVia's,
 * in this process): cheap enough to poll every few milliseconds when measuring how soon a change
 * is enforced.
 */
export function statusVia(proxyPort: number, token: string, url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        path: url,
        agent: false,
        headers: {
          Host: new URL(url).host,
          'Proxy-Authorization': `Basic ${Buffer.from(`weir:${token}`).toString('base64')}`,
        },
      },
      (res: IncomingMessage) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    // A request in flight when a grant ends is cut by the gateway (socket hang up): 0, not allowed.
    req.once('error', () => resolve(0));
    req.end();
  });
}

/**
 * Calls `probe` every 10 ms until it answers true: the time (Date.now()) of the first true.
 * Fails after `timeoutMs`, a bound far beyond what the behaviour needs, never a measurement.
 */
export async function firstTrue(probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const give = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return Date.now();
    if (Date.now() > give) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The RFC 6238 code (HMAC-SHA-1, 30 s steps) of base32 `secret` at `unixSeconds`, `digits`
 * long: written here from the RFC, independent of src/onramp/totp.ts.
 */
export function totp(secret: string, unixSeconds: number, digits = 6): string {
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += B32.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const h = createHmac('sha1', key).update(step).digest();
  const offset = (h[19] ?? 0) & 15;
  const bin = h.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 10 ** digits).padStart(digits, '0');
}
