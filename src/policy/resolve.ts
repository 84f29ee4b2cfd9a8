/**
 * @module policy/resolve — the FQDN prefix lists of `weir policy apply` / `resolve`: resolve a
 * name, create its lists (`weir-fqdn-<name>-ipv4|ipv6`) and keep their entries equal to the
 * name's current addresses with `ModifyManagedPrefixList` under optimistic locking, growing a
 * list (`MaxEntries`) when the name has more addresses than it holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateManagedPrefixListCommand,
  DescribeManagedPrefixListsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { canonicalAddress } from '../model/index.js';
import { FQDN_FAMILIES, FQDN_LIST_MAX_ENTRIES, fqdnListName, TAG } from './plan.js';
import type { FqdnList } from './plan.js';

/**
 * Resolves a normalised host name to addresses (IPv4/IPv6 text). The gateway's resolvers
 * (`--dns-hosts`, `--dns-server`, the system resolver) have this shape; they are passed in.
 */
export type Resolve = (host: string) => Promise<readonly string[]>;

/** A name's addresses split by family, as prefix-list entries (`/32`, `/128`), sorted. */
export interface ResolvedName {
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/** A list as the endpoint holds it. */
export interface ExistingList {
  readonly id: string;
  readonly version: number;
  readonly maxEntries: number;
}

/** EC2's cap on a customer-managed prefix list's MaxEntries. */
export const PREFIX_LIST_SIZE_LIMIT = 1000;

/**
 * The MaxEntries a list of `count` addresses is grown to: the next multiple of
 * `FQDN_LIST_MAX_ENTRIES`, so a name that gains one address at a time is not resized (and its
 * groups' quota re-checked) on every pass; at most EC2's cap.
 */
export function grownSize(count: number): number {
  const step = FQDN_LIST_MAX_ENTRIES;
  return Math.min(PREFIX_LIST_SIZE_LIMIT, Math.max(step, Math.ceil(count / step) * step));
}

/** Splits addresses into sorted, de-duplicated host entries per family; non-addresses are dropped. */
export function toEntries(addresses: readonly string[]): ResolvedName {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const a of addresses) {
    const c = canonicalAddress(a);
    if (c?.family === 4) v4.add(`${c.ip}/32`);
    else if (c?.family === 6) v6.add(`${c.ip}/128`);
  }
  return { ipv4: [...v4].sort(), ipv6: [...v6].sort() };
}

/** Canonical form of a host entry the endpoint returns, so `2001:DB8::1/128` equals `2001:db8::1/128`. */
function canonicalEntry(cidr: string): string {
  const [ip, len] = cidr.split('/');
  const c = ip === undefined ? undefined : canonicalAddress(ip);
  return c === undefined ? cidr : `${c.ip}/${len ?? (c.family === 4 ? '32' : '128')}`;
}

/**
 * Resolves a name; `undefined` (with the reason) when it does not resolve — a warning, not an
 * error: the caller leaves the name's lists as they are.
 */
export async function resolveName(
  resolve: Resolve,
  name: string,
): Promise<{ entries: ResolvedName } | { error: string }> {
  try {
    const entries = toEntries(await resolve(name));
    if (entries.ipv4.length + entries.ipv6.length === 0) return { error: 'no addresses' };
    return { entries };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: code ?? (err instanceof Error ? err.message : String(err)) };
  }
}

