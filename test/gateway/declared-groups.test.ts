/**
 * @module test/gateway-declared-groups — security groups attached declaratively, end to end
 * through `weir serve --policy DIR` with real sockets: a `WorkloadRegistry` entry's
 * `securityGroups` lets through what the group's egress rules allow, with the same decision
 * record as an API attachment; it joins the API's attachments (union); removing it from the file
 * denies again on reload; a declared group the namespace does not hold attaches nothing and is
 * logged once. Every wait is on the snapshot generation, never on time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import { runWorkloadList } from '../../src/cli/workload.js';
import { connectVia } from '../helpers/gateway-client.js';

const APP = 'spiffe://test/ns/shop/sa/web';
const OTHER = 'spiffe://test/ns/shop/sa/batch';
/** The upstreams listen on loopback: when no rule naming it allows, the guardrail is the reason. */
const DENIED = { status: 403, reason: 'guardrail' };
/** A well-formed ID that no group of the namespace has. */
const ABSENT = 'sg-0000000000000000f';

const POLICY = `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: shop-web, owner: shop@example.com }
spec:
  workloads: [{ identity: '${APP}' }]
  rules:
    - id: dns
      to: [{ fqdn: dns.example }]
      ports: [53]
      justification: keeps the identity known to the set
`;

/** The registry file: each identity with the groups it declares. */
const registry = (entries: Record<string, string[]>): string =>
  `apiVersion: weir.dev/v1
kind: WorkloadRegistry
metadata: { name: shop }
spec:
  workloads: [
${Object.entries(entries)
  .map(([identity, groups]) => `    { identity: '${identity}', securityGroups: [${groups.join(', ')}] },\n`)
  .join('')}  ]
`;

