/**
 * Red team: another account's keys reach for the gateway account's egress rights. One `weir
 * serve` enforces the security groups of account A (the default gateway account); its
 * credentials also hold keys of account B. B's admin key must not issue a token that the gateway
 * accepts for an identity A attached to its groups, nor attach, detach, list, revoke, apply or
 * read bundles, nor `check` (which shows A's rules and ARNs); each such call is `AccessDenied`
 * naming both accounts. A token signed by this server but bound to another account (or to none:
 * issued before tokens carried one) is refused at the gateway. A's keys keep every right; A's
 * read-only key may check but not issue. Real HTTP, real gateway sockets, real echo upstream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { issueToken, loadTokenKey } from '../../src/identity/index.js';
import {
  createBundle,
  generateSigningKey,
  readPrivateKey,
  serializeBundle,
} from '../../src/policy/bundle.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { connectVia } from '../helpers/gateway-client.js';

const ACCOUNT_A = '123456789012';
const ACCOUNT_B = '210987654321';
const A_ADMIN = { accessKeyId: 'AKIATENANCYAADMIN000', secretAccessKey: 'tenancy-a-admin-secret-0123456789' };
const A_VIEWER = {
  accessKeyId: 'AKIATENANCYAVIEWER00',
  secretAccessKey: 'tenancy-a-viewer-secret-012345678',
};
const B_ADMIN = { accessKeyId: 'AKIATENANCYBADMIN000', secretAccessKey: 'tenancy-b-admin-secret-0123456789' };
const B_VIEWER = {
  accessKeyId: 'AKIATENANCYBVIEWER00',
  secretAccessKey: 'tenancy-b-viewer-secret-012345678',
};
const WEB = 'spiffe://prod.example/ns/shop/sa/web';

const POLICY = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop-batch, owner: shop@example.com }
spec:
  workloads: [{ identity: spiffe://prod.example/ns/shop/sa/batch }]
  rules:
    - id: nothing-local
      to: [{ fqdn: example.invalid }]
      ports: [443]
      justification: a bundle to apply
`;

describe('another account cannot reach the gateway account egress rights', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-tenancy-'));
  const dataDir = join(dir, 'data');
  const signing = generateSigningKey();
  let upstream: Server;
  let port = 0;
  let server: RunningServer;
  let groupId = '';
  let aToken = { token: '', id: '' };

  const target = (creds: typeof A_ADMIN): WeirApiTarget => ({
    endpoint: new URL(server.url),
    region: 'us-east-1',
    credentials: { ...creds, method: 'test' },
  });
  const ec2 = (creds: typeof A_ADMIN): EC2Client =>
    new EC2Client({ endpoint: server.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });

  /** Expects AccessDenied (403) naming the caller's account and the gateway's; returns the message. */
  async function expectDenied(p: Promise<unknown>): Promise<string> {
    const err = await p.then(
      (ok) => ok,
      (e: unknown) => e,
    );
    expect(err, `expected AccessDenied, got ${JSON.stringify(err)}`).toBeInstanceOf(WeirApiCallError);
    const e = err as WeirApiCallError;
    expect({ code: e.apiCode, status: e.status }, e.message).toEqual({ code: 'AccessDenied', status: 403 });
    expect(e.message).toContain(ACCOUNT_B);
    expect(e.message).toContain(ACCOUNT_A);
    return e.message;
  }

  const gateway = async (token: string): Promise<{ status: number; reason?: string }> => {
    const r = await connectVia(server.proxyAddress ?? '', `127.0.0.1:${port}`, { token });
    r.socket.destroy();
    return { status: r.status, ...(r.headers['weir-reason'] ? { reason: r.headers['weir-reason'] } : {}) };
  };

  const bundle = (version: number): Buffer =>
    Buffer.from(
      serializeBundle(
        createBundle({
          sources: [{ path: 'batch.yaml', text: POLICY }],
          privateKey: readPrivateKey(signing.privateKeyPem),
          version,
          created: new Date('2026-12-01T00:00:00Z'),
        }),
      ),
    );

  /** Waits for the gateway to enforce a snapshot newer than `after`. */
  const nextSnapshot = async (after: number): Promise<void> => {
    while ((server.snapshotSource?.generation() ?? 0) <= after) await new Promise((r) => setImmediate(r));
  };

  beforeAll(async () => {
    upstream = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    writeFileSync(join(dir, 'bundle.pub'), signing.publicKeyPem);
    const profile = (name: string, k: typeof A_ADMIN, account: string, role: string): string[] => [
      `[${name}]`,
      `aws_access_key_id = ${k.accessKeyId}`,
      `aws_secret_access_key = ${k.secretAccessKey}`,
      `weir_account_id = ${account}`,
      `weir_role = ${role}`,
    ];
    writeFileSync(
      join(dir, 'credentials'),
      [
        ...profile('a-admin', A_ADMIN, ACCOUNT_A, 'admin'),
        ...profile('a-viewer', A_VIEWER, ACCOUNT_A, 'readonly'),
        ...profile('b-admin', B_ADMIN, ACCOUNT_B, 'admin'),
        ...profile('b-viewer', B_VIEWER, ACCOUNT_B, 'readonly'),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      credentialsFile: join(dir, 'credentials'),
      bundlePublicKeyFiles: [join(dir, 'bundle.pub')],
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
    // Account A (the gateway's) lets WEB reach the echo upstream through one attached group.
    const a = ec2(A_ADMIN);
    const sg = await a.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web egress' }));
    groupId = sg.GroupId!;
    await a.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    await a.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '127.0.0.1/32' }] },
        ],
      }),
    );
    a.destroy();
    const g = server.snapshotSource?.generation() ?? 0;
    await callWeirApi(target(A_ADMIN), {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: WEB, groupId },
    });
    await nextSnapshot(g);
    const issued = await callWeirApi(target(A_ADMIN), {
      method: 'POST',
      resource: 'tokens',
      json: { identity: WEB, ttl: '1h' },
    });
    aToken = { token: String(issued.token), id: String(issued.id) };
  });

  afterAll(async () => {
    await server?.close();
    await new Promise((r) => upstream?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test("A's token for its attached identity passes the gateway (the baseline)", async () => {
    expect(await gateway(aToken.token)).toEqual({ status: 200 });
  });

  test("B's admin key cannot issue a token for A's identity; the message names both accounts", async () => {
    const message = await expectDenied(
      callWeirApi(target(B_ADMIN), {
        method: 'POST',
        resource: 'tokens',
        json: { identity: WEB, ttl: '1h' },
      }),
    );
    expect(message).toMatch(/IssueToken/);
  });

  test('a token this server signed for another account, or for none, is refused at the gateway', async () => {
    const key = loadTokenKey(dataDir);
    const now = Date.now();
    const forB = issueToken(key, { identity: WEB, ttlMs: 3_600_000, now, account: ACCOUNT_B });
    expect(await gateway(forB)).toEqual({ status: 407, reason: 'token-wrong-account' });
    // Issued before tokens carried an account: who issued it cannot be known, so it is refused.
    const unbound = issueToken(key, { identity: WEB, ttlMs: 3_600_000, now });
    expect(await gateway(unbound)).toEqual({ status: 407, reason: 'token-wrong-account' });
    const forA = issueToken(key, { identity: WEB, ttlMs: 3_600_000, now, account: ACCOUNT_A });
    expect(await gateway(forA)).toEqual({ status: 200 });
  });

  test("B cannot attach, detach or list in A's groups", async () => {
    const b = target(B_ADMIN);
    await expectDenied(
      callWeirApi(b, { method: 'POST', resource: 'workloads/attach', json: { identity: WEB, groupId } }),
    );
    await expectDenied(
      callWeirApi(b, { method: 'POST', resource: 'workloads/detach', json: { identity: WEB, groupId } }),
    );
    await expectDenied(callWeirApi(target(B_VIEWER), { method: 'GET', resource: 'workloads' }));
    const list = await callWeirApi(target(A_VIEWER), { method: 'GET', resource: 'workloads' });
    expect(list.attachments).toEqual([expect.objectContaining({ identity: WEB, groupId })]);
  });

  test("B cannot revoke A's tokens nor list the revoked ones; A's token keeps working", async () => {
    await expectDenied(
      callWeirApi(target(B_ADMIN), { method: 'POST', resource: 'tokens/revoke', json: { id: aToken.id } }),
    );
    await expectDenied(
      callWeirApi(target(B_ADMIN), {
        method: 'POST',
        resource: 'tokens/revoke',
        json: { token: aToken.token },
      }),
    );
    await expectDenied(callWeirApi(target(B_VIEWER), { method: 'GET', resource: 'tokens/revoked' }));
    expect(await gateway(aToken.token)).toEqual({ status: 200 });
  });

  test("B's read-only key cannot read A's rules through check; A's read-only key can", async () => {
    const ask = { from: WEB, to: `127.0.0.1:${port}` };
    const message = await expectDenied(
      callWeirApi(target(B_VIEWER), { method: 'POST', resource: 'check', json: ask }),
    );
    expect(message).not.toContain(groupId);
    const mine = await callWeirApi(target(A_VIEWER), { method: 'POST', resource: 'check', json: ask });
    expect(mine.exitCode).toBe(0);
    expect(String(mine.text)).toContain(`arn:aws:ec2:us-east-1:${ACCOUNT_A}:security-group-rule/`);
  });

  test('B cannot apply or read bundles; A can', async () => {
    await expectDenied(callWeirApi(target(B_ADMIN), { method: 'PUT', resource: 'bundle', raw: bundle(1) }));
    await expectDenied(callWeirApi(target(B_VIEWER), { method: 'GET', resource: 'bundle' }));
    const applied = await callWeirApi(target(A_ADMIN), { method: 'PUT', resource: 'bundle', raw: bundle(2) });
    expect(applied.version).toBe('2');
    expect((await callWeirApi(target(A_VIEWER), { method: 'GET', resource: 'bundle' })).version).toBe('2');
  });

  test("A's read-only key may not issue; A's admin key may revoke its own token", async () => {
    const err = await callWeirApi(target(A_VIEWER), {
      method: 'POST',
      resource: 'tokens',
      json: { identity: WEB, ttl: '1h' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ apiCode: 'UnauthorizedOperation', status: 403 });
    const other = await callWeirApi(target(A_ADMIN), {
      method: 'POST',
      resource: 'tokens',
      json: { identity: WEB, ttl: '1h' },
    });
    expect(other.account).toBe(ACCOUNT_A);
    expect(await gateway(String(other.token))).toEqual({ status: 200 });
    await callWeirApi(target(A_ADMIN), { method: 'POST', resource: 'tokens/revoke', json: { id: other.id } });
    expect(await gateway(String(other.token))).toEqual({ status: 407, reason: 'token-revoked' });
  });
});
