/**
 * @module test/policy-plan-cli — `weir policy plan|apply` as real processes against a
 * `weir serve`: endpoint and credentials from flags and environment, and the exit codes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const POLICY = `
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: team-payments@example.com }
spec:
  workloads:
    - identity: spiffe://prod.example/ns/payments/sa/checkout
  rules:
    - id: stripe-api
      to: [{ cidr: 192.0.2.0/24 }]
      ports: [443]
      justification: Card authorisation
      expires: 2099-06-30
`;

let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'weir-plan-cli-'));
  writeFileSync(join(dir, 'payments.yaml'), POLICY);
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Asynchronous: the server runs in this process and must keep answering while the child waits.
function weir(
  args: string[],
  env: NodeJS.ProcessEnv = server.env(),
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      // No NODE_NO_WARNINGS: stderr must be clean as users see it (the SDK's Node 20 notice included).
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Each spawned CLI compiles TypeScript and loads the AWS SDK on start: four of them in a row took
 * over 30 s on the busy two-core machine, so these get a hang guard, not the default budget.
 */
const SLOW = { timeout: 300_000 };

describe('weir policy plan / apply (processes)', () => {
  it('plan exits 2 with pending changes, apply --yes converges, plan then exits 0', SLOW, async () => {
    const url = ['--endpoint-url', server.url];
    const plan = await weir(['policy', 'plan', dir, ...url, '--detailed-exitcode']);
    expect(plan.stderr).toBe('');
    expect(plan.status).toBe(2);
    expect(plan.stdout).toContain('+ egress tcp 443 -> 192.0.2.0/24 (stripe-api)');
    expect(plan.stdout).toContain('Plan: 2 to add, 0 to change, 1 to revoke.');

    const noYes = await weir(['policy', 'apply', dir, ...url]);
    expect(noYes.status).toBe(2);
    expect(noYes.stderr).toContain('weir: apply needs --yes when stdin is not a terminal');

    const apply = await weir(['policy', 'apply', dir, ...url, '--yes']);
    expect(apply.status).toBe(0);
    expect(apply.stdout).toContain('Apply complete: 2 added, 0 changed, 1 revoked.');
    expect(apply.stderr).toContain('apply: created sg weir-payments-checkout');

    const again = await weir(['policy', 'plan', dir, ...url, '--detailed-exitcode', '--format', 'json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      changes: false,
      summary: { add: 0, change: 0, revoke: 0 },
    });
  });

  it(
    'exits 1 with the EC2 error code on a bad key or where a region comes from, 2 on a bad flag',
    SLOW,
    async () => {
      const bad = await weir(['policy', 'plan', dir, '--endpoint-url', server.url, '--region', 'us-east-1'], {
        ...server.env(),
        AWS_SECRET_ACCESS_KEY: 'wrong',
      });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/^weir: plan failed: (SignatureDoesNotMatch|AuthFailure): /);
      // No region anywhere (AWS, named with --aws: the SDK is asked before any call is made):
      // the SDK's bare 'Region is missing' would not say where one comes from.
      const { AWS_REGION: _r, AWS_DEFAULT_REGION: _d, ...noRegion } = server.env();
      const region = await weir(['policy', 'plan', dir, '--aws'], noRegion);
      expect(region.status).toBe(1);
      expect(region.stderr).toBe(
        'weir: plan failed: no region: give --region R, or set AWS_REGION, or region in the profile\n',
      );
      const format = await weir(['policy', 'plan', dir, '--endpoint-url', server.url, '--format', 'xml']);
      expect(format.status).toBe(2);
      expect(format.stderr).toContain("--format must be one of text, json (got 'xml')");
    },
  );
});

describe('weir policy plan / apply / resolve talk to the local server unless AWS is named', () => {
  /** An environment with AWS credentials and region set, as on an AWS user's laptop. */
  const awsUser = (): NodeJS.ProcessEnv => {
    const { WEIR_DATA_DIR: _w, AWS_PROFILE: _p, AWS_ENDPOINT_URL: _e, ...env } = process.env;
    return {
      ...env,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '1',
    };
  };

  it(
    'with no flags and no server, each is a usage error that says how to start one, never an AWS call',
    SLOW,
    async () => {
      const empty = mkdtempSync(join(tmpdir(), 'weir-plan-nowhere-'));
      try {
        for (const cmd of ['plan', 'apply', 'resolve']) {
          const r = await weir(['policy', cmd, dir], {
            ...awsUser(),
            WEIR_DATA_DIR: join(empty, 'weir-data'),
          });
          expect(r.status, r.stderr).toBe(2);
          expect(r.stdout).toBe('');
          expect(r.stderr).toBe(
            `weir: no Weir server to talk to: ${join(empty, 'weir-data')} does not exist. Start one with \`weir serve\` ` +
              '(its data dir is ./weir-data, or WEIR_DATA_DIR), or name the target: --endpoint-url URL for another Weir, --aws for AWS\n',
          );
        }
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    },
  );

  it(
    'with no flags, plan asks the server of WEIR_DATA_DIR (its endpoint file and credentials)',
    SLOW,
    async () => {
      const r = await weir(['policy', 'plan', dir], { ...awsUser(), WEIR_DATA_DIR: server.dataDir });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Plan: \d+ to add|No changes/);
    },
  );

  it('--profile alone does not reach AWS, and --aws with --endpoint-url is refused', SLOW, async () => {
    const profile = await weir(['policy', 'plan', dir, '--profile', 'default'], {
      ...awsUser(),
      WEIR_DATA_DIR: server.dataDir,
    });
    expect(profile.status).toBe(2);
    expect(profile.stderr).toMatch(/^weir: .*; for AWS itself, add --aws\n$/);
    const both = await weir(['policy', 'plan', dir, '--aws', '--endpoint-url', server.url], awsUser());
    expect(both.status).toBe(2);
    expect(both.stderr).toBe('weir: --aws and --endpoint-url name two targets: give one\n');
  });
});