async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('security groups declared in the WorkloadRegistry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-declared-'));
  const dataDir = join(dir, 'data');
  const policyDir = join(dir, 'policies');
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  let up: { server: Server; port: number };
  let server: RunningServer;
  let ec2: EC2Client;
  let token = '';
  let otherToken = '';
  let sg = '';
  let ruleId = '';

  const gen = (): number => server.snapshotSource?.generation() ?? 0;
  const nextSnapshot = async (after: number): Promise<void> => {
    while (gen() <= after) await new Promise((r) => setImmediate(r));
  };
  /** Rewrites the registry and waits for the reload it causes. */
  const declare = async (entries: Record<string, string[]>): Promise<void> => {
    const g = gen();
    writeFileSync(join(policyDir, 'registry.yaml'), registry(entries));
    await nextSnapshot(g);
  };
  const tryConnect = async (t: string): Promise<{ status: number; reason?: string }> => {
    const r = await connectVia(server.proxyAddress ?? '', `127.0.0.1:${up.port}`, { token: t });
    r.socket.destroy();
    return { status: r.status, ...(r.headers['weir-reason'] ? { reason: r.headers['weir-reason'] } : {}) };
  };
  const weirApi = (resource: string, json: Record<string, string>): Promise<unknown> => {
    const key = [...server.keys.keys()][0]!;
    return callWeirApi(
      {
        endpoint: new URL(server.url),
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
      },
      { method: 'POST', resource, json },
    );
  };
  /** The fields of the last allow decision logged for the upstream: what explains it. */
  const lastAllow = async (): Promise<Record<string, unknown>> => {
    await new Promise((r) => setImmediate(r));
    const line = lines.findLast((l) => l.msg === 'decision' && l.port === up.port && l.decision === 'allow');
    const { identity, policyName, policy, ruleId: rule, securityGroupRuleId, reason } = line ?? {};
    return { identity, policyName, policy, ruleId: rule, securityGroupRuleId, reason };
  };

  beforeAll(async () => {
    up = await echoServer();
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'shop.yaml'), POLICY);
    server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      policyDir,
      logger,
      print: () => undefined,
    });
    const key = [...server.keys.keys()][0]!;
    ec2 = new EC2Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      maxAttempts: 1,
    });
    token = runTokenIssue({ identity: APP, ttl: '1h', dataDir });
    otherToken = runTokenIssue({ identity: OTHER, ttl: '1h', dataDir });
    // A group allowing only the upstream's port (its default allow-all egress revoked).
    sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web-egress', Description: 'web' })))
      .GroupId!;
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: sg,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const out = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: sg,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: up.port, ToPort: up.port, IpRanges: [{ CidrIp: '127.0.0.1/32' }] },
        ],
      }),
    );
    ruleId = out.SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? '';
  });

  afterAll(async () => {
    ec2.destroy();
    await server.close();
    await new Promise((r) => up.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('declared → allowed, explained like an API attachment; removed from the file → denied', async () => {
    expect(await tryConnect(token)).toEqual(DENIED);

    await declare({ [APP]: [sg] });
    expect((await tryConnect(token)).status).toBe(200);
    const declared = await lastAllow();
    expect(declared).toMatchObject({
      identity: APP,
      policyName: `${sg}/web-egress`,
      ruleId,
      securityGroupRuleId: ruleId,
      policy: `arn:aws:ec2:us-east-1:123456789012:security-group-rule/${ruleId}`,
    });

    await declare({ [APP]: [] });
    expect(await tryConnect(token)).toEqual(DENIED);

    // The same attachment through the API: the same decision record.
    let g = gen();
    await weirApi('workloads/attach', { identity: APP, groupId: sg });
    await nextSnapshot(g);
    expect((await tryConnect(token)).status).toBe(200);
    expect(await lastAllow()).toEqual(declared);
    g = gen();
    await weirApi('workloads/detach', { identity: APP, groupId: sg });
    await nextSnapshot(g);
    expect(await tryConnect(token)).toEqual(DENIED);
  });

  test('union with the API: each keeps its identity when the other goes', async () => {
    let g = gen();
    await weirApi('workloads/attach', { identity: OTHER, groupId: sg });
    await nextSnapshot(g);
    await declare({ [APP]: [sg] });
    expect((await tryConnect(token)).status).toBe(200);
    expect((await tryConnect(otherToken)).status).toBe(200);

    // Declaring what the API already attached changes nothing; dropping the declaration
    // leaves the API's attachment in force.
    await declare({ [APP]: [sg], [OTHER]: [sg] });
    await declare({ [APP]: [sg] });
    expect((await tryConnect(otherToken)).status).toBe(200);

    g = gen();
    await weirApi('workloads/detach', { identity: OTHER, groupId: sg });
    await nextSnapshot(g);
    expect((await tryConnect(token)).status).toBe(200);
    expect((await tryConnect(otherToken)).status).toBe(403);

    await declare({});
    expect(await tryConnect(token)).toEqual(DENIED);
  });

  test("workload list shows the declared attachments, with their registry entry, beside the API's", async () => {
    const list = async (region: string, query: Record<string, string> = {}): Promise<unknown> => {
      const key = [...server.keys.keys()][0]!;
      const out = await callWeirApi(
        {
          endpoint: new URL(server.url),
          region,
          credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
        },
        { method: 'GET', resource: 'workloads', query },
      );
      return out.attachments;
    };
    const g = gen();
    await weirApi('workloads/attach', { identity: OTHER, groupId: sg });
    await nextSnapshot(g);
    await declare({ [APP]: [sg], [OTHER]: [sg] });
    const file = join(policyDir, 'registry.yaml');
    // registry(): one entry per line from line 6, each at column 5 (its `{`).
    expect(await list('us-east-1')).toEqual([
      { identity: OTHER, groupId: sg, source: 'api', createdAt: expect.stringMatching(/^\d{4}-/) },
      { identity: APP, groupId: sg, source: 'policy', declaredIn: `${file}:6:5` },
      { identity: OTHER, groupId: sg, source: 'policy', declaredIn: `${file}:7:5` },
    ]);
    expect(await list('us-east-1', { identity: APP })).toEqual([
      { identity: APP, groupId: sg, source: 'policy', declaredIn: `${file}:6:5` },
    ]);
    expect(await list('us-east-1', { groupId: ABSENT })).toEqual([]);
    // Declarations apply in the gateway's namespace only.
    expect(await list('eu-west-1')).toEqual([]);

    const g2 = gen();
    await weirApi('workloads/detach', { identity: OTHER, groupId: sg });
    await nextSnapshot(g2);
    await declare({});
    expect(await list('us-east-1')).toEqual([]);
  });

  test('a declared group the namespace does not hold attaches nothing and is logged once', async () => {
    const warnings = (): number =>
      lines.filter((l) => l.level === 40 && l.groupId === ABSENT && String(l.msg).includes('does not exist'))
        .length;
    await declare({ [APP]: [ABSENT] });
    expect(await tryConnect(token)).toEqual(DENIED);
    expect(warnings()).toBe(1);
    await declare({ [APP]: [ABSENT, sg] });
    expect((await tryConnect(token)).status).toBe(200);
    // workload list says which declared group does not exist.
    const key = [...server.keys.keys()][0]!;
    const listed = await callWeirApi(
      {
        endpoint: new URL(server.url),
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
      },
      { method: 'GET', resource: 'workloads', query: { identity: APP } },
    );
    expect(listed.attachments).toEqual([
      {
        identity: APP,
        groupId: ABSENT,
        source: 'policy',
        declaredIn: expect.any(String),
        groupMissing: true,
      },
      { identity: APP, groupId: sg, source: 'policy', declaredIn: expect.any(String) },
    ]);
    let table = '';
    await runWorkloadList({ identity: APP, output: 'table' }, (t) => (table += t), {
      endpoint: new URL(server.url),
      region: 'us-east-1',
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
    });
    const row = (group: string): string => table.split('\n').find((l) => l.includes(group)) ?? '';
    expect(row(ABSENT)).toContain('(no such group)');
    expect(row(sg)).not.toContain('(no such group)');
    expect(await server.snapshotSource?.refresh()).toBeUndefined();
    expect(warnings()).toBe(1);
    await declare({});
    expect(await tryConnect(token)).toEqual(DENIED);
  });

  test('a declared group cannot be deleted until the declaration is removed from the file', async () => {
    const doomed = (
      await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'doomed', Description: 'doomed' }))
    ).GroupId!;
    await declare({ [APP]: [doomed] });
    const refused = await ec2
      .send(new DeleteSecurityGroupCommand({ GroupId: doomed }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'DependencyViolation' });
    expect(String((refused as Error).message)).toContain(`${join(policyDir, 'registry.yaml')}:6`);
    await declare({});
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: doomed }));
  });
});
