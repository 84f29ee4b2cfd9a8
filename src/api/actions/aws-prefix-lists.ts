/**
 * @module api/actions/aws-prefix-lists — AWS-managed prefix lists (`com.amazonaws.REGION.s3`
 * …): a built-in, read-only view computed per request, never rows in the store (a read must
 * create nothing). Every region has the lists EC2 lists in every account; Weir does not
 * invent their addresses: a list holds the CIDRs the operator configures for its service
 * (`ApiConfig.awsPrefixLists`), else none, so a rule naming it allows nothing until then. IDs
 * are derived from the name, so they are stable across restarts and distinct per region.
 */
import { createHash } from 'node:crypto';
import { Ec2Error } from '../../model/index.js';
import type { ManagedPrefixList } from '../../model/index.js';
import type { ActionContext } from '../context.js';

export interface AwsPrefixListDef {
  /** The service part of the name, e.g. `s3` for `com.amazonaws.us-east-1.s3`. */
  readonly service: string;
  readonly cidrs: readonly string[];
}

export interface AwsPrefixList {
  readonly prefixListId: string;
  readonly prefixListName: string;
  readonly addressFamily: 'IPv4' | 'IPv6';
  readonly cidrs: readonly string[];
  /** Listed by DescribePrefixLists too: the services of gateway VPC endpoints. */
  readonly gatewayEndpoint: boolean;
}

interface CatalogEntry {
  /** `REGION` stands for the scope's region. */
  readonly name: string;
  readonly family: 'IPv4' | 'IPv6';
  readonly gatewayEndpoint?: boolean;
}

/**
 * The AWS-managed lists EC2 shows every account (DescribeManagedPrefixLists, owner `AWS`).
 * DescribePrefixLists shows only the gateway-endpoint services, S3 and DynamoDB.
 */
const CATALOG: readonly CatalogEntry[] = [
  { name: 'com.amazonaws.REGION.s3', family: 'IPv4', gatewayEndpoint: true },
  { name: 'com.amazonaws.REGION.dynamodb', family: 'IPv4', gatewayEndpoint: true },
  { name: 'com.amazonaws.global.cloudfront.origin-facing', family: 'IPv4' },
  { name: 'com.amazonaws.REGION.ec2-instance-connect', family: 'IPv4' },
  { name: 'com.amazonaws.REGION.ipv6.ec2-instance-connect', family: 'IPv6' },
  { name: 'com.amazonaws.REGION.route53-healthchecks', family: 'IPv4' },
  { name: 'com.amazonaws.REGION.ipv6.route53-healthchecks', family: 'IPv6' },
  { name: 'com.amazonaws.REGION.vpc-lattice', family: 'IPv4' },
  { name: 'com.amazonaws.REGION.ipv6.vpc-lattice', family: 'IPv6' },
];

const idOf = (name: string): string => `pl-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;

/** The scope's AWS-managed lists: the catalog, plus any other service the operator configures. */
export function awsPrefixLists(ctx: Pick<ActionContext, 'scope' | 'config'>): AwsPrefixList[] {
  const region = ctx.scope.region;
  const serviceOf = (name: string): string => name.replace(`com.amazonaws.${region}.`, '');
  const configured = new Map(ctx.config.awsPrefixLists.map((d) => [d.service, d.cidrs]));
  const out: AwsPrefixList[] = CATALOG.map((c) => {
    const name = c.name.replace('REGION', region);
    return {
      prefixListId: idOf(name),
      prefixListName: name,
      addressFamily: c.family,
      cidrs: configured.get(serviceOf(name)) ?? [],
      gatewayEndpoint: c.gatewayEndpoint === true,
    };
  });
  for (const d of ctx.config.awsPrefixLists) {
    const name = `com.amazonaws.${region}.${d.service}`;
    if (out.some((p) => p.prefixListName === name)) continue;
    // Listed by DescribePrefixLists as every configured list always was.
    out.push({
      prefixListId: idOf(name),
      prefixListName: name,
      addressFamily: 'IPv4',
      cidrs: d.cidrs,
      gatewayEndpoint: true,
    });
  }
  return out;
}

export function awsPrefixListById(
  ctx: Pick<ActionContext, 'scope' | 'config'>,
  id: string,
): AwsPrefixList | undefined {
  return awsPrefixLists(ctx).find((p) => p.prefixListId === id);
}

/** An AWS-managed list in DescribeManagedPrefixLists' form, owned by `AWS`. */
export function asManagedPrefixList(p: AwsPrefixList): ManagedPrefixList {
  return {
    prefixListId: p.prefixListId,
    prefixListName: p.prefixListName,
    addressFamily: p.addressFamily,
    maxEntries: p.cidrs.length,
    version: 1,
    state: 'create-complete',
    ownerId: 'AWS',
    tags: [],
  };
}

/**
 * Refuses a write to an AWS-managed list: they belong to AWS, and one changed here would
 * change what every rule naming it allows.
 */
export function refuseAwsManagedWrite(
  ctx: Pick<ActionContext, 'scope' | 'config'>,
  id: string,
  verb: 'modified' | 'deleted',
): void {
  const aws = awsPrefixListById(ctx, id);
  if (aws) {
    throw new Ec2Error(
      'UnsupportedOperation',
      `The prefix list ${id} (${aws.prefixListName}) is managed by AWS and cannot be ${verb}.`,
    );
  }
}
