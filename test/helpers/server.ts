/**
 * @module test/helpers/server — starts a real `weir serve` in-process on a free loopback port
 * with a fresh data dir, and gives tests the clients that talk to it: @aws-sdk/client-ec2,
 * and the environment for the real `aws` CLI / boto3 (whether those are installed: ./tools.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { startServer } from '../../src/server/index.js';
import type { RunningServer, ServeOptions } from '../../src/server/index.js';

export interface TestServer extends RunningServer {
  readonly dataDir: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** An SDK client signed with the server's admin key. */
  ec2(region?: string): EC2Client;
  /** Environment for `aws` / boto3 subprocesses pointed at this server. */
  env(region?: string): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startTestServer(
  opts: {
    rulesPerGroup?: number;
    credentialsFile?: string;
    /** Further `weir serve` options (limits, timeouts, TLS, a logger to read). */
    serve?: Partial<ServeOptions>;
  } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weir-test-'));
  const server = await startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    print: () => undefined,
    ...(opts.rulesPerGroup !== undefined ? { rulesPerGroup: opts.rulesPerGroup } : {}),
    ...(opts.credentialsFile !== undefined ? { credentialsFile: opts.credentialsFile } : {}),
    ...opts.serve,
  });
  const key = [...server.keys.keys()][0]!;
  return {
    ...server,
    dataDir,
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    ec2: (region = 'us-east-1') =>
      new EC2Client({
        endpoint: server.url,
        region,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        maxAttempts: 1,
      }),
    env: (region = 'us-east-1') => ({
      ...process.env,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      AWS_DEFAULT_REGION: region,
      AWS_REGION: region,
      AWS_PAGER: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '1',
    }),
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
