/**
 * Weir as a real process (`node --import tsx src/cli/main.ts serve …`): every rule it
 * acknowledged survives SIGKILL mid-load; concurrent identical Authorize calls store one rule;
 * SIGTERM lets in-flight requests finish, exits 0, and leaves a store that opens again.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  paginateDescribeSecurityGroupRules,
} from '@aws-sdk/client-ec2';
import type { SecurityGroupRule } from '@aws-sdk/client-ec2';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { parseCredentialsFile } from '../../src/api/credentials.js';
import { serveArgv } from '../helpers/serve-process.js';
import type { AccessKey } from '../../src/api/credentials.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGION = 'us-east-1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a new TCP connection to the port is refused, i.e. the server no longer listens. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Polls until the server at `port` refuses new connections. */
async function waitUntilRefused(port: number): Promise<void> {
  for (let attempt = 0; !(await refused(port)); attempt++) {
    if (attempt > 600) throw new Error(`port ${port} kept accepting connections after SIGTERM`);
    await sleep(20);
  }
}

interface Weir {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  stderr(): string;
}

const running = new Set<ChildProcess>();
const dataDirs: string[] = [];

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-durability-'));
  dataDirs.push(dir);
  return dir;
}

/**
 * Starts `weir serve` on a port the OS picks (`127.0.0.1:0`: a port chosen here and then
 * released could be taken by another socket before the server binds it) and waits until the
 * URL it writes to `DATA/endpoint` answers GET /healthz.
 */
async function startWeir(dataDir: string, extra: string[] = []): Promise<Weir> {
  const endpointFile = join(dataDir, 'endpoint');
  // A SIGKILLed predecessor leaves its endpoint behind.
  rmSync(endpointFile, { force: true });
  const child = spawn(
    process.execPath,
    // The API alone: a second server must not contend for the gateway's default port.
    serveArgv(dataDir, ['--log-level', 'warn', ...extra], 'off'),
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  let gone: number | string | undefined;
  void exited.then((c) => (gone = c));
  let url = '';
  // Bounded by attempts, not by a clock: a slow machine only makes it take longer.
  for (let attempt = 0; ; attempt++) {
    if (gone !== undefined) throw new Error(`weir serve exited (${gone}) before answering:\n${err}`);
    try {
      url = readFileSync(endpointFile, 'utf8').trim();
      const res = await fetch(`${url}/healthz`);
      if (res.ok && ((await res.json()) as { status: string }).status === 'ok') break;
    } catch {
      // not listening yet
    }
    if (attempt > 600) throw new Error(`weir serve never answered /healthz:\n${err}`);
    await sleep(100);
  }
  const port = Number(new URL(url).port);
  return { child, url, port, exited, stderr: () => err };
}

function adminKey(dataDir: string): AccessKey {
  const file = join(dataDir, 'credentials');
  const key = parseCredentialsFile(readFileSync(file, 'utf8'), file).find((k) => k.role === 'admin');
  expect(key).toBeDefined();
  return key!;
}

function client(url: string, key: AccessKey): EC2Client {
  return new EC2Client({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    maxAttempts: 1,
  });
}

async function newGroup(ec2: EC2Client, name: string): Promise<string> {
  const out = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }));
  return out.GroupId!;
}

async function allRules(ec2: EC2Client, groupIds: readonly string[]): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  const pages = paginateDescribeSecurityGroupRules(
    { client: ec2, pageSize: 1000 },
    { Filters: [{ Name: 'group-id', Values: [...groupIds] }] },
  );
  for await (const page of pages) rules.push(...(page.SecurityGroupRules ?? []));
  return rules;
}