/** The endpoint's lists with the given names (by `prefix-list-name`), name → list. */
export async function describeLists(
  client: EC2Client,
  names: readonly string[],
): Promise<Map<string, ExistingList>> {
  const out = new Map<string, ExistingList>();
  for (let i = 0; i < names.length; i += 200) {
    let token: string | undefined;
    do {
      const r = await client.send(
        new DescribeManagedPrefixListsCommand({
          Filters: [{ Name: 'prefix-list-name', Values: names.slice(i, i + 200) }],
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const l of r.PrefixLists ?? [])
        if (l.PrefixListName !== undefined && l.PrefixListId !== undefined)
          out.set(l.PrefixListName, {
            id: l.PrefixListId,
            version: l.Version ?? 1,
            maxEntries: l.MaxEntries ?? FQDN_LIST_MAX_ENTRIES,
          });
      token = r.NextToken;
    } while (token);
  }
  return out;
}

async function listEntries(client: EC2Client, id: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(
      new GetManagedPrefixListEntriesCommand({
        PrefixListId: id,
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const e of r.Entries ?? []) if (e.Cidr !== undefined) out.push(canonicalEntry(e.Cidr));
    token = r.NextToken;
  } while (token);
  return out;
}

/** Entries past MaxEntries are left out (the caller warns), keeping the sorted first ones. */
function capped(entries: readonly string[], max: number): string[] {
  return entries.slice(0, max);
}

/**
 * Creates one FQDN list with its tags and (when the name resolved) its entries; returns its ID.
 * Entries past MaxEntries are dropped.
 */
export async function createFqdnList(
  client: EC2Client,
  list: FqdnList,
  entries: ResolvedName | undefined,
): Promise<string> {
  const family = FQDN_FAMILIES.find((f) => f.suffix === list.family)!;
  const cidrs = capped(entries?.[list.family] ?? [], FQDN_LIST_MAX_ENTRIES);
  const r = await client.send(
    new CreateManagedPrefixListCommand({
      PrefixListName: list.listName,
      AddressFamily: family.addressFamily,
      MaxEntries: FQDN_LIST_MAX_ENTRIES,
      Entries: cidrs.map((Cidr) => ({ Cidr, Description: list.fqdn })),
      TagSpecifications: [
        {
          ResourceType: 'prefix-list',
          Tags: [
            { Key: TAG.fqdn, Value: list.fqdn },
            { Key: TAG.managed, Value: 'true' },
          ],
        },
      ],
    }),
  );
  return r.PrefixList!.PrefixListId!;
}

/** What syncing one list did. */
export interface SyncResult {
  readonly listName: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** The version after the change (or the current one when unchanged). */
  readonly version: number;
  /** Resolved entries left out because the list is full. */
  readonly dropped: number;
  /** The list's new MaxEntries, when it was grown to hold every address. */
  readonly resizedTo?: number;
  /** Why growing the list was refused (EC2's error), when it was; `dropped` says what that cost. */
  readonly resizeError?: string;
}

function isVersionMismatch(err: unknown): boolean {
  return err instanceof Error && err.name === 'PrefixListVersionMismatch';
}

/**
 * Makes a list's entries exactly `wanted` (capped at its MaxEntries) in one
 * `ModifyManagedPrefixList` with `CurrentVersion`. Another writer changing the list in between
 * makes EC2 refuse the call; the list is then re-read and the change recomputed, once.
 */
export async function syncList(
  client: EC2Client,
  listName: string,
  fqdn: string,
  wanted: readonly string[],
): Promise<SyncResult> {
  let resize: { resizedTo: number } | { resizeError: string } | undefined;
  for (let attempt = 0; ; attempt++) {
    let list = (await describeLists(client, [listName])).get(listName);
    if (list === undefined) {
      throw Object.assign(new Error(`prefix list ${listName} does not exist; run \`weir policy apply\``), {
        name: 'PrefixListMissing',
      });
    }
    if (wanted.length > list.maxEntries && resize === undefined) {
      resize = await growList(client, list, grownSize(wanted.length));
      if ('resizedTo' in resize) list = { ...list, maxEntries: resize.resizedTo };
    }
    const want = capped(wanted, list.maxEntries);
    const current = new Set(await listEntries(client, list.id));
    const added = want.filter((c) => !current.has(c));
    const removed = [...current].filter((c) => !want.includes(c)).sort();
    const dropped = wanted.length - want.length;
    const base = { listName, added, removed, dropped, ...resize };
    if (added.length + removed.length === 0) return { ...base, version: list.version };
    try {
      const r = await client.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: list.id,
          CurrentVersion: list.version,
          ...(added.length > 0 ? { AddEntries: added.map((Cidr) => ({ Cidr, Description: fqdn })) } : {}),
          ...(removed.length > 0 ? { RemoveEntries: removed.map((Cidr) => ({ Cidr })) } : {}),
        }),
      );
      return { ...base, version: r.PrefixList?.Version ?? list.version + 1 };
    } catch (err) {
      if (attempt === 0 && isVersionMismatch(err)) continue;
      throw err;
    }
  }
}

