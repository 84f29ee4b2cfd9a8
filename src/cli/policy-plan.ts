/**
 * @module cli/policy-plan — `weir policy plan|apply|resolve DIR`: read the security groups an
 * EC2 endpoint (Weir or AWS) holds for a policy set, print the diff, and perform it; keep the
 * FQDN prefix lists at their names' addresses. The pure parts (desired state, diff, rendering)
 * are in policy/plan, the prefix-list sync in policy/resolve.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteManagedPrefixListCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
} from '@aws-sdk/client-ec2';
import type {
  Filter,
  IpPermission,
  SecurityGroup as SdkGroup,
  SecurityGroupRule as SdkRule,
  Tag,
} from '@aws-sdk/client-ec2';
import { createResolver, dnsServerResolve, parseHostsFile } from '../dns/index.js';
import type { HostsFileProblem } from '../dns/index.js';
import type { Resolve } from '../dns/index.js';
import { WeirError } from '../model/index.js';
import { PLAN_FORMATS } from './policy-plan-command.js';
import { formatText, loadPolicySet } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import {
  desiredState,
  diffRules,
  diffState,
  fqdnNames,
  FQDN_FAMILIES,
  FQDN_LIST_PREFIX,
  fqdnListName,
  formatPlanJson,
  formatPlanText,
  formatRule,
  FQDN_LIST_MAX_ENTRIES,
  hasChanges,
  namedRefs,
  refKey,
  TAG,
} from '../policy/plan.js';
import { createFqdnList, describeLists, formatSync, resolveName, resolveNames } from '../policy/resolve.js';
import type { ResolvedName } from '../policy/resolve.js';
import type {
  CurrentGroup,
  CurrentRule,
  DesiredGroup,
  DesiredRule,
  DesiredState,
  GroupPlan,
  ManagedFqdnList,
  Plan,
  RuleChange,
  RuleTarget,
} from '../policy/plan.js';

type Write = (s: string) => void;

/** Flags shared by `plan` and `apply`. */
export interface PlanFlags {
  endpointUrl?: string;
  profile?: string;
  region?: string;
  vpcId?: string;
  format?: string;
  detailedExitcode?: boolean;
  prune?: boolean;
  yes?: boolean;
  /** `IP:PORT` of the DNS server FQDNs are resolved with (default: the system resolver). */
  dnsServer?: string;
  /** Hosts file consulted before DNS, as the gateway's `--dns-hosts`. */
  dnsHosts?: string;
  /** Epoch ms for expiry (tests); default now. */
  now?: number;
}

/** Where output goes, and (tests) a ready client instead of one built from the flags. */
export interface PlanIo {
  readonly out: Write;
  readonly err: Write;
  /** Whether stderr is a terminal (progress bar) — default: process.stderr.isTTY. */
  readonly tty?: boolean;
  readonly client?: EC2Client;
  /** Asks the user to confirm apply; default: a prompt on a terminal stdin, else refuse. */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Resolves FQDNs; default: from `--dns-hosts` / `--dns-server` / the system resolver. */
  readonly resolve?: Resolve;
}

/** The resolver of `--dns-hosts FILE` (first) and `--dns-server IP:PORT` (else the system's). */
export function makeResolver(flags: Pick<PlanFlags, 'dnsServer' | 'dnsHosts'>, warn?: Write): Resolve {
  let hosts: Map<string, string[]> | undefined;
  if (flags.dnsHosts !== undefined) {
    if (!existsSync(flags.dnsHosts))
      throw new WeirError('InvalidArgument', `--dns-hosts: file ${flags.dnsHosts} does not exist`);
    const problems: HostsFileProblem[] = [];
    hosts = parseHostsFile(readFileSync(flags.dnsHosts, 'utf8'), problems);
    for (const p of problems) warn?.(`weir: warning: ${flags.dnsHosts}:${p.line}:${p.col}: ${p.message}\n`);
  }
  if (
    flags.dnsServer !== undefined &&
    !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(:\d{1,5})?$/.test(flags.dnsServer)
  )
    throw new WeirError('InvalidArgument', `--dns-server must be IP:PORT (got '${flags.dnsServer}')`);
  return createResolver({
    ...(hosts !== undefined ? { hosts } : {}),
    ...(flags.dnsServer !== undefined ? { fallback: dnsServerResolve(flags.dnsServer) } : {}),
  });
}

