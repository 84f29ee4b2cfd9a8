/**
 * @module test/policy-resolve — FQDN destinations as managed prefix lists against a real
 * `weir serve`, resolved from a hosts file and a tiny UDP DNS stub on loopback (no network):
 * apply creates lists and rules, `weir policy resolve` keeps entries equal to the addresses
 * (growing a list that is too small, as far as the groups' rule quota allows), and apply
 * deletes the lists of names no policy mentions any more.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
} from '@aws-sdk/client-ec2';
import type { ManagedPrefixList } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPolicyApply, runPolicyPlan, runPolicyResolve } from '../../src/cli/policy-plan.js';
import type { ResolveFlags, ResolveIo } from '../../src/cli/policy-plan.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');

const POLICY = `
apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: web, owner: team-web@example.com }
spec:
  workloads:
    - identity: spiffe://prod.example/ns/web/sa/frontend
  rules:
    - id: apis
      to: [{ fqdn: api.example.test }, { fqdn: dns.example.test }, { fqdn: gone.example.test }, { fqdn: '*.cdn.example.test' }]
      ports: [443]
      justification: Upstream APIs
      expires: 2027-06-30
`;

/** name → A / AAAA answers of the stub; anything else is NXDOMAIN. */
const ZONE: Record<string, { a: string[]; aaaa: string[] }> = {
  'dns.example.test': { a: ['198.51.100.7'], aaaa: ['2001:db8::7'] },
};

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** A minimal DNS responder: one question, A/AAAA from ZONE, NXDOMAIN otherwise. */
async function startDnsStub(): Promise<{ socket: Socket; address: string }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    let off = 12;
    const labels: string[] = [];
    while (msg[off]! !== 0) {
      const len = msg[off]!;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
      off += len + 1;
    }
    const qtype = msg.readUInt16BE(off + 1);
    const question = msg.subarray(12, off + 5);
    const entry = ZONE[labels.join('.').toLowerCase()];
    const addrs = entry === undefined ? [] : qtype === 1 ? entry.a : qtype === 28 ? entry.aaaa : [];
    const answers = addrs.map((ip) => {
      const rdata = qtype === 1 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // ID
    header.writeUInt16BE(entry === undefined ? 0x8183 : 0x8180, 2); // response, RD+RA, NXDOMAIN or OK
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, question, ...answers]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}` };
}

let server: TestServer;
let ec2: EC2Client;
let dir: string;
let hostsFile: string;
let dns: { socket: Socket; address: string };
let flags: ResolveFlags;

beforeAll(async () => {
  server = await startTestServer();
  ec2 = server.ec2();
  dns = await startDnsStub();
  dir = mkdtempSync(join(tmpdir(), 'weir-resolve-'));
  writeFileSync(join(dir, 'web.yaml'), POLICY);
  hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, '192.0.2.10 api.example.test\n2001:db8::10 api.example.test\n');
  flags = { dnsHosts: hostsFile, dnsServer: dns.address };
});

afterAll(async () => {
  ec2.destroy();
  dns.socket.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function resolve(
  extra: ResolveFlags = {},
  io: Partial<ResolveIo> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runPolicyResolve(
    dir,
    { ...flags, ...extra },
    { out: (s) => (out += s), err: (s) => (err += s), client: ec2, ...io },
  );
  return { code, out, err };
}

async function list(name: string): Promise<ManagedPrefixList & { entries: string[] }> {
  const r = await ec2.send(
    new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [name] }] }),
  );
  const pl = r.PrefixLists![0]!;
  const e = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: pl.PrefixListId! }));
  return { ...pl, entries: (e.Entries ?? []).map((x) => x.Cidr!).sort() };
}

describe('FQDN prefix lists: apply and weir policy resolve against weir serve', () => {
  it('apply creates a list per name and family, filled when the name resolves, and rules to them', async () => {
    let out = '';
    let err = '';
    const code = await runPolicyApply(
      dir,
      { ...flags, now: NOW, yes: true },
      { out: (s) => (out += s), err: (s) => (err += s), tty: false, client: ec2 },
    );
    expect(err).not.toContain('failed');
    expect(code).toBe(0);
    expect(out).toContain(
      '+ pl weir-fqdn-api.example.test-ipv4 (new, for api.example.test, max 8 entries)\n',
    );
    expect(out).toContain('  + egress tcp 443 -> weir-fqdn-gone.example.test-ipv6 (apis)\n');
    expect(out).toContain(
      '! web/apis: fqdn *.cdn.example.test skipped: a prefix list cannot enumerate the names of a wildcard; the gateway enforces it by name\n',
    );
    expect(err).toContain('weir: warning: gone.example.test does not resolve (ENOTFOUND)');
    expect(err).toContain('apply: created pl weir-fqdn-api.example.test-ipv4 (pl-');

    const api4 = await list('weir-fqdn-api.example.test-ipv4');
    expect(api4).toMatchObject({
      AddressFamily: 'IPv4',
      MaxEntries: 8,
      Version: 1,
      entries: ['192.0.2.10/32'],
    });
    expect(Object.fromEntries(api4.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      'weir:fqdn': 'api.example.test',
      'weir:managed': 'true',
    });
    expect((await list('weir-fqdn-api.example.test-ipv6')).entries).toEqual(['2001:db8::10/128']);
    expect((await list('weir-fqdn-dns.example.test-ipv4')).entries).toEqual(['198.51.100.7/32']);
    expect((await list('weir-fqdn-dns.example.test-ipv6')).entries).toEqual(['2001:db8::7/128']);
    expect((await list('weir-fqdn-gone.example.test-ipv4')).entries).toEqual([]);

    const sg = (
      await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['weir-web'] }] }),
      )
    ).SecurityGroups![0]!;
    const rules = (
      await ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [sg.GroupId!] }] }),
      )
    ).SecurityGroupRules!.filter((r) => r.IsEgress);
    expect(rules).toHaveLength(6);
    for (const r of rules) {
      expect(r).toMatchObject({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        Description: 'weir:apis Upstream APIs',
      });
      expect(r.PrefixListId).toMatch(/^pl-/);
    }
    expect(new Set(rules.map((r) => r.PrefixListId)).size).toBe(6);

    // Re-applying changes nothing.
    let again = '';
    await runPolicyApply(
      dir,
      { ...flags, now: NOW, yes: true },
      { out: (s) => (again += s), err: () => undefined, tty: false, client: ec2 },
    );
    expect(again).toContain('No changes.');
  });

  it('resolve with nothing changed modifies nothing', async () => {
    const r = await resolve();
    expect(r.code).toBe(0);
    expect(r.out).toBe('Resolved 3 name(s): 0 list(s) updated, 4 unchanged, 1 name(s) unresolved.\n');
    expect(r.err).toBe(
      'weir: warning: gone.example.test does not resolve (ENOTFOUND); its prefix lists are left as they are\n',
    );
    expect((await list('weir-fqdn-api.example.test-ipv4')).Version).toBe(1);
  });

  it('a changed hosts file adds and removes entries, bumping the version; a name that starts resolving fills', async () => {
    writeFileSync(
      hostsFile,
      '192.0.2.11 api.example.test\n192.0.2.12 api.example.test\n203.0.113.5 gone.example.test\n',
    );
    const r = await resolve();
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      [
        'weir-fqdn-api.example.test-ipv4: +192.0.2.11/32 +192.0.2.12/32 -192.0.2.10/32 (version 2)',
        'weir-fqdn-api.example.test-ipv6: -2001:db8::10/128 (version 2)',
        'weir-fqdn-gone.example.test-ipv4: +203.0.113.5/32 (version 2)',
        'Resolved 3 name(s): 3 list(s) updated, 3 unchanged, 0 name(s) unresolved.',
        '',
      ].join('\n'),
    );
    expect(await list('weir-fqdn-api.example.test-ipv4')).toMatchObject({
      Version: 2,
      entries: ['192.0.2.11/32', '192.0.2.12/32'],
    });
    expect((await list('weir-fqdn-api.example.test-ipv6')).entries).toEqual([]);
    expect((await resolve()).out).toContain(': 0 list(s) updated, 6 unchanged');
  });

  it('a version mismatch (another writer in between) is re-read and retried once', async () => {
    writeFileSync(hostsFile, '192.0.2.11 api.example.test\n203.0.113.5 gone.example.test\n');
    let raced = false;
    const racing = {
      send: async (cmd: unknown) => {
        if (cmd instanceof ModifyManagedPrefixListCommand && !raced) {
          raced = true;
          const id = cmd.input.PrefixListId!;
          const cur = (await list('weir-fqdn-api.example.test-ipv4')).Version!;
          await ec2.send(
            new ModifyManagedPrefixListCommand({
              PrefixListId: id,
              CurrentVersion: cur,
              AddEntries: [{ Cidr: '192.0.2.99/32' }],
            }),
          );
        }
        return ec2.send(cmd as ModifyManagedPrefixListCommand);
      },
    } as unknown as EC2Client;
    const r = await resolve({}, { client: racing });
    expect(raced).toBe(true);
    expect(r.code).toBe(0);
    expect(r.out).toContain('weir-fqdn-api.example.test-ipv4: -192.0.2.12/32 -192.0.2.99/32 (version 4)\n');
    expect((await list('weir-fqdn-api.example.test-ipv4')).entries).toEqual(['192.0.2.11/32']);
  });

  it('exits 1 on EC2 errors', async () => {
    const bad = new EC2Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong' },
      maxAttempts: 1,
    });
    try {
      const r = await resolve({}, { client: bad });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/weir: weir-fqdn-api\.example\.test-ipv4: (SignatureDoesNotMatch|AuthFailure): /);
    } finally {
      bad.destroy();
    }
  });

  it('--every repeats until stopped, then exits cleanly', async () => {
    const stop = new AbortController();
    let passes = 0;
    let out = '';
    const code = await runPolicyResolve(
      dir,
      { ...flags, every: '10ms' },
      {
        out: (s) => {
          out += s;
          if (s.startsWith('Resolved') && ++passes === 3) stop.abort();
        },
        err: () => undefined,
        client: ec2,
        signal: stop.signal,
      },
    );
    expect(code).toBe(0);
    expect(passes).toBe(3);
    expect(out.match(/0 list\(s\) updated/g)).toHaveLength(3);
  });

  it('rejects a bad --every and --dns-server as usage errors', async () => {
    await expect(resolve({ every: 'soon' })).rejects.toThrow(
      "--every must be a duration like 30s, 5m or 1h (got 'soon')",
    );
    await expect(resolve({ dnsServer: 'dns.example' })).rejects.toThrow('--dns-server must be IP:PORT');
  });
});

describe('FQDN prefix lists: growing, and deleting those no policy names', () => {
  const v4 = (prefix: string, n: number, name: string): string =>
    Array.from({ length: n }, (_, i) => `${prefix}.${i + 1} ${name}\n`).join('');
  const webGroupId = async (): Promise<string> =>
    (
      await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['weir-web'] }] }),
      )
    ).SecurityGroups![0]!.GroupId!;
  const apply = async (): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runPolicyApply(
      dir,
      { ...flags, now: NOW, yes: true },
      { out: (s) => (out += s), err: (s) => (err += s), tty: false, client: ec2 },
    );
    return { code, out, err };
  };
  const listNames = async (): Promise<string[]> =>
    ((await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists ?? [])
      .map((l) => l.PrefixListName ?? '')
      .filter((n) => n.startsWith('weir-fqdn-'))
      .sort();

  it('a name with more addresses than its list holds gets the list grown, and every address', async () => {
    writeFileSync(hostsFile, v4('192.0.2', 10, 'api.example.test') + '203.0.113.5 gone.example.test\n');
    const r = await resolve();
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(
      /^weir-fqdn-api\.example\.test-ipv4: \+192\.0\.2\.1\/32 .* \(version \d+, resized to 16 entries\)$/m,
    );
    const api4 = await list('weir-fqdn-api.example.test-ipv4');
    expect(api4.MaxEntries).toBe(16);
    expect(api4.entries).toHaveLength(10);
    // Grown once: the next pass changes nothing.
    expect((await resolve()).out).toContain(': 0 list(s) updated');
  });

  it("a grow the groups' rule quota does not allow keeps the addresses that fit, with a warning", async () => {
    // weir-web holds 6 list rules: 16 + 5 × 8 = 56 of 60; another list at 16 would make 64.
    writeFileSync(hostsFile, v4('192.0.2', 10, 'api.example.test') + v4('203.0.113', 9, 'gone.example.test'));
    const r = await resolve();
    expect(r.code).toBe(0);
    const gid = await webGroupId();
    expect(r.err).toContain(
      "weir: warning: weir-fqdn-gone.example.test-ipv4: gone.example.test has 1 more address(es) than the list's MaxEntries; left out (the list could not grow: RulesPerSecurityGroupLimitExceeded: ",
    );
    expect(r.err).toContain(gid);
    const gone4 = await list('weir-fqdn-gone.example.test-ipv4');
    expect(gone4.MaxEntries).toBe(8);
    expect(gone4.entries).toHaveLength(8);
  });

  it('plan lists the lists of a name no policy mentions; apply revokes their rules, then deletes them', async () => {
    writeFileSync(join(dir, 'web.yaml'), POLICY.replace(', { fqdn: gone.example.test }', ''));
    let out = '';
    const code = await runPolicyPlan(
      dir,
      { ...flags, now: NOW, detailedExitcode: true },
      { out: (s) => (out += s), err: () => undefined, client: ec2 },
    );
    expect(code).toBe(2);
    expect(out).toMatch(
      /^- pl weir-fqdn-gone\.example\.test-ipv4 \(pl-[0-9a-f]+, no policy names gone\.example\.test; deleted after the groups\)$/m,
    );
    expect(out).toContain('  - egress tcp 443 -> pl-');
    expect(out).toContain('Plan: 0 to add, 0 to change, 4 to revoke.');
    const r = await apply();
    expect(r.code).toBe(0);
    expect(r.err).toContain('deleted pl weir-fqdn-gone.example.test-ipv6');
    expect(await listNames()).toEqual([
      'weir-fqdn-api.example.test-ipv4',
      'weir-fqdn-api.example.test-ipv6',
      'weir-fqdn-dns.example.test-ipv4',
      'weir-fqdn-dns.example.test-ipv6',
    ]);
    expect((await apply()).out).toContain('No changes.');
  });

  it('a list still referenced outside the managed groups is kept with a warning (DependencyViolation)', async () => {
    const vpc = await webGroupId().then(
      async (id) =>
        (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0]!.VpcId!,
    );
    const other = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'hand-made', Description: 'not Weir', VpcId: vpc }),
    );
    const dns4 = await list('weir-fqdn-dns.example.test-ipv4');
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: other.GroupId!,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 53,
            ToPort: 53,
            PrefixListIds: [{ PrefixListId: dns4.PrefixListId! }],
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'web.yaml'),
      POLICY.replace(', { fqdn: gone.example.test }', '').replace(', { fqdn: dns.example.test }', ''),
    );
    const r = await apply();
    expect(r.code).toBe(0);
    expect(r.err).toContain(
      `weir: warning: pl weir-fqdn-dns.example.test-ipv4 (${dns4.PrefixListId!}) is still referenced by a rule of a group this policy set does not manage; kept.`,
    );
    expect(await listNames()).toEqual([
      'weir-fqdn-api.example.test-ipv4',
      'weir-fqdn-api.example.test-ipv6',
      'weir-fqdn-dns.example.test-ipv4',
    ]);
  });

  it("follows EC2's asynchronous resize: modify-in-progress, then modify-failed or modify-complete", async () => {
    writeFileSync(hostsFile, v4('192.0.2', 20, 'api.example.test'));
    const api4 = await list('weir-fqdn-api.example.test-ipv4');
    // EC2 answers a resize with `modify-in-progress` and settles later; Weir answers at once,
    // so a client in front of it plays EC2's part.
    const asEc2 = (outcome: 'modify-failed' | 'modify-complete') => {
      let polls = 0;
      return {
        send: async (cmd: unknown) => {
          if (cmd instanceof ModifyManagedPrefixListCommand && cmd.input.MaxEntries !== undefined) {
            const pl =
              outcome === 'modify-complete'
                ? (await ec2.send(cmd)).PrefixList
                : { PrefixListId: api4.PrefixListId };
            return { PrefixList: { ...pl, State: 'modify-in-progress' } };
          }
          if (cmd instanceof DescribeManagedPrefixListsCommand && cmd.input.PrefixListIds !== undefined) {
            const real = await ec2.send(cmd);
            const pl = real.PrefixLists![0]!;
            if (polls++ === 0) return { PrefixLists: [{ ...pl, State: 'modify-in-progress' }] };
            if (outcome === 'modify-failed')
              return {
                PrefixLists: [{ ...pl, State: 'modify-failed', StateMessage: 'sg-0123456789abcdef0' }],
              };
            return real;
          }
          return ec2.send(cmd as ModifyManagedPrefixListCommand);
        },
      } as unknown as EC2Client;
    };
    const failed = await resolve({}, { client: asEc2('modify-failed') });
    expect(failed.code).toBe(0);
    expect(failed.err).toContain(
      "weir-fqdn-api.example.test-ipv4: api.example.test has 4 more address(es) than the list's MaxEntries; left out (the list could not grow: sg-0123456789abcdef0)",
    );
    expect(await list('weir-fqdn-api.example.test-ipv4')).toMatchObject({ MaxEntries: 16 });
    const done = await resolve({}, { client: asEc2('modify-complete') });
    expect(done.code).toBe(0);
    expect(done.err).toBe('');
    expect(done.out).toMatch(
      /^weir-fqdn-api\.example\.test-ipv4: \+.* \(version \d+, resized to 24 entries\)$/m,
    );
    const grown = await list('weir-fqdn-api.example.test-ipv4');
    expect(grown.MaxEntries).toBe(24);
    expect(grown.entries).toHaveLength(20);
  });
});