/**
 * Grows a list's MaxEntries (a call of its own: EC2 refuses a resize together with entry
 * changes). EC2 refuses it when a group referencing the list would exceed its rule quota
 * (each reference weighs MaxEntries rules); that is reported, not thrown, and the caller
 * keeps the addresses that fit. Other errors propagate.
 */
async function growList(
  client: EC2Client,
  list: ExistingList,
  size: number,
): Promise<{ resizedTo: number } | { resizeError: string }> {
  if (size <= list.maxEntries) return { resizeError: `MaxEntries is already at most ${size}` };
  try {
    const r = await client.send(
      new ModifyManagedPrefixListCommand({ PrefixListId: list.id, MaxEntries: size }),
    );
    // EC2 resizes asynchronously (`modify-in-progress`, then `modify-complete` or
    // `modify-failed` with the resources that cannot take the size); Weir answers at once.
    let pl = r.PrefixList;
    for (let poll = 0; pl?.State === 'modify-in-progress' && poll < RESIZE_POLLS; poll++) {
      await sleep(RESIZE_POLL_MS);
      pl = (await client.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [list.id] })))
        .PrefixLists?.[0];
    }
    if (pl?.State === 'modify-failed') return { resizeError: pl.StateMessage ?? 'modify-failed' };
    if (pl?.State === 'modify-in-progress')
      return { resizeError: `still resizing after ${(RESIZE_POLLS * RESIZE_POLL_MS) / 1000} s` };
    return { resizedTo: pl?.MaxEntries ?? size };
  } catch (err) {
    if (err instanceof Error && RESIZE_REFUSALS.has(err.name))
      return { resizeError: `${err.name}: ${err.message}` };
    throw err;
  }
}

/** How often, and how many times, an asynchronous resize is polled for its outcome. */
const RESIZE_POLL_MS = 200;
const RESIZE_POLLS = 50;

/** EC2 errors that mean "this list cannot grow that far now", as opposed to a failed call. */
const RESIZE_REFUSALS = new Set(['RulesPerSecurityGroupLimitExceeded', 'PrefixListMaxEntriesExceeded']);

/** What `resolveNames` reports per name, in order. */
export type NameOutcome =
  | { readonly fqdn: string; readonly kind: 'synced'; readonly results: readonly SyncResult[] }
  | { readonly fqdn: string; readonly kind: 'unresolved'; readonly error: string }
  | { readonly fqdn: string; readonly kind: 'failed'; readonly listName: string; readonly error: unknown };

/**
 * Resolves each name and syncs its two lists. A name that does not resolve keeps its lists as
 * they are — a DNS outage must not cut traffic to addresses that were right a minute ago — and
 * an EC2 error on one list does not stop the others.
 */
export async function resolveNames(
  client: EC2Client,
  names: readonly string[],
  resolve: Resolve,
): Promise<NameOutcome[]> {
  const out: NameOutcome[] = [];
  for (const fqdn of names) {
    const r = await resolveName(resolve, fqdn);
    if ('error' in r) {
      out.push({ fqdn, kind: 'unresolved', error: r.error });
      continue;
    }
    const results: SyncResult[] = [];
    let failed = false;
    for (const { suffix } of FQDN_FAMILIES) {
      const listName = fqdnListName(fqdn, suffix);
      try {
        results.push(await syncList(client, listName, fqdn, r.entries[suffix]));
      } catch (err) {
        out.push({ fqdn, kind: 'failed', listName, error: err });
        failed = true;
      }
    }
    if (!failed || results.length > 0) out.push({ fqdn, kind: 'synced', results });
  }
  return out;
}

/** `weir-fqdn-api.example.com-ipv4: +192.0.2.1/32 -192.0.2.9/32 (version 3, resized to 16 entries)`. */
export function formatSync(r: SyncResult): string {
  const parts = [...r.added.map((c) => `+${c}`), ...r.removed.map((c) => `-${c}`)];
  const resized = r.resizedTo !== undefined ? `, resized to ${r.resizedTo} entries` : '';
  return `${r.listName}: ${parts.join(' ')} (version ${r.version}${resized})`;
}