/** An EC2 client from `--endpoint-url`, `--profile`, `--region` and the default credential chain. */
export function makeClient(flags: PlanFlags): EC2Client {
  return new EC2Client({
    ...(flags.endpointUrl !== undefined ? { endpoint: flags.endpointUrl } : {}),
    ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    ...(flags.region !== undefined ? { region: flags.region } : {}),
  });
}

function loadSet(dir: string): PolicySet {
  if (!existsSync(dir)) throw new WeirError('InvalidArgument', `${dir}: no such file or directory`);
  const loaded = loadPolicySet(dir);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new PlanError(
      `the policy set has ${errors.length} error(s); fix them before planning:\n${formatText({
        diagnostics: errors,
        errors: errors.length,
        warnings: 0,
        stats: { policies: 0, rules: 0, workloads: 0, tests: 0 },
      }).trimEnd()}`,
    );
  }
  return loaded.set;
}

/** A failure that exits 1 (as opposed to a usage error, `WeirError`, which exits 2). */
class PlanError extends Error {}

function tagsOf(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

function toCurrentRule(r: SdkRule): CurrentRule | undefined {
  let target: RuleTarget | undefined;
  if (r.CidrIpv4 !== undefined) target = { kind: 'ipv4', cidr: r.CidrIpv4 };
  else if (r.CidrIpv6 !== undefined) target = { kind: 'ipv6', cidr: r.CidrIpv6 };
  else if (r.PrefixListId !== undefined) target = { kind: 'prefixList', id: r.PrefixListId };
  else if (r.ReferencedGroupInfo?.GroupId !== undefined)
    target = { kind: 'group', id: r.ReferencedGroupInfo.GroupId };
  if (target === undefined || r.SecurityGroupRuleId === undefined) return undefined;
  return {
    ruleId: r.SecurityGroupRuleId,
    protocol: r.IpProtocol ?? '-1',
    fromPort: r.FromPort ?? -1,
    toPort: r.ToPort ?? -1,
    target,
    description: r.Description ?? '',
    tags: tagsOf(r.Tags),
  };
}

async function describeGroups(client: EC2Client, filters: Filter[]): Promise<SdkGroup[]> {
  const out: SdkGroup[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(
      new DescribeSecurityGroupsCommand({ Filters: filters, ...(token ? { NextToken: token } : {}) }),
    );
    out.push(...(r.SecurityGroups ?? []));
    token = r.NextToken;
  } while (token);
  return out;
}

async function egressRules(
  client: EC2Client,
  groupIds: readonly string[],
): Promise<Map<string, CurrentRule[]>> {
  const byGroup = new Map<string, CurrentRule[]>(groupIds.map((id) => [id, []]));
  for (let i = 0; i < groupIds.length; i += 200) {
    let token: string | undefined;
    do {
      const r = await client.send(
        new DescribeSecurityGroupRulesCommand({
          Filters: [{ Name: 'group-id', Values: groupIds.slice(i, i + 200) }],
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const sdk of r.SecurityGroupRules ?? []) {
        const rule = sdk.IsEgress === true ? toCurrentRule(sdk) : undefined;
        if (rule && sdk.GroupId !== undefined) byGroup.get(sdk.GroupId)?.push(rule);
      }
      token = r.NextToken;
    } while (token);
  }
  return byGroup;
}

/** What the endpoint holds for a set: its VPC, the managed (or same-named) groups, resolved names. */
export interface EndpointState {
  readonly vpcId: string;
  readonly vpcHasIpv6: boolean;
  readonly groups: CurrentGroup[];
  readonly refs: Map<string, string>;
  /** The Weir-managed FQDN lists the endpoint holds (all names, not only the set's). */
  readonly managedLists: ManagedFqdnList[];
}

/**
 * Every FQDN list Weir created on the endpoint: named `weir-fqdn-…` and tagged `weir:managed`
 * and `weir:fqdn`. Lists are read unfiltered (EC2 filters them by name, ID and owner only).
 */
async function managedFqdnLists(client: EC2Client): Promise<ManagedFqdnList[]> {
  const out: ManagedFqdnList[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(
      new DescribeManagedPrefixListsCommand({ MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
    );
    for (const l of r.PrefixLists ?? []) {
      const tags = tagsOf(l.Tags);
      const fqdn = tags[TAG.fqdn];
      if (
        l.PrefixListId !== undefined &&
        l.PrefixListName?.startsWith(FQDN_LIST_PREFIX) === true &&
        tags[TAG.managed] === 'true' &&
        fqdn !== undefined
      )
        out.push({ listName: l.PrefixListName, id: l.PrefixListId, fqdn });
    }
    token = r.NextToken;
  } while (token);
  return out;
}

/** Reads the current state: the VPC, groups by tag and by name, their egress rules, named refs. */
export async function readState(
  client: EC2Client,
  set: PolicySet,
  vpcIdFlag: string | undefined,
): Promise<EndpointState> {
  const vpcs = await client.send(
    new DescribeVpcsCommand(
      vpcIdFlag !== undefined
        ? { VpcIds: [vpcIdFlag] }
        : { Filters: [{ Name: 'is-default', Values: ['true'] }] },
    ),
  );
  const vpc = vpcs.Vpcs?.[0];
  if (vpc?.VpcId === undefined) throw new PlanError('no default VPC in this region; pass --vpc-id');
  const vpcId = vpc.VpcId;
  const vpcHasIpv6 = (vpc.Ipv6CidrBlockAssociationSet ?? []).some(
    (a) => a.Ipv6CidrBlockState?.State === 'associated' || a.Ipv6CidrBlockState?.State === undefined,
  );
  const inVpc: Filter = { Name: 'vpc-id', Values: [vpcId] };
  const names = set.policies.map((p) => `weir-${p.name}`);
  const found = new Map<string, SdkGroup>();
  for (const g of await describeGroups(client, [inVpc, { Name: `tag:${TAG.managed}`, Values: ['true'] }]))
    if (g.GroupId) found.set(g.GroupId, g);
  for (let i = 0; i < names.length; i += 200) {
    for (const g of await describeGroups(client, [
      inVpc,
      { Name: 'group-name', Values: names.slice(i, i + 200) },
    ]))
      if (g.GroupId) found.set(g.GroupId, g);
  }
  const rules = await egressRules(client, [...found.keys()]);
  const groups: CurrentGroup[] = [...found.values()].map((g) => ({
    groupId: g.GroupId!,
    name: g.GroupName ?? '',
    tags: tagsOf(g.Tags),
    rules: rules.get(g.GroupId!) ?? [],
  }));
  const refs = new Map<string, string>();
  const listNames = fqdnNames(set).flatMap((n) => FQDN_FAMILIES.map((f) => fqdnListName(n, f.suffix)));
  for (const [name, list] of await describeLists(client, listNames))
    refs.set(refKey('prefixList', name), list.id);
  for (const ref of namedRefs(set)) {
    if (ref.kind === 'group') {
      const [g] = await describeGroups(client, [inVpc, { Name: 'group-name', Values: [ref.name] }]);
      if (g?.GroupId) refs.set(refKey('group', ref.name), g.GroupId);
    } else {
      const r = await client.send(
        new DescribeManagedPrefixListsCommand({
          Filters: [{ Name: 'prefix-list-name', Values: [ref.name] }],
        }),
      );
      const id = r.PrefixLists?.[0]?.PrefixListId;
      if (id) refs.set(refKey('prefixList', ref.name), id);
    }
  }
  return { vpcId, vpcHasIpv6, groups, refs, managedLists: await managedFqdnLists(client) };
}

function checkFormat(flags: PlanFlags): 'text' | 'json' {
  const f = flags.format ?? 'text';
  if (!(PLAN_FORMATS as readonly string[]).includes(f)) {
    throw new WeirError('InvalidArgument', `--format must be one of ${PLAN_FORMATS.join(', ')} (got '${f}')`);
  }
  return f as 'text' | 'json';
}

async function computePlan(
  dir: string,
  flags: PlanFlags,
  client: EC2Client,
): Promise<{ plan: Plan; desired: DesiredState; state: EndpointState }> {
  const set = loadSet(dir);
  const state = await readState(client, set, flags.vpcId);
  const desired = desiredState(set, { now: flags.now ?? Date.now(), refs: state.refs });
  const plan = diffState(desired, state.groups, {
    vpcId: state.vpcId,
    vpcHasIpv6: state.vpcHasIpv6,
    prune: flags.prune === true,
    managedLists: state.managedLists,
  });
  return { plan, desired, state };
}

/** `Code: message` of an EC2 (SDK) error, or the message of any other. */
function describeError(err: unknown): string {
  if (err instanceof PlanError) return err.message;
  // The SDK's words when neither the flags, the environment nor the profile name a region.
  if (err instanceof Error && err.message === 'Region is missing') {
    return 'no region: give --region R, or set AWS_REGION, or region in the profile';
  }
  if (err instanceof Error) {
    const code = err.name !== 'Error' ? `${err.name}: ` : '';
    return `${code}${err.message}`;
  }
  return String(err);
}

/**
 * `weir policy plan DIR`: prints the plan. Returns the exit code: 0 (no changes, or changes
 * without `--detailed-exitcode`), 2 (changes with `--detailed-exitcode`), 1 on error (the EC2
 * error code and message on stderr). Usage mistakes throw `WeirError`.
 */
export async function runPolicyPlan(dir: string, flags: PlanFlags, io: PlanIo): Promise<number> {
  const format = checkFormat(flags);
  const client = io.client ?? makeClient(flags);
  try {
    const { plan } = await computePlan(dir, flags, client);
    io.out(format === 'json' ? formatPlanJson(plan) : formatPlanText(plan));
    return hasChanges(plan) && flags.detailedExitcode === true ? 2 : 0;
  } catch (err) {
    if (err instanceof WeirError) throw err;
    io.err(`weir: plan failed: ${describeError(err)}\n`);
    return 1;
  }
}

/** Progress on stderr: a bar redrawn in place on a terminal, one line per step otherwise. */
class Progress {
  private done = 0;
  constructor(
    private readonly total: number,
    private readonly err: Write,
    private readonly tty: boolean,
  ) {}
  step(units: number, what: string): void {
    this.done += units;
    if (!this.tty) {
      this.err(`apply: ${what}\n`);
      return;
    }
    const width = 30;
    const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
    const bar = `${'='.repeat(filled)}${' '.repeat(width - filled)}`;
    this.err(`\r\x1b[2K[${bar}] ${this.done}/${this.total} ${what}`);
  }
  end(): void {
    if (this.tty) this.err('\n');
  }
}

function sdkTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function permission(r: DesiredRule): IpPermission {
  const t = r.target;
  const ports = r.protocol === '-1' ? {} : { FromPort: r.fromPort, ToPort: r.toPort };
  const base = { IpProtocol: r.protocol, ...ports };
  const d = r.description;
  switch (t.kind) {
    case 'ipv4':
      return { ...base, IpRanges: [{ CidrIp: t.cidr, Description: d }] };
    case 'ipv6':
      return { ...base, Ipv6Ranges: [{ CidrIpv6: t.cidr, Description: d }] };
    case 'prefixList':
      return { ...base, PrefixListIds: [{ PrefixListId: t.id, Description: d }] };
    case 'group':
      return { ...base, UserIdGroupPairs: [{ GroupId: t.id, Description: d }] };
  }
}

/** Groups items by a string key, keeping first-seen order. */
function groupBy<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return [...m.values()];
}

/** Performs one group's rule changes: authorize (a call per policy rule: its tags), intent, revoke. */
async function applyRules(
  client: EC2Client,
  groupId: string,
  name: string,
  rules: { add: readonly DesiredRule[]; change: readonly RuleChange[]; revoke: readonly CurrentRule[] },
  progress: Progress,
  log: string[],
): Promise<void> {
  // Add before revoke, so a rule whose ports move is never absent in between.
  for (const batch of groupBy(rules.add, (r) => r.policyRule)) {
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: batch.map(permission),
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: sdkTags(batch[0]!.tags) }],
      }),
    );
    const what = `${name}: authorized ${batch.map((r) => `${formatRule(r)} (${r.policyRule})`).join(', ')}`;
    log.push(what);
    progress.step(batch.length, what);
  }
  const described = rules.change.filter((c) => c.description !== undefined);
  if (described.length > 0) {
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsEgressCommand({
        GroupId: groupId,
        SecurityGroupRuleDescriptions: described.map((c) => ({
          SecurityGroupRuleId: c.rule.ruleId,
          Description: c.description!,
        })),
      }),
    );
    log.push(`${name}: updated ${described.length} description(s)`);
  }
  for (const batch of groupBy(
    rules.change.filter((c) => Object.keys(c.setTags).length > 0),
    (c) => JSON.stringify(c.setTags),
  )) {
    await client.send(
      new CreateTagsCommand({ Resources: batch.map((c) => c.rule.ruleId), Tags: sdkTags(batch[0]!.setTags) }),
    );
    log.push(`${name}: tagged ${batch.map((c) => c.rule.ruleId).join(', ')}`);
  }
  for (const batch of groupBy(
    rules.change.filter((c) => c.deleteTags.length > 0),
    (c) => c.deleteTags.join(','),
  )) {
    await client.send(
      new DeleteTagsCommand({
        Resources: batch.map((c) => c.rule.ruleId),
        Tags: batch[0]!.deleteTags.map((Key) => ({ Key })),
      }),
    );
    log.push(`${name}: untagged ${batch.map((c) => c.rule.ruleId).join(', ')}`);
  }
  if (rules.change.length > 0)
    progress.step(rules.change.length, `${name}: changed ${rules.change.length} rule(s)`);
  if (rules.revoke.length > 0) {
    await client.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        SecurityGroupRuleIds: rules.revoke.map((r) => r.ruleId),
      }),
    );
    const what = `${name}: revoked ${rules.revoke.map((r) => formatRule(r)).join(', ')}`;
    log.push(what);
    progress.step(rules.revoke.length, what);
  }
}

