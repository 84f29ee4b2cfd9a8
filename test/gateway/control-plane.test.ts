/**
 * @module test/gateway-control-plane — the gateway enforces the control plane, end to end with
 * real sockets through `weir serve`: a group attached to an identity allows what its egress
 * rules allow (written with @aws-sdk/client-ec2), a revoked rule denies new connections while an
 * open tunnel keeps going, detaching denies, a prefix-list change is enforced, policies and
 * groups combine by union, only the gateway's namespace counts, a revoked token is refused, a
 * bundle applied through the API is enforced (an invalid one is not), and the snapshot metrics
 * move. Attachments, token revocation and bundles go through the Weir API (`/weir/v1`). Every
 * wait is on the snapshot generation, never on time.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  ModifyManagedPrefixListCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import type { Scope } from '../../src/model/index.js';
import { createBundle, serializeBundle } from '../../src/policy/bundle.js';
import { connectVia, echo } from '../helpers/gateway-client.js';

const APP = 'spiffe://test/ns/shop/sa/web';
const OTHER = 'spiffe://test/ns/shop/sa/batch';
const SCOPE: Scope = { accountId: '123456789012', region: 'us-east-1' };
/** The upstreams listen on loopback: when no rule naming it allows, the guardrail is the reason. */
const DENIED = { status: 403, reason: 'guardrail' };

const policyFor = (identity: string, port: number): string => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop-web, owner: shop@example.com }
spec:
  workloads: [{ identity: '${identity}' }]
  rules:
    - id: echo-a
      to: [{ cidr: 127.0.0.1/32 }]
      ports: [${port}]
      justification: test upstream
