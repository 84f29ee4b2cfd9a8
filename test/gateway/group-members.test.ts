/**
 * @module test/gateway-group-members — `weir serve --proxy-identity-map`: a rule whose destination
 * is another security group reaches that group's members, which are the identity map's sources
 * whose identity is attached to the group; rewriting the map file (and detaching the identity)
 * rebuilds what the gateway enforces. Real server, real API calls, real CONNECTs on loopback.
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
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { runTokenIssue } from '../../src/cli/token.js';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import { connectVia } from '../helpers/gateway-client.js';

const WEB = 'spiffe://test/ns/shop/sa/web';
const DB = 'spiffe://test/ns/legacy/sa/db';

const mapFor = (source: string): string =>
  `apiVersion: weir.dev/v1\nkind: IdentityMap\nentries:\n  - { source: ${source}, identity: '${DB}' }\n`;

describe('group references match the members the identity map gives them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-gw-members-'));
  const dataDir = join(dir, 'data');
  const mapFile = join(dir, 'identity-map.yaml');
  let upstream: Server;
  let port = 0;
  let server: RunningServer;
  let ec2: EC2Client;
  let token = '';

  beforeAll(async () => {
    upstream = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    writeFileSync(mapFile, mapFor('127.0.0.1'));
    server = await startServer({
      dataDir,
      apiListen: '127.0.0.1:0',
      proxyListen: '127.0.0.1:0',
      proxyIdentityMapFile: mapFile,
      identityWatchDebounceMs: 20,
      logger: pino({ level: 'silent' }),
      print: () => undefined,
    });
    const key = [...server.keys.keys()][0]!;
    ec2 = new EC2Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
      maxAttempts: 1,
    });
    token = runTokenIssue({ identity: WEB, ttl: '1h', dataDir });
  });

  afterAll(async () => {
    ec2.destroy();
    await server.close();
    await new Promise((r) => upstream.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const gen = (): number => server.snapshotSource?.generation() ?? 0;
  const rebuiltAfter = async (g: number): Promise<void> => {
    while (gen() <= g) await new Promise((r) => setTimeout(r, 5));
  };
  const status = async (): Promise<number> => {
    const r = await connectVia(server.proxyAddress ?? '', `127.0.0.1:${port}`, { token });
    r.socket.destroy();
    return r.status;
  };
  const group = async (name: string): Promise<string> => {
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: name }),
    );
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    return GroupId ?? '';
  };
  const workload = async (action: 'attach' | 'detach', identity: string, groupId: string): Promise<void> => {
    const key = [...server.keys.keys()][0]!;
    const g = gen();
    await callWeirApi(
      {
        endpoint: new URL(server.url),
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
      },
      { method: 'POST', resource: `workloads/${action}`, json: { identity, groupId } },
    );
    await rebuiltAfter(g);
  };

  test('web may reach the db group: its members follow the map and the attachments', async () => {
    const web = await group('web');
    const db = await group('db');
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: web,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: port, ToPort: port, UserIdGroupPairs: [{ GroupId: db }] },
        ],
      }),
    );
    await workload('attach', WEB, web);
    // DB is not attached to the db group yet: the group has no members, the reference matches nothing.
    expect(await status()).toBe(403);
    await workload('attach', DB, db);
    expect(await status()).toBe(200);
    // The map moves the db host elsewhere: 127.0.0.1 is no longer a member.
    let g = gen();
    writeFileSync(mapFile, mapFor('127.0.0.2'));
    await rebuiltAfter(g);
    expect(await status()).toBe(403);
    g = gen();
    writeFileSync(mapFile, mapFor('127.0.0.0/30'));
    await rebuiltAfter(g);
    expect(await status()).toBe(200);
    await workload('detach', DB, db);
    expect(await status()).toBe(403);
  });
});
