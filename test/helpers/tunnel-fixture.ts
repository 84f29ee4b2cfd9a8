/**
 * @module test/helpers/tunnel-fixture — a gateway on 127.0.0.1 for the tunnel red-team tests:
 * names from a hosts table (`name.test` allowed by an FQDN rule, `cidr.test` by a CIDR rule,
 * `other.test` not allowed at all), their documentation addresses dialled on loopback, a recording
 * echo upstream (so a test can prove that not a byte reached it), a policy that can be swapped,
 * a revocation list, and the decision log in memory.
 */
import { createServer as createHttpServer } from 'node:http';
import { connect as netConnect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { pino } from 'pino';
import { compilePolicySet } from '../../src/engine/index.js';
import type { Snapshot } from '../../src/engine/index.js';
import { createGateway } from '../../src/gateway/index.js';
import type { Gateway, GatewayLimits } from '../../src/gateway/index.js';
import { issueToken, TokenRevocations } from '../../src/identity/index.js';
import { createResolver, parseHostsFile } from '../../src/dns/index.js';
import { loadPolicySources } from '../../src/policy/index.js';

export const ID = 'spiffe://test/ns/app/sa/redteam';
export type LogLine = Record<string, unknown>;

/** One connection the upstream accepted: what it received, and whether it has closed. */
export interface UpstreamConn {
  bytes: Buffer;
  closed: Promise<void>;
}

/** The running fixture. */
export interface TunnelFixture {
  readonly gateway: Gateway;
  readonly proxyPort: number;
  readonly upstreamPort: number;
  /** An HTTP upstream: `/` answers at once; `/slow` sends its head and part of its body, then waits. */
  readonly httpPort: number;
  readonly lines: LogLine[];
  /** Connections the upstream accepted, in order. */
  readonly conns: UpstreamConn[];
  readonly revocations: TokenRevocations;
  readonly key: Buffer;
  /** A token for `ID` valid `ttlMs` from now (by the gateway's clock). */
  token(ttlMs?: number, id?: string): string;
  /** Replaces the policy (rules YAML under `rules:`); the gateway is not told. */
  setRules(rulesYaml: string): void;
  /** Tells the gateway that the snapshot or the revocation list changed. */
  recheck(): void;
  /** Moves the gateway's clock `ms` ahead. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** The default rules: `name.test` by name, `cidr.test` (198.51.100.20) by address. */
export function defaultRules(ports: readonly number[]): string {
  return `
    - id: by-name
      to: [{ fqdn: name.test }]
      ports: [${ports.join(', ')}]
    - id: by-address
      to: [{ cidr: 198.51.100.20/32 }]
      ports: [${ports.join(', ')}]`;
}

function compile(rulesYaml: string): Snapshot {
  const text = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: redteam, owner: test@example.com }
spec:
  workloads: [{ identity: '${ID}' }]
  rules:${rulesYaml}
`;
  const loaded = loadPolicySources([{ file: 'redteam.yaml', text }]);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`fixture policy: ${JSON.stringify(errors)}`);
  return compilePolicySet(loaded.set, { skipUnresolved: true });
}

/** Starts the upstream and the gateway. */
export async function startTunnelFixture(
  key: Buffer,
  limits: Partial<GatewayLimits> = {},
): Promise<TunnelFixture> {
  const conns: UpstreamConn[] = [];
  const upstream: Server = createServer({ allowHalfOpen: false }, (s: Socket) => {
    const conn: UpstreamConn = {
      bytes: Buffer.alloc(0),
      closed: new Promise((res) => s.once('close', () => res())),
    };
    conns.push(conn);
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => {
      conn.bytes = Buffer.concat([conn.bytes, c]);
      s.write(c);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const web = createHttpServer((req, res) => {
    if (req.url === '/slow') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first part\n');
      return;
    }
    res.end('hello\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const httpPort = (web.address() as AddressInfo).port;
  let snapshot = compile(defaultRules([upstreamPort, httpPort]));
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const lines: LogLine[] = [];
  const revocations = new TokenRevocations();
  const hosts = parseHostsFile(`198.51.100.10 name.test
198.51.100.11 other.test
198.51.100.20 cidr.test
`);
  const gateway = createGateway({
    getSnapshot: () => snapshot,
    resolve: createResolver({ hosts }),
    // The documentation addresses stand for remote hosts; the upstream runs on loopback.
    connect: (ip, port, onread) =>
      netConnect({ host: ip.startsWith('198.51.100.') ? '127.0.0.1' : ip, port, onread }),
    now,
    newId: (() => {
      let n = 0;
      return () => `r${++n}`;
    })(),
    logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }),
    tokenKey: key,
    revokedTokens: revocations,
    limits,
  });
  const proxyPort = (await gateway.listen('127.0.0.1', 0)).port;
  return {
    gateway,
    proxyPort,
    upstreamPort,
    httpPort,
    lines,
    conns,
    revocations,
    key,
    token: (ttlMs = 3_600_000, id?: string) =>
      issueToken(key, { identity: ID, ttlMs, now: now(), ...(id !== undefined ? { id } : {}) }),
    setRules: (rulesYaml) => {
      snapshot = compile(rulesYaml);
    },
    // Optional so that the red-team tests run (and fail by timing out) on a gateway without it.
    recheck: () => (gateway as Partial<Gateway>).recheck?.(),
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await gateway.close(0);
      await new Promise((r) => upstream.close(r));
      web.closeAllConnections();
      await new Promise((r) => web.close(r));
    },
  };
}

/** Resolves when `socket` has closed (a tunnel the gateway cut), with the time it took. */
export function closeOf(socket: Socket): Promise<void> {
  return new Promise((res) => {
    if (socket.destroyed) return res();
    socket.once('close', () => res());
    socket.on('error', () => undefined);
    socket.resume();
  });
}

/**
 * Waits until `get` returns something, checking every 10 ms; fails after `timeoutMs`, a limit
 * far beyond what the behaviour needs (the machine is shared and slow), never a measurement.
 */
export async function poll<T>(get: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`poll: nothing after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
