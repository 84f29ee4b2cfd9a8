/**
 * The Weir API (`/weir/v1/…`) through real HTTP on a real `weir serve`: workload attachments,
 * tokens, bundles and check; admin vs read-only keys, namespaces, other accounts, bad input, DependencyViolation
 * when deleting an attached group, tampered bundles refused with the previous one kept.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import {
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicyApply } from '../../src/cli/policy-plan.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/index.js';
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { loadTokenKey, verifyToken } from '../../src/identity/index.js';
import {
  createBundle,
  generateSigningKey,
  readPrivateKey,
  serializeBundle,
} from '../../src/policy/bundle.js';
import { expectEc2Error } from '../api/sdk-helpers.js';

const ADMIN = { accessKeyId: 'AKIAWEIRAPITESTADMIN', secretAccessKey: 'admin-secret-weir-api-0123456789' };
const VIEWER = { accessKeyId: 'AKIAWEIRAPITESTVIEWR', secretAccessKey: 'viewer-secret-weir-api-012345678' };
const OTHER = { accessKeyId: 'AKIAWEIRAPITESTOTHER', secretAccessKey: 'other-secret-weir-api-0123456789' };
const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';

const POLICY = (version: string, port: number) => `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: team-payments@example.com }
spec:
  mode: enforce
  workloads:
    - identity: ${CHECKOUT}
  rules:
    - id: stripe-api
      to: [{ fqdn: api.stripe.com }]
      ports: [${port}]
      protocol: tcp
      justification: Card authorisation ${version}
      dataClass: pci
      expires: 2099-06-30
`;

let dir: string;
let dataDir: string;
let server: RunningServer;
let signingKey: ReturnType<typeof generateSigningKey>;
let admin: WeirApiTarget;
let viewer: WeirApiTarget;
let other: WeirApiTarget;
let ec2: EC2Client;

const target = (creds: typeof ADMIN, region = 'us-east-1'): WeirApiTarget => ({
  endpoint: new URL(server.url),
  region,
  credentials: { ...creds, method: 'test' },
});

/** Expects the call to fail with `code` and `status`; returns the message. */
async function expectApiError(p: Promise<unknown>, code: string, status = 400): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}, but the call succeeded`).toBeInstanceOf(WeirApiCallError);
  const e = err as WeirApiCallError;
  expect({ code: e.apiCode, status: e.status }, e.message).toEqual({ code, status });
  return e.message;
}

function bundleBytes(version: number, port: number): Buffer {
  const b = createBundle({
    sources: [{ path: 'checkout.yaml', text: POLICY(String(version), port) }],
    privateKey: readPrivateKey(signingKey.privateKeyPem),
    version,
    created: new Date('2026-11-23T00:00:00Z'),
  });
  return Buffer.from(serializeBundle(b));
}

async function newGroup(name: string, client = ec2): Promise<string> {
  const out = await client.send(
    new CreateSecurityGroupCommand({ GroupName: name, Description: 'weir api test' }),
  );
  return out.GroupId!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-api-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  signingKey = generateSigningKey();
  writeFileSync(join(dir, 'weir-policy.pub'), signingKey.publicKeyPem);
  const creds = join(dir, 'credentials');
  writeFileSync(
    creds,
    [
      '[admin]',
      `aws_access_key_id = ${ADMIN.accessKeyId}`,
      `aws_secret_access_key = ${ADMIN.secretAccessKey}`,
      '[viewer]',
      `aws_access_key_id = ${VIEWER.accessKeyId}`,
      `aws_secret_access_key = ${VIEWER.secretAccessKey}`,
      'weir_role = readonly',
      '[other]',
      `aws_access_key_id = ${OTHER.accessKeyId}`,
      `aws_secret_access_key = ${OTHER.secretAccessKey}`,
      'weir_account_id = 210987654321',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  server = await startServer({
    dataDir,
    apiListen: '127.0.0.1:0',
    credentialsFile: creds,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
    bundlePublicKeyFiles: [join(dir, 'weir-policy.pub')],
  });
  admin = target(ADMIN);
  viewer = target(VIEWER);
  other = target(OTHER);
  ec2 = new EC2Client({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
});

afterAll(async () => {
  ec2?.destroy();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('workload attachments', () => {
  it('attach (idempotent), list with filters, detach; per namespace', async () => {
    const web = await newGroup('wl-web');
    const db = await newGroup('wl-db');
    const first = await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: CHECKOUT, groupId: web },
    });
    expect(first).toMatchObject({ created: true, attachment: { identity: CHECKOUT, groupId: web } });
    const again = await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: CHECKOUT, groupId: web },
    });
    expect(again).toEqual({ created: false, attachment: (first as { attachment: unknown }).attachment });
    await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: 'svc-batch', groupId: db },
    });

    const all = await callWeirApi(viewer, { method: 'GET', resource: 'workloads' });
    expect((all.attachments as { groupId: string }[]).map((a) => a.groupId)).toEqual(
      expect.arrayContaining([web, db]),
    );
    const mine = await callWeirApi(viewer, {
      method: 'GET',
      resource: 'workloads',
      query: { identity: CHECKOUT },
    });
    expect(mine.attachments).toEqual([expect.objectContaining({ identity: CHECKOUT, groupId: web })]);
    const byGroup = await callWeirApi(viewer, {
      method: 'GET',
      resource: 'workloads',
      query: { groupId: db },
    });
    expect(byGroup.attachments).toEqual([expect.objectContaining({ identity: 'svc-batch' })]);

    // Another region is another namespace; another account may not use the Weir API at all
    // (test/security/cross-account.test.ts has the attacks).
    expect(
      (await callWeirApi(target(ADMIN, 'eu-west-1'), { method: 'GET', resource: 'workloads' })).attachments,
    ).toEqual([]);
    await expectApiError(callWeirApi(other, { method: 'GET', resource: 'workloads' }), 'AccessDenied', 403);
    await expectApiError(
      callWeirApi(other, {
        method: 'POST',
        resource: 'workloads/attach',
        json: { identity: CHECKOUT, groupId: web },
      }),
      'AccessDenied',
      403,
    );

    expect(
      await callWeirApi(admin, {
        method: 'POST',
        resource: 'workloads/detach',
        json: { identity: CHECKOUT, groupId: web },
      }),
    ).toEqual({
      identity: CHECKOUT,
      groupId: web,
      detached: true,
    });
    await expectApiError(
      callWeirApi(admin, {
        method: 'POST',
        resource: 'workloads/detach',
        json: { identity: CHECKOUT, groupId: web },
      }),
      'InvalidWorkloadAttachment.NotFound',
    );
  });

  it('a group with attachments cannot be deleted (DependencyViolation) until detached', async () => {
    const g = await newGroup('wl-delete');
    await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: CHECKOUT, groupId: g },
    });
    const err = await expectEc2Error(
      ec2.send(new DeleteSecurityGroupCommand({ GroupId: g })),
      'DependencyViolation',
    );
    expect(err.message).toContain(CHECKOUT);
    await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/detach',
      json: { identity: CHECKOUT, groupId: g },
    });
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g }));
  });

  it('read-only keys may list but not attach or detach', async () => {
    const g = await newGroup('wl-ro');
    for (const resource of ['workloads/attach', 'workloads/detach']) {
      const msg = await expectApiError(
        callWeirApi(viewer, { method: 'POST', resource, json: { identity: CHECKOUT, groupId: g } }),
        'UnauthorizedOperation',
        403,
      );
      expect(msg).toContain('read-only');
    }
  });

  it.each([
    [{ groupId: 'sg-0123456789abcdef0' }, 'MissingParameter', "field 'identity' is required"],
    [{ identity: CHECKOUT }, 'MissingParameter', "field 'groupId' is required"],
    [{ identity: CHECKOUT, groupId: 'sg-nope' }, 'InvalidGroupId.Malformed', 'sg-nope'],
    [
      { identity: CHECKOUT, groupId: 'sg-0123456789abcdef0' },
      'InvalidGroup.NotFound',
      'sg-0123456789abcdef0',
    ],
    [
      { identity: 'spiffe://x/*', groupId: 'sg-0123456789abcdef0' },
      'InvalidParameterValue',
      "field 'identity'",
    ],
    [{ identity: 'two words', groupId: 'sg-0123456789abcdef0' }, 'InvalidParameterValue', "field 'identity'"],
    [
      { identity: 7, groupId: 'sg-0123456789abcdef0' },
      'InvalidParameterValue',
      "field 'identity' must be a string",
    ],
    [{ identity: CHECKOUT, group: 'sg-0123456789abcdef0' }, 'UnknownParameter', "unknown field 'group'"],
  ])('bad attach input %j → %s', async (json, code, text) => {
    const msg = await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'workloads/attach', json }),
      code,
    );
    expect(msg).toContain(text);
  });
});

describe('protocol', () => {
  it('unknown paths, methods, bodies and signatures get JSON 4xx errors', async () => {
    await expectApiError(callWeirApi(admin, { method: 'GET', resource: 'nope' }), 'NotFound', 404);
    await expectApiError(
      callWeirApi(admin, { method: 'PUT', resource: 'workloads' }),
      'MethodNotAllowed',
      405,
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'workloads/attach', raw: Buffer.from('{"identity":') }),
      'InvalidRequest',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'workloads/attach', raw: Buffer.from('[1]') }),
      'InvalidRequest',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'GET', resource: 'workloads', query: { who: 'x' } }),
      'UnknownParameter',
    );
    const wrongSecret = { ...admin, credentials: { ...admin.credentials, secretAccessKey: 'wrong' } };
    await expectApiError(
      callWeirApi(wrongSecret, { method: 'GET', resource: 'workloads' }),
      'SignatureDoesNotMatch',
      403,
    );
    // Unsigned.
    const unsigned = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.url}/weir/v1/workloads`, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(unsigned.status).toBe(400);
    expect(JSON.parse(unsigned.body)).toMatchObject({ error: { code: 'MissingParameter' } });
  });
});

