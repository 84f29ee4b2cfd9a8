/**
 * @module test/security/api-host-and-tls — "signatures are not bound to this server" (issue #15,
 * item 9): a request signed for another host name was accepted, and keys and tokens crossed the
 * wire in clear. With `--api-host` a request signed for another Host is refused with an error
 * naming it; with `--api-tls-cert/--api-tls-key` the API serves HTTPS only, and the SDK (custom
 * CA), the endpoint file with `weir ec2` and `weir workload`, and the real `aws --ca-bundle` work.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Sha256 } from '@aws-crypto/sha256-js';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { hasAwsCli, requireTool } from '../helpers/tools.js';

const TLS = resolve('test/fixtures/tls');
const CA_FILE = join(TLS, 'server-ca.pem');
const CA = readFileSync(CA_FILE, 'utf8');
const WEIR = resolve('bin/weir.js');

/** Runs a command without blocking the event loop: the server under test runs in this process. */
function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      res({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}

function client(server: TestServer, endpoint: string, ca?: string): EC2Client {
  return new EC2Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
    ...(ca !== undefined ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }) } : {}),
  });
}

describe('--api-host binds signatures to this server', () => {
  let server: TestServer;
  let port = 0;
  beforeAll(async () => {
    server = await startTestServer({ serve: { apiHosts: ['localhost'] } });
    port = Number(new URL(server.url).port);
  });
  afterAll(() => server.stop());

  it('accepts a request signed for a name it answers to', async () => {
    const out = await client(server, `http://localhost:${port}`).send(new DescribeSecurityGroupsCommand({}));
    expect(out.SecurityGroups?.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a request signed for another host, naming it', async () => {
    // A valid signature of this server's key, made for another endpoint, sent here.
    const signer = new SignatureV4({
      service: 'ec2',
      region: 'us-east-1',
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      sha256: Sha256,
    });
    const body = 'Action=DescribeSecurityGroups&Version=2016-11-15';
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: 'ec2.other.example',
      path: '/',
      headers: {
        host: 'ec2.other.example',
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      },
      body,
    });
    const answer = await new Promise<{ status: number; text: string }>((res, rej) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/', headers: signed.headers },
        (r) => {
          let text = '';
          r.on('data', (c: Buffer) => (text += c.toString()));
          r.on('end', () => res({ status: r.statusCode ?? 0, text }));
        },
      );
      req.on('error', rej);
      req.end(body);
    });
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('<Code>AuthFailure</Code>');
    expect(answer.text).toContain('signed for host &apos;ec2.other.example&apos;');
  });

  it('refuses the SDK pointed at an address the server does not answer to', async () => {
    await expect(
      client(server, `http://127.0.0.1:${port}`).send(new DescribeSecurityGroupsCommand({})),
    ).rejects.toMatchObject({ name: 'AuthFailure', message: expect.stringContaining(`127.0.0.1:${port}`) });
  });
});

describe('--api-tls-cert serves the API over HTTPS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      serve: {
        apiTlsCertFile: join(TLS, 'proxy.pem'),
        apiTlsKeyFile: join(TLS, 'proxy-key.pem'),
        apiHosts: ['localhost', '127.0.0.1'],
      },
    });
  });
  afterAll(() => server.stop());

  it('tells clients an https URL, in the endpoint file too', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(join(server.dataDir, 'endpoint'), 'utf8')).toBe(`${server.url}\n`);
  });

  it('answers the SDK trusting the server CA', async () => {
    const out = await client(server, server.url, CA).send(new DescribeSecurityGroupsCommand({}));
    expect(out.SecurityGroups?.length).toBeGreaterThanOrEqual(1);
    const local = await client(server, server.url.replace('127.0.0.1', 'localhost'), CA).send(
      new DescribeSecurityGroupsCommand({}),
    );
    expect(local.SecurityGroups?.length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a client that does not trust its certificate, and plain HTTP', async () => {
    await expect(client(server, server.url).send(new DescribeSecurityGroupsCommand({}))).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)/i,
    );
    const plain = server.url.replace('https:', 'http:');
    await expect(fetch(`${plain}/healthz`)).rejects.toThrow();
  });

  it('serves weir ec2 and weir workload found through the endpoint file, with AWS_CA_BUNDLE', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      WEIR_DATA_DIR: server.dataDir,
      AWS_CA_BUNDLE: CA_FILE,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    delete env.AWS_PROFILE;
    const ec2 = await run(
      process.execPath,
      [WEIR, 'ec2', 'describe-security-groups', '--output', 'json'],
      env,
    );
    expect(ec2.status, ec2.stderr).toBe(0);
    expect(JSON.parse(ec2.stdout)).toHaveProperty('SecurityGroups');
    const workloads = await run(process.execPath, [WEIR, 'workload', 'list'], env);
    expect(workloads.status, workloads.stderr).toBe(0);
  });

  it.runIf(requireTool('aws', hasAwsCli()))('serves the real aws CLI with --ca-bundle', async () => {
    const args = ['--endpoint-url', server.url, '--ca-bundle', CA_FILE, 'ec2', 'describe-security-groups'];
    const aws = await run('aws', [...args, '--output', 'json'], server.env());
    expect(aws.status, aws.stderr).toBe(0);
    expect(JSON.parse(aws.stdout)).toHaveProperty('SecurityGroups');
  });
});