async function applyGroup(
  client: EC2Client,
  g: GroupPlan,
  desired: DesiredGroup | undefined,
  vpcId: string,
  progress: Progress,
  log: string[],
): Promise<void> {
  if (g.action === 'orphan') return;
  if (g.action === 'delete') {
    await client.send(new DeleteSecurityGroupCommand({ GroupId: g.groupId! }));
    log.push(`deleted sg ${g.name} (${g.groupId!})`);
    progress.step(1, `deleted sg ${g.name}`);
    return;
  }
  if (g.action === 'create') {
    const r = await client.send(
      new CreateSecurityGroupCommand({
        GroupName: g.name,
        Description: g.description!,
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: sdkTags(g.tags) }],
      }),
    );
    const groupId = r.GroupId!;
    log.push(`created sg ${g.name} (${groupId})`);
    progress.step(1, `created sg ${g.name}`);
    // The plan predicted the defaults EC2 adds; diff against what it actually added.
    const current = (await egressRules(client, [groupId])).get(groupId) ?? [];
    await applyRules(client, groupId, g.name, diffRules(desired?.rules ?? [], current), progress, log);
    return;
  }
  const groupId = g.groupId!;
  if (Object.keys(g.setTags).length > 0) {
    await client.send(new CreateTagsCommand({ Resources: [groupId], Tags: sdkTags(g.setTags) }));
  }
  if (g.deleteTags.length > 0) {
    await client.send(
      new DeleteTagsCommand({ Resources: [groupId], Tags: g.deleteTags.map((Key) => ({ Key })) }),
    );
  }
  if (Object.keys(g.setTags).length > 0 || g.deleteTags.length > 0) {
    log.push(`retagged sg ${g.name}`);
    progress.step(1, `retagged sg ${g.name}`);
  }
  await applyRules(client, groupId, g.name, g, progress, log);
}

