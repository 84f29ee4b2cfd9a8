/**
 * @module api/actions/prefix-lists — customer-managed prefix lists with versioned entries,
 * and the AWS-managed lists of DescribePrefixLists.
 */
import {
  Ec2Error,
  assertPrefixListId,
  parseTagSpecifications,
  validatePrefixListEntryCidr,
  validateRuleDescription,
} from '../../model/index.js';
import type { ManagedPrefixList, PrefixListEntry, TagSpecificationInput } from '../../model/index.js';
import type { StoreTx } from '../../store/index.js';
import { checkDryRun } from '../context.js';
import type { ActionContext } from '../context.js';
import { applyFilters } from '../filters.js';
import type { FilterInput } from '../filters.js';
import { paginate } from '../paging.js';
import { renderPrefixList } from '../render.js';
import {
  asManagedPrefixList,
  awsPrefixListById,
  awsPrefixLists,
  refuseAwsManagedWrite,
} from './aws-prefix-lists.js';

type Out = Record<string, unknown>;

/** EC2 caps a customer-managed prefix list at 1,000 entries. */
const MAX_ENTRIES_LIMIT = 1000;

interface EntryInput {
  readonly Cidr?: string;
  readonly Description?: string;
}

function validateName(name: string): string {
  if (name.length < 1 || name.length > 255) {
    throw new Ec2Error('InvalidParameterValue', 'PrefixListName must be 1 to 255 characters long.');
  }
  // The com.amazonaws prefix is reserved for AWS-managed lists.
  if (name.toLowerCase().startsWith('com.amazonaws')) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `PrefixListName '${name}' may not begin with 'com.amazonaws'.`,
    );
  }
  return name;
}

function validateMaxEntries(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_ENTRIES_LIMIT) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${n}) for parameter MaxEntries is invalid. MaxEntries must be between 1 and ${MAX_ENTRIES_LIMIT}.`,
    );
  }
  return n;
}

function validateEntries(
  entries: readonly EntryInput[],
  family: 'IPv4' | 'IPv6',
  param: string,
): PrefixListEntry[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const p = `${param}.${i + 1}`;
    if (e.Cidr === undefined)
      throw new Ec2Error('MissingParameter', `The request must contain the parameter ${p}.Cidr`);
    const cidr = validatePrefixListEntryCidr(e.Cidr, family, `${p}.Cidr`);
    if (seen.has(cidr)) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `The CIDR ${cidr} is specified more than once (${p}.Cidr).`,
      );
    }
    seen.add(cidr);
    const description =
      e.Description !== undefined ? validateRuleDescription(e.Description, `${p}.Description`) : undefined;
    return { cidr, ...(description !== undefined ? { description } : {}) };
  });
}

async function getListOrThrow(tx: StoreTx, ctx: ActionContext, id: string): Promise<ManagedPrefixList> {
  assertPrefixListId(id);
  const pl = await tx.getPrefixList(ctx.scope, id);
  if (!pl) throw new Ec2Error('InvalidPrefixListID.NotFound', `The prefix list ID '${id}' does not exist`);
  return pl;
}

export async function createManagedPrefixList(
  ctx: ActionContext,
  input: {
    PrefixListName: string;
    Entries?: readonly EntryInput[];
    MaxEntries: number;
    AddressFamily: string;
    TagSpecifications?: readonly TagSpecificationInput[];
  },
): Promise<Out> {
  const name = validateName(input.PrefixListName);
  const family = input.AddressFamily;
  if (family !== 'IPv4' && family !== 'IPv6') {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${family}) for parameter AddressFamily is invalid. Valid values: IPv4, IPv6.`,
    );
  }
  const maxEntries = validateMaxEntries(input.MaxEntries);
  const entries = validateEntries(input.Entries ?? [], family, 'Entry');
  if (entries.length > maxEntries) {
    throw new Ec2Error(
      'PrefixListMaxEntriesExceeded',
      `The prefix list has ${entries.length} entries, more than its MaxEntries (${maxEntries}).`,
    );
  }
  const tags = parseTagSpecifications(input.TagSpecifications, 'prefix-list');
  const list: ManagedPrefixList = {
    prefixListId: ctx.ids.next('pl'),
    prefixListName: name,
    addressFamily: family,
    maxEntries,
    version: 1,
    state: 'create-complete',
    ownerId: ctx.scope.accountId,
    tags,
  };
  return ctx.store.transaction(ctx.scope, async (tx) => {
    checkDryRun(ctx);
    await tx.insertPrefixList(ctx.scope, list, entries);
    return { PrefixList: renderPrefixList(ctx.scope, list) };
  });
}