afterEach(() => {
  // A failed test must not leave a server behind.
  for (const child of running) child.kill('SIGKILL');
});

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('weir serve as a process', () => {
  test(
    'every acknowledged rule survives SIGKILL in the middle of a write load',
    { timeout: 180_000 },
    async () => {
      const dataDir = newDataDir();
      // Room for the whole load in each group (EC2's default quota is 60 per direction).
      const first = await startWeir(dataDir, ['--rules-per-group', '10000']);
      const key = adminKey(dataDir);
      const ec2 = client(first.url, key);
      const LOOPS = 4;
      const KILL_AFTER = 120;
      const groups = await Promise.all(Array.from({ length: LOOPS }, (_, i) => newGroup(ec2, `load-${i}`)));

      // Each acknowledged rule: its ID and what it was asked to be.
      const acked = new Map<string, { groupId: string; port: number; cidr: string }>();
      let killed = false;
      const loopErrors: unknown[] = [];
      const loop = async (i: number) => {
        const groupId = groups[i]!;
        for (let n = 0; ; n++) {
          const port = 1 + (n % 65535);
          const cidr = `10.${i}.${Math.floor(n / 256) % 256}.${n % 256}/32`;
          try {
            const out = await ec2.send(
              new AuthorizeSecurityGroupEgressCommand({
                GroupId: groupId,
                IpPermissions: [
                  { IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] },
                ],
              }),
            );
            const rules = out.SecurityGroupRules ?? [];
            expect(rules).toHaveLength(1);
            acked.set(rules[0]!.SecurityGroupRuleId!, { groupId, port, cidr });
          } catch (err) {
            // After the kill every loop ends on a connection error; before it, none may fail.
            if (!killed) throw err;
            loopErrors.push(err);
            return;
          }
          if (!killed && acked.size >= KILL_AFTER) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
      expect(killed).toBe(true);
      expect(await first.exited).toBe('SIGKILL');
      expect(loopErrors).toHaveLength(LOOPS);
      ec2.destroy();

      const second = await startWeir(dataDir);
      const ec2b = client(second.url, key);
      const stored = await allRules(ec2b, groups);
      const byId = new Map(stored.map((r) => [r.SecurityGroupRuleId!, r]));
      const lost = [...acked.keys()].filter((id) => !byId.has(id));
      expect(lost).toEqual([]);
      for (const [id, want] of acked) {
        expect(byId.get(id)).toMatchObject({
          GroupId: want.groupId,
          IsEgress: true,
          IpProtocol: 'tcp',
          FromPort: want.port,
          ToPort: want.port,
          CidrIpv4: want.cidr,
        });
      }
      // Besides the default rule per group, at most the requests in flight at the kill (one per
      // loop) may have committed without their answer arriving.
      const extra = stored.length - LOOPS - acked.size;
      expect(extra).toBeGreaterThanOrEqual(0);
      expect(extra).toBeLessThanOrEqual(LOOPS);

      ec2b.destroy();
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
  );

  test(
    '20 concurrent identical AuthorizeSecurityGroupEgress calls: one succeeds, 19 are duplicates',
    { timeout: 120_000 },
    async () => {
      const dataDir = newDataDir();
      const weir = await startWeir(dataDir);
      const ec2 = client(weir.url, adminKey(dataDir));
      const groupId = await newGroup(ec2, 'race');
      const cmd = () =>
        ec2.send(
          new AuthorizeSecurityGroupEgressCommand({
            GroupId: groupId,
            IpPermissions: [
              { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.20.0.0/16' }] },
            ],
          }),
        );
      const results = await Promise.allSettled(Array.from({ length: 20 }, cmd));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(1);
      expect(failed.map((r) => (r.reason as Error).name)).toEqual(
        Array.from({ length: 19 }, () => 'InvalidPermission.Duplicate'),
      );
      const winner = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof cmd>>>).value;
      const stored = (await allRules(ec2, [groupId])).filter((r) => r.CidrIpv4 === '10.20.0.0/16');
      expect(stored.map((r) => r.SecurityGroupRuleId)).toEqual([
        winner.SecurityGroupRules![0]!.SecurityGroupRuleId,
      ]);

      ec2.destroy();
      weir.child.kill('SIGTERM');
      expect(await weir.exited).toBe(0);
    },
  );

  test(
    'SIGTERM lets in-flight requests finish, exits 0, and the store opens again',
    { timeout: 120_000 },
    async () => {
      const dataDir = newDataDir();
      const weir = await startWeir(dataDir);
      const key = adminKey(dataDir);
      const ec2 = client(weir.url, key);
      const groupId = await newGroup(ec2, 'drain');
      ec2.destroy();

      const signer = new SignatureV4({
        service: 'ec2',
        region: REGION,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        sha256: Sha256,
      });
      const IN_FLIGHT = 5;
      // Each request is signed in full, but sent as headers with `Expect: 100-continue` first:
      // the server's `100 Continue` proves it has accepted the request and is handling it. Only
      // then does SIGTERM go out, and only after it do the bodies follow.
      const inFlight = await Promise.all(
        Array.from({ length: IN_FLIGHT }, async (_, i) => {
          const body = new URLSearchParams({
            Action: 'AuthorizeSecurityGroupEgress',
            Version: '2016-11-15',
            GroupId: groupId,
            'IpPermissions.1.IpProtocol': 'tcp',
            'IpPermissions.1.FromPort': String(8000 + i),
            'IpPermissions.1.ToPort': String(8000 + i),
            'IpPermissions.1.IpRanges.1.CidrIp': `10.30.${i}.0/24`,
          }).toString();
          const signed = await signer.sign({
            method: 'POST',
            protocol: 'http:',
            hostname: '127.0.0.1',
            port: weir.port,
            path: '/',
            query: {},
            headers: {
              host: `127.0.0.1:${weir.port}`,
              'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
            },
            body,
          });
          const req = request({
            host: '127.0.0.1',
            port: weir.port,
            method: 'POST',
            path: '/',
            agent: false,
            headers: {
              ...signed.headers,
              'content-length': String(Buffer.byteLength(body)),
              expect: '100-continue',
              connection: 'close',
            },
          });
          const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
            req.once('response', (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => (text += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
              res.on('error', reject);
            });
            req.once('error', reject);
          });
          await new Promise<void>((resolve, reject) => {
            req.once('continue', () => resolve());
            req.once('error', reject);
          });
          return { req, body, response };
        }),
      );

      weir.child.kill('SIGTERM');
      // The server has stopped listening once a new connection is refused; the accepted
      // requests are still open.
      await waitUntilRefused(weir.port);
      for (const f of inFlight) f.req.end(f.body);
      const answers = await Promise.all(inFlight.map((f) => f.response));
      for (const a of answers) {
        expect(a.status, a.text).toBe(200);
        expect(a.text).toContain('<return>true</return>');
        expect(a.text).toContain('<securityGroupRuleId>sgr-');
      }
      expect(await weir.exited).toBe(0);

      // The store was closed cleanly: a new process opens it and has every answered rule.
      const again = await startWeir(dataDir);
      const ec2b = client(again.url, key);
      const stored = await allRules(ec2b, [groupId]);
      const ids = answers.map((a) => /<securityGroupRuleId>(sgr-[0-9a-f]+)</.exec(a.text)![1]);
      expect(stored.map((r) => r.SecurityGroupRuleId)).toEqual(expect.arrayContaining(ids));
      expect(stored).toHaveLength(1 + IN_FLIGHT);
      ec2b.destroy();
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    },
  );

  test(
    'SIGTERM under a keep-alive SDK load: every processed request is answered, exit 0',
    { timeout: 120_000 },
    async () => {
      const dataDir = newDataDir();
      const weir = await startWeir(dataDir, ['--rules-per-group', '10000']);
      const key = adminKey(dataDir);
      // The SDK's HTTP handler keeps connections alive between requests, as every SDK does.
      const ec2 = client(weir.url, key);
      const LOOPS = 4;
      const groups = await Promise.all(Array.from({ length: LOOPS }, (_, i) => newGroup(ec2, `term-${i}`)));
      let terminated = false;
      const acked: string[] = [];
      const failures: { name: string; code?: string; status?: number }[] = [];
      const loop = async (i: number) => {
        for (let n = 0; ; n++) {
          try {
            const out = await ec2.send(
              new AuthorizeSecurityGroupEgressCommand({
                GroupId: groups[i],
                IpPermissions: [
                  {
                    IpProtocol: 'tcp',
                    FromPort: 1 + n,
                    ToPort: 1 + n,
                    IpRanges: [{ CidrIp: `10.${i}.0.0/16` }],
                  },
                ],
              }),
            );
            acked.push(out.SecurityGroupRules![0]!.SecurityGroupRuleId!);
          } catch (err) {
            if (!terminated) throw err;
            const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
            failures.push({
              name: e.name,
              ...(e.code !== undefined ? { code: e.code } : {}),
              ...(e.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
            });
            return;
          }
          if (!terminated && acked.length >= 40) {
            terminated = true;
            weir.child.kill('SIGTERM');
          }
        }
      };
      await Promise.all(Array.from({ length: LOOPS }, (_, i) => loop(i)));
      expect(await weir.exited).toBe(0);
      ec2.destroy();
      // Every loop ended on a connection error (refused, or its idle keep-alive connection
      // closed under it), never on an EC2 error or a 5xx.
      expect(failures).toHaveLength(LOOPS);
      for (const f of failures) {
        expect(f.status, JSON.stringify(f)).toBeUndefined();
        expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'], JSON.stringify(f)).toContain(f.code);
      }

      // Nothing was done without its answer arriving: the store holds exactly the default rule
      // of each group and the acknowledged ones.
      const again = await startWeir(dataDir);
      const ec2b = client(again.url, key);
      const stored = (await allRules(ec2b, groups)).filter((r) => r.CidrIpv4 !== '0.0.0.0/0');
      expect(stored.map((r) => r.SecurityGroupRuleId).sort()).toEqual([...acked].sort());
      ec2b.destroy();
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    },
  );
});
