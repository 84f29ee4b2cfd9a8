/**
 * Issue 16, audit trail, through a real `weir serve` (in-process, real sockets): each API write
 * appends one CloudTrail-shaped record in its own transaction; a failing write leaves exactly
 * one failure record and no change; secrets never reach a record; reads are recorded only with
 * `--audit-reads`; CLI data-dir writes are recorded; `weir audit log|verify|export` through the
 * API and from the data dir.
 */
import { CreateSecurityGroupCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditExport, runAuditLog, runAuditVerify } from '../../src/cli/audit.js';
import { runTokenIssueCommand } from '../../src/cli/token.js';
import type { AuditRecord } from '../../src/store/index.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { weirCall } from '../helpers/weir-call.js';

type Event = Record<string, unknown> & { userIdentity: Record<string, unknown> };

let server: TestServer;
const records = (): Promise<AuditRecord[]> =>
  server.store.transaction(undefined, (tx) => tx.listAuditRecords(), { readOnly: true });
const events = async (): Promise<Event[]> => (await records()).map((r) => JSON.parse(r.event) as Event);
const collect = () => {
  let text = '';
  return { write: (s: string) => void (text += s), text: () => text };
};

beforeAll(async () => {
  server = await startTestServer({ serve: { proxyListen: 'off' } });
});
afterAll(async () => {
  await server?.stop();
});

describe('audit records of API writes', () => {
  it('an EC2 write commits with its record; a failing one leaves one failure record and no change', async () => {
    const ec2 = server.ec2();
    const before = (await records()).length;
    const made = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'audited', Description: 'x' }));
    const after = await events();
    expect(after).toHaveLength(before + 1);
    const ok = after.at(-1)!;
    expect(ok).toMatchObject({
      eventVersion: '1.08',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'CreateSecurityGroup',
      awsRegion: 'us-east-1',
      userIdentity: {
        type: 'IAMUser',
        accessKeyId: server.accessKeyId,
        accountId: '123456789012',
        principal: 'weir',
        role: 'admin',
      },
      sourceIPAddress: '127.0.0.1',
      requestParameters: { GroupName: 'audited', Description: 'x' },
      readOnly: false,
    });
    expect(ok.eventID).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(ok.responseElements)).toContain(made.GroupId!);
    expect(ok.errorCode).toBeUndefined();

    const groups = async () =>
      (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups?.map((g) => g.GroupId).sort();
    const groupsBefore = await groups();
    const dup = await ec2
      .send(new CreateSecurityGroupCommand({ GroupName: 'audited', Description: 'x' }))
      .catch((e: Error) => e);
    expect((dup as Error).name).toBe('InvalidGroup.Duplicate');
    expect(await groups()).toEqual(groupsBefore);
    const failed = (await events()).slice(before + 1);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      eventName: 'CreateSecurityGroup',
      errorCode: 'InvalidGroup.Duplicate',
      responseElements: null,
    });
  });

  it('reads are not recorded without --audit-reads', async () => {
    const before = (await records()).length;
    await server.ec2().send(new DescribeSecurityGroupsCommand({}));
    expect(await weirCall(server, { method: 'GET', resource: 'workloads' })).not.toHaveProperty('error');
    expect(await records()).toHaveLength(before);
  });

  it('Weir API writes are recorded by route name, and no token text ever reaches a record', async () => {
    const issued = await weirCall(server, {
      method: 'POST',
      resource: 'tokens',
      json: { identity: 'spiffe://prod.example/ns/a/sa/b', ttl: '1h' },
    });
    const token = String(issued.token);
    expect(token).toMatch(/^weir1\./);
    await weirCall(server, { method: 'POST', resource: 'tokens/revoke', json: { token } });
    const [issue, revoke] = (await events()).slice(-2);
    expect(issue).toMatchObject({
      eventSource: 'weir.dev',
      eventName: 'IssueToken',
      requestParameters: { identity: 'spiffe://prod.example/ns/a/sa/b', ttl: '1h' },
    });
    expect(JSON.stringify(issue!.responseElements)).toContain(String(issued.id));
    expect(revoke).toMatchObject({
      eventName: 'RevokeToken',
      requestParameters: { token: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
    });
    const all = (await records()).map((r) => r.event).join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(server.secretAccessKey);
  });

  it('weir token issue --data-dir (no API) is recorded as the local user', async () => {
    const before = (await records()).length;
    await runTokenIssueCommand(
      { identity: 'spiffe://prod.example/ns/a/sa/c', ttl: '1h', dataDir: server.dataDir },
      { out: () => undefined, err: () => undefined },
    );
    const [local] = (await events()).slice(before);
    expect(local).toMatchObject({
      eventSource: 'weir.dev',
      eventName: 'IssueToken',
      userAgent: 'weir-cli (--data-dir)',
    });
    expect(String(local!.userIdentity.principal)).toMatch(/^local:/);
  });
});