export async function describeManagedPrefixLists(
  ctx: ActionContext,
  input: {
    PrefixListIds?: readonly string[];
    Filters?: readonly FilterInput[];
    MaxResults?: number;
    NextToken?: string;
  },
): Promise<Out> {
  input.PrefixListIds?.forEach((id) => assertPrefixListId(id));
  const own = await ctx.store.transaction(ctx.scope, (tx) => tx.listPrefixLists(ctx.scope), {
    readOnly: true,
  });
  // AWS-managed lists appear here too, owned by AWS, as in EC2.
  const managed = awsPrefixLists(ctx).map(asManagedPrefixList);
  let lists = [...own, ...managed];
  if (input.PrefixListIds) {
    const want = input.PrefixListIds;
    const missing = want.find((id) => !lists.some((l) => l.prefixListId === id));
    if (missing)
      throw new Ec2Error('InvalidPrefixListID.NotFound', `The prefix list ID '${missing}' does not exist`);
    lists = lists.filter((l) => want.includes(l.prefixListId));
  }
  const filtered = applyFilters(
    lists,
    input.Filters,
    {
      'owner-id': (l) => [l.ownerId],
      'prefix-list-id': (l) => [l.prefixListId],
      'prefix-list-name': (l) => [l.prefixListName],
    },
    (l) => l.tags,
  );
  checkDryRun(ctx);
  const { page, nextToken } = paginate('DescribeManagedPrefixLists', filtered, input, { min: 1, max: 100 });
  return {
    PrefixLists: page.map((l) => renderPrefixList(ctx.scope, l)),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

export async function getManagedPrefixListEntries(
  ctx: ActionContext,
  input: { PrefixListId: string; TargetVersion?: number; MaxResults?: number; NextToken?: string },
): Promise<Out> {
  const aws = awsPrefixLists(ctx).find((p) => p.prefixListId === input.PrefixListId);
  let entries: PrefixListEntry[];
  if (aws) {
    entries = aws.cidrs.map((cidr) => ({ cidr }));
  } else {
    entries = await ctx.store.transaction(
      ctx.scope,
      async (tx) => {
        const pl = await getListOrThrow(tx, ctx, input.PrefixListId);
        const v = input.TargetVersion;
        if (v !== undefined && (v < 1 || v > pl.version)) {
          throw new Ec2Error(
            'InvalidParameterValue',
            `The prefix list ${pl.prefixListId} has no version ${v} (current version ${pl.version}).`,
          );
        }
        return tx.getPrefixListEntries(ctx.scope, pl.prefixListId, v);
      },
      { readOnly: true },
    );
  }
  checkDryRun(ctx);
  const { page, nextToken } = paginate('GetManagedPrefixListEntries', entries, input, { min: 1, max: 100 });
  return {
    Entries: page.map((e) => ({
      Cidr: e.cidr,
      ...(e.description !== undefined ? { Description: e.description } : {}),
    })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}

export async function modifyManagedPrefixList(
  ctx: ActionContext,
  input: {
    PrefixListId: string;
    CurrentVersion?: number;
    PrefixListName?: string;
    AddEntries?: readonly EntryInput[];
    RemoveEntries?: readonly EntryInput[];
    MaxEntries?: number;
  },
): Promise<Out> {
  const name = input.PrefixListName !== undefined ? validateName(input.PrefixListName) : undefined;
  const maxEntries = input.MaxEntries !== undefined ? validateMaxEntries(input.MaxEntries) : undefined;
  const changesEntries = (input.AddEntries?.length ?? 0) + (input.RemoveEntries?.length ?? 0) > 0;
  if (maxEntries !== undefined && changesEntries) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'You cannot resize a prefix list (MaxEntries) and modify its entries in the same request.',
    );
  }
  refuseAwsManagedWrite(ctx, input.PrefixListId, 'modified');
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const pl = await getListOrThrow(tx, ctx, input.PrefixListId);
    // CurrentVersion is optimistic locking: a writer holding a stale view is refused.
    if (input.CurrentVersion !== undefined && input.CurrentVersion !== pl.version) {
      throw new Ec2Error(
        'PrefixListVersionMismatch',
        `The prefix list ${pl.prefixListId} is at version ${pl.version}, not ${input.CurrentVersion}.`,
      );
    }
    const current = await tx.getPrefixListEntries(ctx.scope, pl.prefixListId);
    const add = validateEntries(input.AddEntries ?? [], pl.addressFamily, 'AddEntry');
    const remove = (input.RemoveEntries ?? []).map((e, i) => {
      const p = `RemoveEntry.${i + 1}.Cidr`;
      if (e.Cidr === undefined)
        throw new Ec2Error('MissingParameter', `The request must contain the parameter ${p}`);
      const cidr = validatePrefixListEntryCidr(e.Cidr, pl.addressFamily, p);
      if (!current.some((c) => c.cidr === cidr)) {
        throw new Ec2Error(
          'InvalidPrefixListModification',
          `The CIDR ${cidr} (${p}) is not an entry of prefix list ${pl.prefixListId}.`,
        );
      }
      return cidr;
    });
    if (add.some((a) => remove.includes(a.cidr))) {
      throw new Ec2Error(
        'InvalidPrefixListModification',
        'A CIDR cannot be both added and removed in one request.',
      );
    }
    const live = new Set(current.map((c) => c.cidr));
    remove.forEach((c) => live.delete(c));
    add.forEach((a) => live.add(a.cidr));
    const limit = maxEntries ?? pl.maxEntries;
    if (live.size > limit) {
      throw new Ec2Error(
        'PrefixListMaxEntriesExceeded',
        `The prefix list ${pl.prefixListId} would hold ${live.size} entries, more than its MaxEntries (${limit}).`,
      );
    }
    if (
      maxEntries !== undefined &&
      maxEntries > pl.maxEntries &&
      (await tx.countReferences(ctx.scope, { prefixListId: pl.prefixListId })) > 0
    ) {
      const blocked = await groupsOverQuota(ctx, tx, pl, maxEntries);
      if (blocked.length > 0) {
        // EC2 fails such a resize and names the first ten resources that cannot take the new
        // size; Weir resizes synchronously, so it refuses the call with the same list.
        throw new Ec2Error(
          'RulesPerSecurityGroupLimitExceeded',
          `The prefix list ${pl.prefixListId} cannot be resized to ${maxEntries} entries: these security groups reference it and would exceed the quota of ${ctx.config.rulesPerGroup} rules: ${blocked.slice(0, 10).join(', ')}.`,
        );
      }
    }
    checkDryRun(ctx);
    const next: ManagedPrefixList = {
      ...pl,
      ...(name !== undefined ? { prefixListName: name } : {}),
      ...(maxEntries !== undefined ? { maxEntries } : {}),
      version: changesEntries ? pl.version + 1 : pl.version,
      state: 'modify-complete',
    };
    await tx.updatePrefixList(ctx.scope, next, changesEntries ? { add, remove } : undefined);
    return { PrefixList: renderPrefixList(ctx.scope, next) };
  });
}