/** Creates the plan's FQDN lists, filled with each name's addresses; a name that does not resolve gets empty lists. */
async function createLists(
  client: EC2Client,
  plan: Plan,
  resolve: Resolve,
  io: PlanIo,
  progress: Progress,
  log: string[],
): Promise<void> {
  const resolved = new Map<string, ResolvedName | undefined>();
  for (const l of plan.prefixLists) {
    if (!resolved.has(l.fqdn)) {
      const r = await resolveName(resolve, l.fqdn);
      if ('error' in r)
        io.err(
          `weir: warning: ${l.fqdn} does not resolve (${r.error}); its prefix lists stay empty until \`weir policy resolve\` finds addresses\n`,
        );
      resolved.set(l.fqdn, 'entries' in r ? r.entries : undefined);
    }
    const entries = resolved.get(l.fqdn);
    const id = await createFqdnList(client, l, entries);
    const all = entries?.[l.family].length ?? 0;
    const n = Math.min(all, FQDN_LIST_MAX_ENTRIES);
    if (all > n)
      io.err(
        `weir: warning: ${l.fqdn} has ${all} ${l.family} addresses; ${l.listName} starts with ${n} and \`weir policy resolve\` grows it\n`,
      );
    const what = `created pl ${l.listName} (${id}, ${n} entr${n === 1 ? 'y' : 'ies'})`;
    log.push(what);
    progress.step(1, what);
  }
}

