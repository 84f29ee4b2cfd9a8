/**
 * @module api/actions/aws-prefix-lists — AWS-managed prefix lists (`com.amazonaws.REGION.s3`
 * …) as DescribePrefixLists lists them. Weir does not invent their addresses: the operator
 * configures them (`ApiConfig.awsPrefixLists`); IDs are derived from region and name so they
 * are stable across restarts and distinct per region.
 */
import { createHash } from 'node:crypto';
import type { ActionContext } from '../context.js';

export interface AwsPrefixListDef {
  /** The service part of the name, e.g. `s3` for `com.amazonaws.us-east-1.s3`. */
  readonly service: string;
  readonly cidrs: readonly string[];
}

export interface AwsPrefixList {
  readonly prefixListId: string;
  readonly prefixListName: string;
  readonly cidrs: readonly string[];
}

export function awsPrefixLists(ctx: Pick<ActionContext, 'scope' | 'config'>): AwsPrefixList[] {
  return ctx.config.awsPrefixLists.map((d) => {
    const name = `com.amazonaws.${ctx.scope.region}.${d.service}`;
    const hex = createHash('sha256').update(name).digest('hex').slice(0, 8);
    return { prefixListId: `pl-${hex}`, prefixListName: name, cidrs: d.cidrs };
  });
}

export function awsPrefixListById(
  ctx: Pick<ActionContext, 'scope' | 'config'>,
  id: string,
): AwsPrefixList | undefined {
  return awsPrefixLists(ctx).find((p) => p.prefixListId === id);
}