/**
 * The groups (and directions) that could not take `pl` at `size` entries: a rule naming a
 * prefix list weighs its MaxEntries against the rules-per-group quota, so growing the list
 * grows every referencing group's count by the growth times its references.
 */
async function groupsOverQuota(
  ctx: ActionContext,
  tx: StoreTx,
  pl: ManagedPrefixList,
  size: number,
): Promise<string[]> {
  const weight = async (id: string): Promise<number> => {
    if (id === pl.prefixListId) return pl.maxEntries;
    const own = await tx.getPrefixList(ctx.scope, id);
    return Math.max(1, own?.maxEntries ?? awsPrefixListById(ctx, id)?.cidrs.length ?? 1);
  };
  const out: string[] = [];
  for (const g of await tx.listGroups(ctx.scope)) {
    for (const direction of ['ingress', 'egress'] as const) {
      const refs = await tx.prefixListRefs(ctx.scope, g.groupId, direction);
      const mine = refs.filter((id) => id === pl.prefixListId).length;
      if (mine === 0) continue;
      let used = await tx.countRules(ctx.scope, g.groupId, direction);
      for (const id of refs) used += (await weight(id)) - 1;
      if (used + mine * (size - pl.maxEntries) > ctx.config.rulesPerGroup) {
        if (!out.includes(g.groupId)) out.push(g.groupId);
        break;
      }
    }
  }
  return out;
}

export async function deleteManagedPrefixList(
  ctx: ActionContext,
  input: { PrefixListId: string },
): Promise<Out> {
  refuseAwsManagedWrite(ctx, input.PrefixListId, 'deleted');
  return ctx.store.transaction(ctx.scope, async (tx) => {
    const pl = await getListOrThrow(tx, ctx, input.PrefixListId);
    if ((await tx.countReferences(ctx.scope, { prefixListId: pl.prefixListId })) > 0) {
      throw new Ec2Error(
        'DependencyViolation',
        `The prefix list ${pl.prefixListId} is referenced by a security group rule and cannot be deleted.`,
      );
    }
    checkDryRun(ctx);
    await tx.deletePrefixList(ctx.scope, pl.prefixListId);
    return { PrefixList: renderPrefixList(ctx.scope, { ...pl, state: 'delete-complete' }) };
  });
}

export async function describePrefixLists(
  ctx: ActionContext,
  input: {
    PrefixListIds?: readonly string[];
    Filters?: readonly FilterInput[];
    MaxResults?: number;
    NextToken?: string;
  },
): Promise<Out> {
  input.PrefixListIds?.forEach((id) => assertPrefixListId(id));
  let lists = awsPrefixLists(ctx).filter((l) => l.gatewayEndpoint);
  if (input.PrefixListIds) {
    const want = input.PrefixListIds;
    const missing = want.find((id) => !lists.some((l) => l.prefixListId === id));
    if (missing)
      throw new Ec2Error('InvalidPrefixListID.NotFound', `The prefix list ID '${missing}' does not exist`);
    lists = lists.filter((l) => want.includes(l.prefixListId));
  }
  const filtered = applyFilters(lists, input.Filters, {
    'prefix-list-id': (l) => [l.prefixListId],
    'prefix-list-name': (l) => [l.prefixListName],
  });
  checkDryRun(ctx);
  const { page, nextToken } = paginate('DescribePrefixLists', filtered, input, { min: 5, max: 1000 });
  return {
    PrefixLists: page.map((l) => ({
      Cidrs: [...l.cidrs],
      PrefixListId: l.prefixListId,
      PrefixListName: l.prefixListName,
    })),
    ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
  };
}