async function defaultConfirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new WeirError('InvalidArgument', 'apply needs --yes when stdin is not a terminal');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * `weir policy apply DIR`: prints the plan, asks (unless `--yes`), performs it with progress on
 * stderr, and returns 0, or 1 on error after reporting what was done and what was not.
 */
export async function runPolicyApply(dir: string, flags: PlanFlags, io: PlanIo): Promise<number> {
  const format = checkFormat(flags);
  const client = io.client ?? makeClient(flags);
  let computed: Awaited<ReturnType<typeof computePlan>>;
  try {
    computed = await computePlan(dir, flags, client);
  } catch (err) {
    if (err instanceof WeirError) throw err;
    io.err(`weir: apply failed before any change: ${describeError(err)}\n`);
    return 1;
  }
  const { plan } = computed;
  let { desired } = computed;
  io.out(format === 'json' ? formatPlanJson(plan) : formatPlanText(plan));
  if (!hasChanges(plan)) return 0;
  const resolve = plan.prefixLists.length > 0 ? (io.resolve ?? makeResolver(flags, io.err)) : undefined;
  if (flags.yes !== true) {
    const ok = await (io.confirm ?? defaultConfirm)('Apply these changes? [y/N] ');
    if (!ok) {
      io.err('weir: apply cancelled; nothing changed\n');
      return 1;
    }
  }
  const { add, change, revoke } = plan.summary;
  const progress = new Progress(add + change + revoke, io.err, io.tty ?? process.stderr.isTTY === true);
  const log: string[] = [];
  let groups = plan.groups;
  if (plan.prefixLists.length > 0 && resolve !== undefined) {
    try {
      await createLists(client, plan, resolve, io, progress, log);
      // The rules of the plan name the new lists; the re-read state has their IDs.
      ({
        plan: { groups },
        desired,
      } = await computePlan(dir, flags, client));
    } catch (err) {
      progress.end();
      io.err(
        [
          `weir: apply failed creating prefix lists: ${describeError(err)}`,
          `done:${log.length ? '' : ' nothing'}`,
          ...log.map((l) => `  ${l}`),
          'Run `weir policy plan` to see what remains.',
        ].join('\n') + '\n',
      );
      return 1;
    }
  }
  const byName = new Map(desired.groups.map((g) => [g.name, g]));
  const pending = groups.filter((g) => g.action !== 'orphan');
  for (const [i, g] of pending.entries()) {
    try {
      await applyGroup(client, g, byName.get(g.name), plan.vpcId, progress, log);
    } catch (err) {
      progress.end();
      const rest = pending.slice(i).map((p) => `${p.action} sg ${p.name}`);
      io.err(
        [
          `weir: apply failed at sg ${g.name}: ${describeError(err)}`,
          `done:${log.length ? '' : ' nothing'}`,
          ...log.map((l) => `  ${l}`),
          'not done (in part or in full):',
          ...rest.map((l) => `  ${l}`),
          'Run `weir policy plan` to see what remains.',
        ].join('\n') + '\n',
      );
      return 1;
    }
  }
  for (const l of plan.deleteLists) {
    try {
      await client.send(new DeleteManagedPrefixListCommand({ PrefixListId: l.id }));
      const what = `deleted pl ${l.listName} (${l.id})`;
      log.push(what);
      progress.step(1, what);
    } catch (err) {
      if (!(err instanceof Error && err.name === 'DependencyViolation')) {
        progress.end();
        io.err(
          [
            `weir: apply failed deleting pl ${l.listName}: ${describeError(err)}`,
            `done:${log.length ? '' : ' nothing'}`,
            ...log.map((x) => `  ${x}`),
            'Run `weir policy plan` to see what remains.',
          ].join('\n') + '\n',
        );
        return 1;
      }
      // A rule outside the groups this set manages still points at it: deleting it would
      // break that rule, so it stays, and the next plan lists it again.
      progress.step(1, `kept pl ${l.listName}`);
      io.err(
        `weir: warning: pl ${l.listName} (${l.id}) is still referenced by a rule of a group this policy set does not manage; kept. Remove that rule, then apply again.\n`,
      );
    }
  }
  progress.end();
  if (format === 'text') io.out(`Apply complete: ${add} added, ${change} changed, ${revoke} revoked.\n`);
  return 0;
}