describe('tokens', () => {
  it('issues a token that verifies with the gateway key; revoke by token and by id; list', async () => {
    const out = await callWeirApi(admin, {
      method: 'POST',
      resource: 'tokens',
      json: { identity: CHECKOUT, ttl: '1h' },
    });
    const key = loadTokenKey(dataDir);
    const check = verifyToken(key, out.token as string, Date.now());
    expect(check).toMatchObject({ ok: true, claims: { identity: CHECKOUT, id: out.id } });
    expect(Date.parse(out.expires as string) - Date.parse(out.issued as string)).toBe(3_600_000);

    const revoked = await callWeirApi(admin, {
      method: 'POST',
      resource: 'tokens/revoke',
      json: { token: out.token },
    });
    expect(revoked).toMatchObject({ id: out.id, identity: CHECKOUT, expires: out.expires });
    // An ID this server never issued is an error, not a silent "revoked".
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens/revoke', json: { id: 'abcDEF123_-x' } }),
      'InvalidToken.NotFound',
    );
    const second = await callWeirApi(admin, {
      method: 'POST',
      resource: 'tokens',
      json: { identity: CHECKOUT },
    });
    const byId = await callWeirApi(admin, {
      method: 'POST',
      resource: 'tokens/revoke',
      json: { id: second.id },
    });
    // Revoked by ID, the record still has the token's identity and its own expiry.
    expect(byId).toMatchObject({ id: second.id, identity: CHECKOUT, expires: second.expires });
    const list = await callWeirApi(viewer, { method: 'GET', resource: 'tokens/revoked' });
    expect((list.revoked as { id: string }[]).map((t) => t.id)).toEqual(
      expect.arrayContaining([out.id, second.id]),
    );
  });

  it('refuses bad input and read-only keys', async () => {
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens', json: { identity: CHECKOUT, ttl: '1y' } }),
      'InvalidParameterValue',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens', json: { identity: CHECKOUT, ttl: '400d' } }),
      'InvalidParameterValue',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens', json: { ttl: '1h' } }),
      'MissingParameter',
    );
    await expectApiError(
      callWeirApi(viewer, { method: 'POST', resource: 'tokens', json: { identity: CHECKOUT } }),
      'UnauthorizedOperation',
      403,
    );
    await expectApiError(
      callWeirApi(viewer, { method: 'POST', resource: 'tokens/revoke', json: { id: 'abc' } }),
      'UnauthorizedOperation',
      403,
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens/revoke', json: {} }),
      'MissingParameter',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens/revoke', json: { id: 'a', token: 'b' } }),
      'MissingParameter',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens/revoke', json: { token: 'weir1.forged.sig' } }),
      'InvalidToken',
    );
    await expectApiError(
      callWeirApi(admin, { method: 'POST', resource: 'tokens/revoke', json: { id: 'bad id' } }),
      'InvalidParameterValue',
    );
  });
});

