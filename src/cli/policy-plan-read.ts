/**
 * @module cli/policy-plan-read — what plan and apply start from: the policy set (refused with
 * its errors if it has any) and what the EC2 endpoint holds for it: the VPC, the managed (or
 * same-named) groups with their egress rules, the IDs of names the set refers to, and the
 * Weir-managed FQDN lists.
 */
import { existsSync } from 'node:fs';
import {
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import type {
  EC2Client,
  Filter,
  SecurityGroup as SdkGroup,
  SecurityGroupRule as SdkRule,
  Tag,
} from '@aws-sdk/client-ec2';
import { WeirError } from '../model/index.js';
import { formatText, loadPolicySet } from '../policy/index.js';
import type { PolicySet } from '../policy/index.js';
import {
  fqdnNames,
  FQDN_FAMILIES,
  FQDN_LIST_PREFIX,
  fqdnListName,
  namedRefs,
  refKey,
  TAG,
} from '../policy/index.js';
import type { CurrentGroup, CurrentRule, ManagedFqdnList, RuleTarget } from '../policy/index.js';
import { describeLists } from '../policy/index.js';
import { PlanError } from './policy-plan-errors.js';

/** The policy set in `dir`; a set with errors is refused (`PlanError`) with them listed. */
export function loadSet(dir: string): PolicySet {
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

/** The egress rules of the groups, by group ID (every ID present, possibly with none). */
export async function egressRules(
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