`;

async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Log lines of one server, parsed. */
function captureLogs(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** Waits until the gateway has enforced a snapshot newer than `after` (the change feed's rebuild). */
async function nextSnapshot(server: RunningServer, after: number): Promise<void> {
  const src = server.snapshotSource;
  if (src === undefined) throw new Error('no gateway');
  while (src.generation() <= after) await new Promise((r) => setImmediate(r));
}

/** The Weir API (`/weir/v1`) signed with the server's admin key. */
function weirApi(server: RunningServer, region = 'us-east-1'): WeirApiTarget {
  const key = [...server.keys.keys()][0]!;
  return {
    endpoint: new URL(server.url),
    region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
  };
}

function sdk(server: RunningServer, region = 'us-east-1'): EC2Client {
  const key = [...server.keys.keys()][0]!;
  return new EC2Client({
    endpoint: server.url,
    region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1,
  });
}

describe('the gateway enforces the control plane', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-cp-'));
  const dataDir = join(dir, 'data');
  const policyDir = join(dir, 'policies');
  let a: { server: Server; port: number };
  let b: { server: Server; port: number };
  let server: RunningServer;
  let ec2: EC2Client;
  const logs = captureLogs();
  let token = '';

  beforeAll(async () => {
    a = await echoServer();
    b = await echoServer();
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'shop.yaml'), policyFor(APP, a.port));
    server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir,
      logger: logs.logger,
      print: () => undefined,
    });
    ec2 = sdk(server);
    token = runTokenIssue({ identity: APP, ttl: '1h', dataDir });
  });

  afterAll(async () => {
    ec2.destroy();
    await server.close();
    await new Promise((r) => a.server.close(r));
    await new Promise((r) => b.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const proxy = (): string => server.proxyAddress ?? '';
  const gen = (): number => server.snapshotSource?.generation() ?? 0;
  const tryConnect = async (port: number, t = token): Promise<{ status: number; reason?: string }> => {
    const r = await connectVia(proxy(), `127.0.0.1:${port}`, { token: t });
    r.socket.destroy();
    return { status: r.status, ...(r.headers['weir-reason'] ? { reason: r.headers['weir-reason'] } : {}) };
  };
  /** `weir workload attach` through the Weir API; waits for the rebuild it causes in SCOPE. */
  const attach = async (identity: string, groupId: string, region = SCOPE.region): Promise<void> => {
    const g = gen();
    await callWeirApi(weirApi(server, region), {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity, groupId },
    });
    if (region === SCOPE.region) await nextSnapshot(server, g);
  };
  const detach = async (identity: string, groupId: string): Promise<void> => {
    const g = gen();
    await callWeirApi(weirApi(server), {
      method: 'POST',
      resource: 'workloads/detach',
      json: { identity, groupId },
    });
    await nextSnapshot(server, g);
  };
  /** A new group with its default allow-all egress rule revoked. */
  const emptyGroup = async (name: string): Promise<string> => {
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: name }),
    );
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    return GroupId!;
  };
  const allowPort = async (groupId: string, port: number, cidr = '127.0.0.1/32'): Promise<string> => {
    const g = gen();
    const out = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] }],
      }),
    );
    await nextSnapshot(server, g);
    return out.SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? '';
  };

  test('attach, authorize → allowed and logged with the group and rule; revoke → denied, open tunnel cut; detach → denied', async () => {
    expect(await tryConnect(b.port)).toEqual(DENIED);
    const sg = await emptyGroup('web-egress');
    await attach(APP, sg);
    expect(await tryConnect(b.port)).toEqual(DENIED);

    const ruleId = await allowPort(sg, b.port);
    expect(ruleId).toMatch(/^sgr-/);
    const open = await connectVia(proxy(), `127.0.0.1:${b.port}`, { token });
    expect(open.status).toBe(200);
    expect(await echo(open.socket, 'hello')).toBe('hello');
    await new Promise((r) => setImmediate(r));
    const line = logs.lines.find((l) => l.msg === 'decision' && l.port === b.port && l.decision === 'allow');
    expect(line).toMatchObject({
      identity: APP,
      policyName: `${sg}/web-egress`,
      ruleId,
      securityGroupRuleId: ruleId,
      policy: `arn:aws:ec2:us-east-1:123456789012:security-group-rule/${ruleId}`,
    });
    expect(String(line?.snapshot)).toMatch(/^policy 1, store \d+$/);

    const g = gen();
    const cut = new Promise((r) => open.socket.once('close', r).resume());
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: sg, SecurityGroupRuleIds: [ruleId] }));
    await nextSnapshot(server, g);
    expect(await tryConnect(b.port)).toEqual(DENIED);
    // The open tunnel lost its rule with the swap: it is cut, not left to relay for 24 h.
    await cut;
    await expect
      .poll(() => logs.lines.find((l) => l.msg === 'tunnel closed' && l.decisionId === line?.decisionId))
      .toMatchObject({ close: 'policy-changed' });

    await allowPort(sg, b.port);
    expect((await tryConnect(b.port)).status).toBe(200);
    await detach(APP, sg);
    expect(await tryConnect(b.port)).toEqual(DENIED);
  });

  test('union: the policy allows a, the attached group allows b; another identity gets neither', async () => {
    const sg = await emptyGroup('union');
    await allowPort(sg, b.port);
    await attach(APP, sg);
    expect((await tryConnect(a.port)).status).toBe(200);
    expect((await tryConnect(b.port)).status).toBe(200);
    const other = runTokenIssue({ identity: OTHER, ttl: '1h', dataDir });
    expect(await tryConnect(b.port, other)).toEqual({ status: 403, reason: 'unknown-identity' });
    await detach(APP, sg);
  });

  test('a fresh group (default allow-all egress) still leaves the guardrails closed', async () => {
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'fresh', Description: 'allow-all by default' }),
    );
    await attach(OTHER, GroupId!);
    const other = runTokenIssue({ identity: OTHER, ttl: '1h', dataDir });
    expect(await tryConnect(b.port, other)).toEqual({ status: 403, reason: 'guardrail' });
    await detach(OTHER, GroupId!);
  });

  test('a prefix-list entry change is enforced', async () => {
    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: 'upstreams',
        AddressFamily: 'IPv4',
        MaxEntries: 5,
        Entries: [{ Cidr: '127.0.0.2/32' }],
      }),
    );
    const plId = pl.PrefixList!.PrefixListId!;
    const sg = await emptyGroup('via-list');
    let g = gen();
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: sg,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: b.port, ToPort: b.port, PrefixListIds: [{ PrefixListId: plId }] },
        ],
      }),
    );
    await nextSnapshot(server, g);
    await attach(APP, sg);
    expect(await tryConnect(b.port)).toEqual(DENIED);
    g = gen();
    await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: plId,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '127.0.0.1/32' }],
      }),
    );
    await nextSnapshot(server, g);
    expect((await tryConnect(b.port)).status).toBe(200);
    g = gen();
    await ec2.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: plId,
        CurrentVersion: 2,
        RemoveEntries: [{ Cidr: '127.0.0.1/32' }],
      }),
    );
    await nextSnapshot(server, g);
    expect(await tryConnect(b.port)).toEqual(DENIED);
    await detach(APP, sg);
  });

  test('only the gateway’s namespace counts: a group attached in another region is not enforced', async () => {
    const west = sdk(server, 'us-west-2');
    try {
      const { GroupId } = await west.send(
        new CreateSecurityGroupCommand({ GroupName: 'w', Description: 'w' }),
      );
      await west.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: b.port, ToPort: b.port, IpRanges: [{ CidrIp: '127.0.0.1/32' }] },
          ],
        }),
      );
      const g = gen();
      await attach(APP, GroupId!, 'us-west-2');
      expect(gen()).toBe(g);
      expect(await tryConnect(b.port)).toEqual(DENIED);
    } finally {
      west.destroy();
    }
  });

  test('a revoked token is refused at once (even though it was cached); another token still works', async () => {
    const mine = runTokenIssue({ identity: APP, ttl: '1h', dataDir });
    expect((await tryConnect(a.port, mine)).status).toBe(200);
    await callWeirApi(weirApi(server), { method: 'POST', resource: 'tokens/revoke', json: { token: mine } });
    const r = await connectVia(proxy(), `127.0.0.1:${a.port}`, { token: mine });
    r.socket.destroy();
    expect(r.status).toBe(407);
    expect(r.headers['weir-reason']).toBe('token-revoked');
    expect((await tryConnect(a.port)).status).toBe(200);
  });

  test('snapshot version and age metrics move with the control plane', async () => {
    const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
    const value = (text: string, name: string): number =>
      Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const before = await scrape();
    const v0 = value(before, 'weir_gateway_snapshot_version');
    expect(v0).toBeGreaterThanOrEqual(1);
    expect(value(before, 'weir_gateway_snapshot_age_seconds')).toBeGreaterThanOrEqual(0);
    const sg = await emptyGroup('metrics');
    await attach(APP, sg);
    const after = await scrape();
    expect(value(after, 'weir_gateway_snapshot_version')).toBeGreaterThan(v0);
    expect(after).toMatch(/^weir_gateway_snapshot_info\{version="policy 1, store \d+"\} 1$/m);
    await detach(APP, sg);
  });
});

describe('without --policy: the bundle applied through the API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-bundle-'));
  const dataDir = join(dir, 'data');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  let up: { server: Server; port: number };
  let server: RunningServer;
  const logs = captureLogs();

  beforeAll(async () => {
    up = await echoServer();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'weir-policy.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      bundlePublicKeyFiles: [join(dir, 'weir-policy.pub')],
      logger: logs.logger,
      print: () => undefined,
    });
  });

  afterAll(async () => {
    await server.close();
    await new Promise((r) => up.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Applies through the Weir API (which verifies it too), then waits for the rebuild. */
  const apply = async (bytes: string): Promise<void> => {
    const g = server.snapshotSource?.generation() ?? 0;
    await callWeirApi(weirApi(server), { method: 'PUT', resource: 'bundle', raw: Buffer.from(bytes) });
    while ((server.snapshotSource?.generation() ?? 0) <= g) await new Promise((r) => setImmediate(r));
  };
  /** Writes the store directly: how a bundle the API would refuse could end up stored. */
  const store = async (bytes: string, version: string): Promise<void> => {
    const g = server.snapshotSource?.generation() ?? 0;
    await server.store.transaction(undefined, (tx) =>
      tx.putPolicyBundle({ bytes: Buffer.from(bytes), version, hash: 'sha256:x', appliedAt: new Date() }),
    );
    // An invalid bundle swaps nothing: wait for the rebuild attempt through the log instead.
    while (
      (server.snapshotSource?.generation() ?? 0) <= g &&
      !logs.lines.some((l) => String(l.msg).includes(`does not verify`) && l.bundleVersion === version)
    ) {
      await new Promise((r) => setImmediate(r));
    }
  };

  test('a bundle applied through the API is enforced; a tampered stored one keeps the previous snapshot', async () => {
    const token = runTokenIssue({ identity: APP, ttl: '1h', dataDir });
    const attempt = async (): Promise<number> => {
      const r = await connectVia(server.proxyAddress ?? '', `127.0.0.1:${up.port}`, { token });
      r.socket.destroy();
      return r.status;
    };
    expect(await attempt()).toBe(403);
    const bundle = createBundle({
      sources: [{ path: 'shop.yaml', text: policyFor(APP, up.port) }],
      privateKey,
      version: 7,
    });
    await apply(serializeBundle(bundle));
    expect(await attempt()).toBe(200);
    expect(server.snapshotSource?.current().version).toMatch(/^bundle 7, store \d+$/);

    const other = createBundle({
      sources: [{ path: 'shop.yaml', text: policyFor(APP, up.port === 1 ? 2 : up.port - 1) }],
      privateKey,
      version: 8,
    });
    const tampered = serializeBundle({ ...other, version: 9 });
    await store(tampered, '9');
    expect(await attempt()).toBe(200);
    expect(server.snapshotSource?.current().version).toMatch(/^bundle 7,/);
  });
});