describe('policy bundle and check', () => {
  it('no bundle: GetBundle is NotFound and check denies (unknown identity)', async () => {
    await expectApiError(callWeirApi(viewer, { method: 'GET', resource: 'bundle' }), 'NotFound', 404);
    const out = await callWeirApi(viewer, {
      method: 'POST',
      resource: 'check',
      json: { from: CHECKOUT, to: 'api.stripe.com:443' },
    });
    expect(out).toMatchObject({ exitCode: 1, result: { decision: 'deny', reason: 'unknown-identity' } });
  });

  it('applies a signed bundle, explains with it, refuses tampered, unsigned-key and replayed bundles keeping the previous', async () => {
    const v1 = await callWeirApi(admin, { method: 'PUT', resource: 'bundle', raw: bundleBytes(10, 443) });
    expect(v1).toMatchObject({ version: '10', keyId: signingKey.keyId, policies: ['payments-checkout'] });
    expect(await callWeirApi(viewer, { method: 'GET', resource: 'bundle' })).toMatchObject({
      version: '10',
      hash: v1.hash,
    });

    const allowed = await callWeirApi(viewer, {
      method: 'POST',
      resource: 'check',
      json: { from: CHECKOUT, to: 'api.stripe.com:443', at: '2026-12-01' },
    });
    expect(allowed).toMatchObject({
      exitCode: 0,
      result: { decision: 'allow', reason: 'matched' },
      source: 'policy bundle version 10',
    });
    expect(allowed.text).toContain('decision:  allow');
    expect(allowed.text).toContain(
      'request:   spiffe://prod.example/ns/payments/sa/checkout -> api.stripe.com:443/tcp',
    );
    const denied = await callWeirApi(viewer, {
      method: 'POST',
      resource: 'check',
      json: { from: CHECKOUT, to: 'api.stripe.com:80' },
    });
    expect(denied).toMatchObject({ exitCode: 1, result: { reason: 'no-match' } });

    // Tampered: one source edited after signing.
    const tampered = JSON.parse(bundleBytes(11, 80).toString()) as { sources: { text: string }[] };
    tampered.sources[0]!.text = tampered.sources[0]!.text.replace('[80]', '[1-65535]');
    const msg = await expectApiError(
      callWeirApi(admin, { method: 'PUT', resource: 'bundle', raw: Buffer.from(JSON.stringify(tampered)) }),
      'InvalidBundle',
    );
    expect(msg).toMatch(/hash-mismatch|signature-invalid/);
    // Signed with a key the server does not trust.
    const stranger = generateSigningKey();
    const foreign = serializeBundle(
      createBundle({
        sources: [{ path: 'c.yaml', text: POLICY('x', 80) }],
        privateKey: readPrivateKey(stranger.privateKeyPem),
        version: 12,
      }),
    );
    expect(
      await expectApiError(
        callWeirApi(admin, { method: 'PUT', resource: 'bundle', raw: Buffer.from(foreign) }),
        'InvalidBundle',
      ),
    ).toContain('unknown-key');
    // Replay of an older version, garbage, an empty body, a read-only key.
    expect(
      await expectApiError(
        callWeirApi(admin, { method: 'PUT', resource: 'bundle', raw: bundleBytes(9, 80) }),
        'InvalidBundle',
      ),
    ).toContain('not-newer');
    await expectApiError(
      callWeirApi(admin, { method: 'PUT', resource: 'bundle', raw: Buffer.from('not json') }),
      'InvalidBundle',
    );
    await expectApiError(callWeirApi(admin, { method: 'PUT', resource: 'bundle' }), 'MissingParameter');
    await expectApiError(
      callWeirApi(viewer, { method: 'PUT', resource: 'bundle', raw: bundleBytes(13, 80) }),
      'UnauthorizedOperation',
      403,
    );

    // The previous bundle stays in force.
    expect(await callWeirApi(viewer, { method: 'GET', resource: 'bundle' })).toMatchObject({ version: '10' });
    expect(
      await callWeirApi(viewer, {
        method: 'POST',
        resource: 'check',
        json: { from: CHECKOUT, to: 'api.stripe.com:80' },
      }),
    ).toMatchObject({ exitCode: 1 });

    // A newer valid bundle replaces it, and check follows.
    expect(
      await callWeirApi(admin, { method: 'PUT', resource: 'bundle', raw: bundleBytes(14, 80) }),
    ).toMatchObject({ version: '14', previousVersion: '10' });
    expect(
      await callWeirApi(viewer, {
        method: 'POST',
        resource: 'check',
        json: { from: CHECKOUT, to: 'api.stripe.com:80' },
      }),
    ).toMatchObject({
      exitCode: 0,
      source: 'policy bundle version 14',
    });
    expect(readFileSync(join(dataDir, 'weir.sqlite')).length).toBeGreaterThan(0);
  });

  it.each([
    [{ to: 'api.stripe.com:443' }, 'MissingParameter', "field 'from'"],
    [{ from: CHECKOUT }, 'MissingParameter', "field 'to'"],
    [{ from: CHECKOUT, to: 'api.stripe.com' }, 'InvalidParameterValue', 'no port'],
    [{ from: CHECKOUT, to: 'api.stripe.com:443', at: 'yesterday' }, 'InvalidParameterValue', "field 'at'"],
    [{ from: 'spiffe://*', to: 'api.stripe.com:443' }, 'InvalidParameterValue', "field 'from'"],
    [{ from: CHECKOUT, to: 'x:1', resolve: 'yes' }, 'InvalidParameterValue', 'must be a boolean'],
  ])('bad check input %j → %s', async (json, code, text) => {
    expect(
      await expectApiError(callWeirApi(viewer, { method: 'POST', resource: 'check', json }), code),
    ).toContain(text);
  });

  it('after weir policy apply, check names the security-group rules the matched rule became', async () => {
    const ask = () =>
      callWeirApi(viewer, {
        method: 'POST',
        resource: 'check',
        json: { from: CHECKOUT, to: 'api.stripe.com:80', at: '2026-12-01' },
      });
    // The bundle in force is version 14 (stripe-api on port 80); nothing applied yet.
    const before = (await ask()) as { result: { matched: Record<string, unknown> }; text: string };
    expect(before.result.matched).toMatchObject({ ruleId: 'stripe-api' });
    expect(before.result.matched).not.toHaveProperty('securityGroupRuleIds');
    expect(before.text).not.toMatch(/sg rules?:/);

    // The same policy applied as security groups, as `weir policy apply` does.
    const policies = join(dir, 'applied');
    mkdirSync(policies);
    writeFileSync(join(policies, 'checkout.yaml'), POLICY('14', 80));
    let err = '';
    const code = await runPolicyApply(
      policies,
      { now: Date.parse('2026-12-01T00:00:00Z'), yes: true },
      {
        out: () => undefined,
        err: (t: string) => (err += t),
        tty: false,
        client: ec2,
        // No network in tests: the name's prefix lists stay empty, the rules exist all the same.
        resolve: () => Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })),
      },
    );
    expect(code, err).toBe(0);
    const made = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: 'tag:weir:rule-id', Values: ['stripe-api'] }],
      }),
    );
    const ids = (made.SecurityGroupRules ?? []).map((r) => r.SecurityGroupRuleId ?? '').sort();
    expect(ids.length).toBeGreaterThan(0);

    const after = (await ask()) as { result: { matched: Record<string, unknown> }; text: string };
    expect(after.result.matched).toMatchObject({ ruleId: 'stripe-api', securityGroupRuleIds: ids });
    expect(after.text).toContain(ids.join(', '));
    expect(after.text).toMatch(ids.length === 1 ? /sg rule: +sgr-/ : /sg rules: +sgr-/);
  });
});

