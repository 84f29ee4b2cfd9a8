/**
 * @module api/actions — the EC2 action table: each action's handler and whether it only
 * reads (a `readonly` key may call only those).
 */
import type { ActionContext } from '../context.js';
import * as pl from './prefix-lists.js';
import * as rules from './rules.js';
import * as sg from './security-groups.js';
import * as tags from './tags.js';
import * as vpcAttrs from './vpc-attributes.js';
import * as vpcs from './vpcs.js';

type Out = Record<string, unknown>;
// Inputs arrive shaped and type-checked by the model-driven query parser (required members
// present, integers and booleans coerced), so each handler may type its input precisely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (ctx: ActionContext, input: any) => Promise<Out>;

export interface ActionDef {
  readonly handler: Handler;
  readonly readOnly: boolean;
}

const write = (handler: Handler): ActionDef => ({ handler, readOnly: false });
const read = (handler: Handler): ActionDef => ({ handler, readOnly: true });

export const ACTIONS: Readonly<Record<string, ActionDef>> = {
  CreateSecurityGroup: write(sg.createSecurityGroup),
  DeleteSecurityGroup: write(sg.deleteSecurityGroup),
  DescribeSecurityGroups: read(sg.describeSecurityGroups),
  AuthorizeSecurityGroupEgress: write((c, i) => rules.authorize(c, i, 'egress')),
  AuthorizeSecurityGroupIngress: write((c, i) => rules.authorize(c, i, 'ingress')),
  RevokeSecurityGroupEgress: write((c, i) => rules.revoke(c, i, 'egress')),
  RevokeSecurityGroupIngress: write((c, i) => rules.revoke(c, i, 'ingress')),
  DescribeSecurityGroupRules: read(rules.describeRules),
  ModifySecurityGroupRules: write(rules.modifyRules),
  UpdateSecurityGroupRuleDescriptionsEgress: write((c, i) => rules.updateDescriptions(c, i, 'egress')),
  UpdateSecurityGroupRuleDescriptionsIngress: write((c, i) => rules.updateDescriptions(c, i, 'ingress')),
  CreateTags: write(tags.createTags),
  DeleteTags: write(tags.deleteTags),
  DescribeTags: read(tags.describeTags),
  CreateVpc: write(vpcs.createVpc),
  DescribeVpcs: read(vpcs.describeVpcs),
  DeleteVpc: write(vpcs.deleteVpc),
  DescribeVpcAttribute: read(vpcAttrs.describeVpcAttribute),
  ModifyVpcAttribute: write(vpcAttrs.modifyVpcAttribute),
  DescribeVpcClassicLink: read(vpcAttrs.describeVpcClassicLink),
  DescribeVpcClassicLinkDnsSupport: read(vpcAttrs.describeVpcClassicLinkDnsSupport),
  CreateManagedPrefixList: write(pl.createManagedPrefixList),
  DescribeManagedPrefixLists: read(pl.describeManagedPrefixLists),
  GetManagedPrefixListEntries: read(pl.getManagedPrefixListEntries),
  ModifyManagedPrefixList: write(pl.modifyManagedPrefixList),
  DeleteManagedPrefixList: write(pl.deleteManagedPrefixList),
  DescribePrefixLists: read(pl.describePrefixLists),
};
