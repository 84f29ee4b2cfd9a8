/**
 * @module test/helpers/inventory — a real `weir serve` (child process, gateway on) with what the
 * inventory reads show: a policy directory with owners, justifications, data classes and expiry
 * dates (one rule expiring within 30 days), a registry with labels, security groups made through
 * the EC2 API (an egress rule tagged as `weir policy apply` tags the rules it makes, an ingress
 * rule, a prefix-list reference), an attachment, an approved exception (requested by one key,
 * approved by another) and an open break-glass session. For the route tests and the console's.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { callWeirApi } from '../../src/cli/weir-api-client.js';
import type { WeirApiTarget } from '../../src/cli/weir-api-client.js';
import { totp } from './onramp.js';
import { spawnServe, stopServe } from './serve-process.js';
import type { ServeProcess } from './serve-process.js';

export const CHECKOUT = 'spiffe://prod.example/ns/payments/sa/checkout';
export const BUILDER = 'spiffe://prod.example/ns/ci/sa/builder';
export const ANALYTICS = 'spiffe://prod.example/ns/analytics/sa/events';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The keys of the fixture: admin, a second approver, a read-only viewer, another account. */
export const KEYS = {
  admin: { accessKeyId: 'AKIAINVENTORYADMIN01', secretAccessKey: 'inventory-admin-secret-0123456789ab' },
  approver: { accessKeyId: 'AKIAINVENTORYAPPRV01', secretAccessKey: 'inventory-approver-secret-0123456789' },
  viewer: { accessKeyId: 'AKIAINVENTORYVIEWR01', secretAccessKey: 'inventory-viewer-secret-0123456789a' },
  other: { accessKeyId: 'AKIAINVENTORYOTHER01', secretAccessKey: 'inventory-other-secret-0123456789ab' },
} as const;

/** `YYYY-MM-DD`, `days` from now (UTC). */
export const dayFromNow = (days: number): string =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** The policy directory: checkout (three rules, one expiring in 10 days), CI builders, analytics. */
function writePolicies(dir: string, soon: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'registry.yaml'),
    `apiVersion: weir.dev/v1
kind: WorkloadRegistry
metadata: { name: prod-workloads, owner: platform@example.com }
spec:
  workloads:
    - identity: ${CHECKOUT}
      labels: { env: prod, team: payments, dataClass: pci }
    - identity: ${BUILDER}
      labels: { env: prod, team: platform, role: ci-builder }
    - identity: ${ANALYTICS}
      labels: { env: prod, team: data, dataClass: pii }
`,
  );
  writeFileSync(
    join(dir, 'payments-checkout.yaml'),
    `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: payments-checkout, owner: team-payments@example.com }
spec:
  mode: enforce
  workloads:
    - identity: ${CHECKOUT}
  rules:
    - id: stripe-api
      to: [{ fqdn: api.stripe.com }, { fqdn: '*.stripe.network' }]
      ports: [443]
      protocol: tcp
      justification: Card authorisation
      dataClass: pci
      expires: 2099-06-30
    - id: fraud-scoring
      to: [{ fqdn: api.sift.com }]
      ports: [443]
      justification: Fraud score before capture <script>alert(1)</script>
      dataClass: pci
      owner: fraud-ops@example.com
      expires: ${soon}
`,
  );
  writeFileSync(
    join(dir, 'ci-builder.yaml'),
    `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: ci-builder, owner: platform@example.com }
spec:
  mode: report
  workloads:
    - labels: { role: ci-builder }
  rules:
    - id: debian-mirror
      to: [{ fqdn: deb.debian.org }]
      ports: [443, 80]
      justification: Package installs during builds
      dataClass: public
      expires: 2099-01-31
`,
  );
}

/** A running fixture. */
export interface InventoryFixture {
  readonly dir: string;
  readonly serve: ServeProcess;
  readonly url: string;
  readonly policyDir: string;
  /** The date the `fraud-scoring` rule expires (10 days from now). */
  readonly soon: string;
  readonly groupId: string;
  readonly otherGroupId: string;
  readonly prefixListId: string;
  readonly taggedRuleId: string;
  readonly exceptionId: string;
  readonly sessionId: string;
  target(key: keyof typeof KEYS, region?: string): WeirApiTarget;
  close(): Promise<void>;
}