describe('check against a --policy directory', () => {
  it('explains with the directory the server enforces, and says so', async () => {
    const policyServer = await startServer({
      dataDir: join(dir, 'policy-data'),
      apiListen: '127.0.0.1:0',
      credentialsFile: join(dir, 'credentials'),
      logger: pino({ level: 'silent' }),
      print: () => undefined,
      policyDir: join(import.meta.dirname, '../../examples/policies'),
      bundlePublicKeyFiles: [join(dir, 'weir-policy.pub')],
    });
    try {
      const t: WeirApiTarget = { ...admin, endpoint: new URL(policyServer.url) };
      const out = await callWeirApi(t, {
        method: 'POST',
        resource: 'check',
        json: { from: CHECKOUT, to: 'api.stripe.com:443', at: '2026-12-01' },
      });
      expect(out).toMatchObject({
        exitCode: 0,
        result: { decision: 'allow', matched: { ruleId: 'stripe-api' } },
      });
      expect(out.source).toMatch(/^policy directory .*examples\/policies \(version 1\)$/);
      // A bundle would not change what a --policy server enforces: it is refused, and check is unchanged.
      await expectApiError(
        callWeirApi(t, { method: 'PUT', resource: 'bundle', raw: bundleBytes(1, 80) }),
        'IncorrectState',
        409,
      );
      const after = await callWeirApi(t, {
        method: 'POST',
        resource: 'check',
        json: { from: CHECKOUT, to: 'api.stripe.com:80', at: '2026-12-01' },
      });
      expect(after).toMatchObject({ exitCode: 1, result: { reason: 'no-match' } });
    } finally {
      await policyServer.close();
    }
  });
});

describe('weir serve --bundle-public-key', () => {
  it.each([
    ['a missing file', 'nope.pub', 'cannot read the file'],
    ['a private key', 'weir-policy.key', 'this is a private key; give the .pub file'],
    ['not a key', 'credentials', 'not a PEM public key'],
  ])('refuses %s, naming the option', async (_what, name, message) => {
    writeFileSync(join(dir, 'weir-policy.key'), signingKey.privateKeyPem);
    const starting = startServer({
      dataDir: join(dir, `refused-${name}`),
      apiListen: '127.0.0.1:0',
      credentialsFile: join(dir, 'credentials'),
      logger: pino({ level: 'silent' }),
      print: () => undefined,
      bundlePublicKeyFiles: [join(dir, name)],
    });
    await expect(starting).rejects.toThrow(`--bundle-public-key ${join(dir, name)}: ${message}`);
  });
});