describe('weir audit log|verify|export', () => {
  const api = () => ({ endpointUrl: server.url });
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = server.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.secretAccessKey;
    process.env.AWS_DEFAULT_REGION = 'us-east-1';
  });
  afterAll(() => {
    process.env = saved;
  });

  it('verify: intact, through the API and from the data dir', async () => {
    const out = collect();
    expect(await runAuditVerify({ ...api(), output: 'json' }, out.write)).toBe(0);
    expect(JSON.parse(out.text())).toMatchObject({ ok: true });
    const local = collect();
    expect(await runAuditVerify({ dataDir: server.dataDir }, local.write)).toBe(0);
    expect(local.text()).toMatch(/^audit trail intact: \d+ records/);
  });

  it('log filters by event and principal, json is CloudTrail Records, export is one record per line', async () => {
    const out = collect();
    await runAuditLog({ ...api(), event: 'IssueToken', principal: 'weir', output: 'json' }, out.write);
    const { Records } = JSON.parse(out.text()) as { Records: Event[] };
    expect(Records.length).toBeGreaterThan(0);
    expect(Records.every((r) => r.eventName === 'IssueToken' && r.userIdentity.principal === 'weir')).toBe(
      true,
    );
    const table = collect();
    await runAuditLog({ dataDir: server.dataDir, since: '1h' }, table.write);
    expect(table.text().split('\n')[0]).toMatch(/^SEQ\s+TIME\s+PRINCIPAL\s+EVENT\s+SOURCE\s+RESULT$/);
    expect(table.text()).toMatch(/CreateSecurityGroup\s+ec2\.amazonaws\.com\s+InvalidGroup\.Duplicate/);
    const lines = collect();
    await runAuditExport(
      { dataDir: server.dataDir, since: '2000-01-01T00:00:00Z', format: 'jsonl' },
      lines.write,
    );
    const parsed = lines
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Event);
    expect(parsed).toHaveLength((await records()).length);
    expect(parsed[0]).toHaveProperty('eventVersion', '1.08');
  });

  it('a bad --since is a usage error naming the option', async () => {
    await expect(
      runAuditLog({ dataDir: server.dataDir, since: 'yesterday' }, () => undefined),
    ).rejects.toThrow(/--since must be/);
  });
});

describe('--audit-reads', () => {
  let reads: TestServer;
  beforeAll(async () => {
    reads = await startTestServer({ serve: { proxyListen: 'off', auditReads: true } });
  });
  afterAll(async () => {
    await reads?.stop();
  });

  it('records reads too, marked readOnly', async () => {
    await reads.ec2().send(new DescribeSecurityGroupsCommand({}));
    const list = await reads.store.transaction(undefined, (tx) => tx.listAuditRecords(), { readOnly: true });
    expect(list.map((r) => JSON.parse(r.event) as Event).at(-1)).toMatchObject({
      eventName: 'DescribeSecurityGroups',
      readOnly: true,
    });
  });
});