function credentialsFile(dir: string): string {
  const file = join(dir, 'credentials');
  const k = KEYS;
  writeFileSync(
    file,
    [
      '[admin]',
      `aws_access_key_id = ${k.admin.accessKeyId}`,
      `aws_secret_access_key = ${k.admin.secretAccessKey}`,
      'weir_principal = alice@example.com',
      `weir_breakglass_totp = ${TOTP_SECRET}`,
      '[approver]',
      `aws_access_key_id = ${k.approver.accessKeyId}`,
      `aws_secret_access_key = ${k.approver.secretAccessKey}`,
      'weir_role = approver',
      'weir_principal = bob@example.com',
      '[viewer]',
      `aws_access_key_id = ${k.viewer.accessKeyId}`,
      `aws_secret_access_key = ${k.viewer.secretAccessKey}`,
      'weir_role = readonly',
      'weir_principal = carol@example.com',
      '[other]',
      `aws_access_key_id = ${k.other.accessKeyId}`,
      `aws_secret_access_key = ${k.other.secretAccessKey}`,
      'weir_account_id = 210987654321',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

/** Groups, rules, a prefix list and an attachment through the EC2 and Weir APIs. */
async function writeControlPlane(
  url: string,
  admin: WeirApiTarget,
): Promise<{ groupId: string; otherGroupId: string; prefixListId: string; taggedRuleId: string }> {
  const ec2 = new EC2Client({ endpoint: url, region: 'us-east-1', credentials: KEYS.admin, maxAttempts: 1 });
  try {
    const pl = await ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: 'partner-ranges',
        AddressFamily: 'IPv4',
        MaxEntries: 5,
        Entries: [{ Cidr: '203.0.113.0/24', Description: 'partner A' }],
      }),
    );
    const prefixListId = pl.PrefixList!.PrefixListId!;
    const other = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'monitoring', Description: 'Monitoring agents' }),
    );
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'checkout-egress',
        Description: 'Checkout egress',
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'team', Value: 'payments' }] }],
      }),
    );
    const groupId = created.GroupId!;
    const tagged = await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: '198.51.100.0/24', Description: 'Stripe' }],
          },
        ],
        TagSpecifications: [
          {
            ResourceType: 'security-group-rule',
            Tags: [
              { Key: 'weir:policy', Value: 'payments-checkout' },
              { Key: 'weir:rule-id', Value: 'stripe-api' },
              { Key: 'weir:owner', Value: 'team-payments@example.com' },
            ],
          },
        ],
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 8443,
            ToPort: 8443,
            PrefixListIds: [{ PrefixListId: prefixListId }],
          },
          {
            IpProtocol: 'tcp',
            FromPort: 9100,
            ToPort: 9100,
            UserIdGroupPairs: [{ GroupId: other.GroupId! }],
          },
        ],
      }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        ],
      }),
    );
    await callWeirApi(admin, {
      method: 'POST',
      resource: 'workloads/attach',
      json: { identity: CHECKOUT, groupId },
    });
    return {
      groupId,
      otherGroupId: other.GroupId!,
      prefixListId,
      taggedRuleId: tagged.SecurityGroupRules![0]!.SecurityGroupRuleId!,
    };
  } finally {
    ec2.destroy();
  }
}

/** Starts the fixture (a few seconds: one process, a dozen API calls). */
export async function startInventoryFixture(extraArgs: readonly string[] = []): Promise<InventoryFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-inventory-'));
  const policyDir = join(dir, 'policies');
  const soon = dayFromNow(10);
  writePolicies(policyDir, soon);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const serve = await spawnServe(dataDir, [
    '--credentials',
    credentialsFile(dir),
    '--policy',
    policyDir,
    ...extraArgs,
  ]);
  const url = readFileSync(join(dataDir, 'endpoint'), 'utf8').trim();
  const target = (key: keyof typeof KEYS, region = 'us-east-1'): WeirApiTarget => ({
    endpoint: new URL(url),
    region,
    credentials: { ...KEYS[key], method: 'test' },
  });
  try {
    const cp = await writeControlPlane(url, target('admin'));
    const requested = await callWeirApi(target('admin'), {
      method: 'POST',
      resource: 'exceptions',
      json: {
        identity: CHECKOUT,
        to: ['api.adyen.com:443'],
        reason: 'Adyen pilot INC-42',
        ttl: '2d',
        dataClass: 'pci',
      },
    });
    const exceptionId = (requested.exception as { id: string }).id;
    await callWeirApi(target('approver'), {
      method: 'POST',
      resource: 'exceptions/approve',
      json: { id: exceptionId },
    });
    const opened = await callWeirApi(target('admin'), {
      method: 'POST',
      resource: 'breakglass',
      json: {
        identity: CHECKOUT,
        to: ['status.example.org:443'],
        reason: 'Incident INC-43: status page',
        ttl: '30m',
        otp: totp(TOTP_SECRET, Date.now() / 1000),
      },
    });
    const sessionId = (opened.session as { id: string }).id;
    return {
      dir,
      serve,
      url,
      policyDir,
      soon,
      ...cp,
      exceptionId,
      sessionId,
      target,
      close: async () => {
        await stopServe(serve.child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopServe(serve.child);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the inventory fixture did not start: ${String(err)}\n${serve.stderr()}`);
  }
}
