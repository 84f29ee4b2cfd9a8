/**
 * Drives Weir with Debian's `ansible` (the amazon.aws collection it ships, over boto3) through
 * test/fixtures/ansible/security-group.yml: a VPC with DNS hostnames (ec2_vpc_net), VPC facts
 * (DescribeVpcAttribute, the ClassicLink describes), a group with every rule kind, a rerun that must change nothing (numbered
 * protocols included), `--check`, a change with `--diff`, purging the rules, and deletion. Each
 * phase's effect is checked through the SDK as well.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateManagedPrefixListCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, SecurityGroup } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { hasBoto3, probe, requireTool } from '../helpers/tools.js';

const PLAYBOOK = fileURLToPath(new URL('../fixtures/ansible/security-group.yml', import.meta.url));
const HAS_ANSIBLE =
  requireTool('ansible-playbook', probe('ansible-playbook', ['--version'])) &&
  requireTool('boto3 (python3)', hasBoto3(), 'python3 cannot import boto3');

interface HostResult {
  changed?: boolean;
  failed?: boolean;
  msg?: string;
  diff?: unknown;
}
interface PlayOutput {
  plays: { tasks: { task: { name: string }; hosts: Record<string, HostResult> }[] }[];
  stats: Record<string, { changed: number; failures: number; unreachable: number }>;
}

let server: TestServer;
let ec2: EC2Client;
let home: string;
let python: string;
let prefixListId: string;

beforeAll(async () => {
  if (!HAS_ANSIBLE) return;
  server = await startTestServer();
  ec2 = server.ec2();
  home = mkdtempSync(join(tmpdir(), 'weir-ansible-'));
  // The modules run under the python3 that has boto3 (Debian's ansible runs on its own python).
  python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
  }).stdout.trim();
  const pl = await ec2.send(
    new CreateManagedPrefixListCommand({
      PrefixListName: 'ansible-partners',
      AddressFamily: 'IPv4',
      MaxEntries: 2,
      Entries: [{ Cidr: '198.51.100.0/24' }],
    }),
  );
  prefixListId = pl.PrefixList!.PrefixListId!;
}, 60_000);

afterAll(async () => {
  ec2?.destroy();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Runs one phase of the playbook; returns the json callback's output. */
function play(phase: string, flags: readonly string[] = []): Promise<PlayOutput> {
  const extra = {
    endpoint_url: server.url,
    access_key: server.accessKeyId,
    secret_key: server.secretAccessKey,
    region: 'us-east-1',
    prefix_list_id: prefixListId,
    phase,
    ansible_python_interpreter: python,
  };
  const env = {
    ...process.env,
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
    ANSIBLE_HOME: home,
    ANSIBLE_LOCAL_TEMP: join(home, 'tmp'),
    ANSIBLE_LOCALHOST_WARNING: 'False',
    ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
    ANSIBLE_NOCOLOR: '1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  return new Promise((resolve, reject) => {
    execFile(
      'ansible-playbook',
      [PLAYBOOK, '-e', JSON.stringify(extra), ...flags],
      { env, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) => {
        let out: PlayOutput;
        try {
          out = JSON.parse(stdout) as PlayOutput;
        } catch {
          reject(new Error(`ansible-playbook ${phase}: ${err?.message ?? ''}\n${stdout}\n${stderr}`));
          return;
        }
        const failed = out.plays
          .flatMap((p) => p.tasks)
          .filter((t) => t.hosts['localhost']?.failed)
          .map((t) => `${t.task.name}: ${JSON.stringify(t.hosts['localhost'])}`);
        if (failed.length > 0) reject(new Error(`ansible-playbook ${phase} failed:\n${failed.join('\n')}`));
        else resolve(out);
      },
    );
  });
}

const changed = (out: PlayOutput): number => out.stats['localhost']!.changed;
const task = (out: PlayOutput, name: string): HostResult | undefined =>
  out.plays.flatMap((p) => p.tasks).find((t) => t.task.name === name)?.hosts['localhost'];

async function group(name: string): Promise<SecurityGroup | undefined> {
  const out = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }),
  );
  return out.SecurityGroups?.[0];
}

const ingressKinds = (g: SecurityGroup): string[] =>
  g.IpPermissions!.flatMap((p) => [
    ...p.IpRanges!.map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:${r.CidrIp}`),
    ...p.Ipv6Ranges!.map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:${r.CidrIpv6}`),
    ...p.UserIdGroupPairs!.map(() => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:group`),
    ...p.PrefixListIds!.map((r) => `${p.IpProtocol}:${p.FromPort ?? ''}-${p.ToPort ?? ''}:${r.PrefixListId}`),
  ]);

describe.skipIf(!HAS_ANSIBLE)('amazon.aws ec2_security_group against Weir', () => {
  test('create, rerun unchanged, --check, change with --diff, purge, delete', async () => {
    const created = await play('create');
    expect(changed(created)).toBeGreaterThan(0);
    const vpcs = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['weir-ansible-vpc'] }] }),
    );
    const vpcId = vpcs.Vpcs![0]!.VpcId!;
    const hostnames = await ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }),
    );
    expect(hostnames.EnableDnsHostnames).toEqual({ Value: true });
    const g = (await group('weir-ansible'))!;
    expect(ingressKinds(g).sort()).toEqual(
      [
        'tcp:22-22:10.0.0.0/8',
        'udp:53-53:10.0.0.0/8',
        'icmp:8--1:192.168.0.0/16',
        '-1:-:172.16.0.0/12',
        '50:-:10.1.0.0/16',
        'tcp:443-443:2001:db8::/32',
        'tcp:5432-5432:group',
        `tcp:8443-8443:${prefixListId}`,
      ].sort(),
    );

    // A rerun of the same rules changes nothing: every rule reads back as it was written.
    const rerun = await play('create');
    expect(changed(rerun), JSON.stringify(task(rerun, 'Group with every rule kind'))).toBe(0);

    // --check reports the change and makes none.
    const checked = await play('change', ['--check']);
    expect(task(checked, 'One more rule')?.changed).toBe(true);
    expect(ingressKinds((await group('weir-ansible'))!)).not.toContain('tcp:8080-8080:10.2.0.0/16');

    const diffed = await play('change', ['--diff']);
    const step = task(diffed, 'One more rule')!;
    expect(step.changed).toBe(true);
    expect(step.diff).toBeDefined();
    expect(ingressKinds((await group('weir-ansible'))!)).toContain('tcp:8080-8080:10.2.0.0/16');
    expect(changed(await play('change'))).toBe(0);

    const purged = await play('purge');
    expect(changed(purged)).toBeGreaterThan(0);
    expect((await group('weir-ansible'))!.IpPermissions).toEqual([]);

    const deleted = await play('delete');
    expect(changed(deleted)).toBeGreaterThan(0);
    expect(await group('weir-ansible')).toBeUndefined();
    expect(await group('weir-ansible-peer')).toBeUndefined();
    const vpcsLeft = await ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['weir-ansible-vpc'] }] }),
    );
    expect(vpcsLeft.Vpcs).toEqual([]);
  }, 600_000);
});