/** Flags of `weir policy resolve`. */
export interface ResolveFlags {
  endpointUrl?: string;
  profile?: string;
  region?: string;
  dnsServer?: string;
  dnsHosts?: string;
  /** Repeat every DURATION (`30s`, `5m`, `1h`) until stopped. */
  every?: string;
}

/** `weir policy resolve` I/O: `signal` stops `--every` (the CLI aborts it on SIGINT/SIGTERM). */
export interface ResolveIo extends Pick<PlanIo, 'out' | 'err' | 'client' | 'resolve'> {
  readonly signal?: AbortSignal;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `5m`, `1h` → milliseconds; a usage error otherwise. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(ms > 0))
    throw new WeirError('InvalidArgument', `--every must be a duration like 30s, 5m or 1h (got '${text}')`);
  return ms;
}

async function resolvePass(dir: string, client: EC2Client, resolve: Resolve, io: ResolveIo): Promise<number> {
  const names = fqdnNames(loadSet(dir));
  let code = 0;
  let updated = 0;
  let unchanged = 0;
  let unresolved = 0;
  for (const o of await resolveNames(client, names, resolve)) {
    if (o.kind === 'unresolved') {
      unresolved++;
      io.err(
        `weir: warning: ${o.fqdn} does not resolve (${o.error}); its prefix lists are left as they are\n`,
      );
    } else if (o.kind === 'failed') {
      code = 1;
      io.err(`weir: ${o.listName}: ${describeError(o.error)}\n`);
    } else {
      for (const r of o.results) {
        if (r.added.length + r.removed.length > 0) {
          updated++;
          io.out(`${formatSync(r)}\n`);
        } else unchanged++;
        if (r.dropped > 0)
          io.err(
            `weir: warning: ${r.listName}: ${o.fqdn} has ${r.dropped} more address(es) than the list's MaxEntries; left out` +
              (r.resizeError !== undefined ? ` (the list could not grow: ${r.resizeError})` : '') +
              '\n',
          );
      }
    }
  }
  io.out(
    `Resolved ${names.length} name(s): ${updated} list(s) updated, ${unchanged} unchanged, ${unresolved} name(s) unresolved.\n`,
  );
  return code;
}

/**
 * `weir policy resolve DIR`: resolves each exact FQDN of the set and makes its prefix lists hold
 * exactly the current addresses. Returns 0, or 1 when an EC2 call failed (a name that does not
 * resolve is a warning). With `--every`, repeats until `io.signal` aborts and returns the last
 * pass's code.
 */
export async function runPolicyResolve(dir: string, flags: ResolveFlags, io: ResolveIo): Promise<number> {
  const every = flags.every !== undefined ? parseDuration(flags.every) : undefined;
  const resolve = io.resolve ?? makeResolver(flags, io.err);
  const client = io.client ?? makeClient(flags);
  for (;;) {
    let code: number;
    try {
      code = await resolvePass(dir, client, resolve, io);
    } catch (err) {
      if (err instanceof WeirError) throw err;
      io.err(`weir: resolve failed: ${describeError(err)}\n`);
      code = 1;
    }
    if (every === undefined || io.signal?.aborted === true) return code;
    try {
      await sleep(every, undefined, io.signal !== undefined ? { signal: io.signal } : {});
    } catch {
      return code;
    }
  }
}
