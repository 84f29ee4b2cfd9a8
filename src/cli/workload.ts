/**
 * @module cli/workload — `weir workload attach|detach|list`: security groups attached to workload
 * identities, through the Weir API (endpoint, credentials and region found as `weir ec2` finds
 * them; with no configuration, the local `weir serve` of ./weir-data or WEIR_DATA_DIR).
 */
import type { Command } from 'commander';
import { WeirError } from '../model/index.js';
import { apiOptions, callWeirApi, resolveApiTarget } from './weir-api-client.js';
import type { ApiFlags, WeirApiTarget } from './weir-api-client.js';
import { renderTable } from './table.js';

type Write = (s: string) => void;

/**
 * One attachment as the API returns it: made through the API (`createdAt`), or declared by the
 * gateway's policy set (`source: policy`, `declaredIn` the registry entry's file:line:col).
 */
interface Attachment {
  readonly identity: string;
  readonly groupId: string;
  readonly source?: 'api' | 'policy';
  readonly createdAt?: string;
  readonly declaredIn?: string;
  /** Declared, but no such group in this account and region: it grants nothing. */
  readonly groupMissing?: boolean;
}

/**
 * `api`, or `policy` with where it is declared, for text and table output; a declaration of a
 * group that does not exist says so.
 */
const sourceText = (a: Attachment): string =>
  a.source === 'policy'
    ? `policy${a.declaredIn !== undefined ? ` ${a.declaredIn}` : ''}${a.groupMissing === true ? ' (no such group)' : ''}`
    : 'api';

export interface AttachFlags extends ApiFlags {
  identity: string;
  group: string;
}

export interface ListFlags extends ApiFlags {
  identity?: string;
  group?: string;
  output: string;
}

const OUTPUTS = ['text', 'json', 'table'] as const;

/** Attaches (or with `detach`, detaches) one group to one identity and says what happened. */
export async function runWorkloadChange(
  action: 'attach' | 'detach',
  flags: AttachFlags,
  write: Write,
  target: WeirApiTarget = resolveApiTarget(flags),
): Promise<number> {
  const out = await callWeirApi(target, {
    method: 'POST',
    resource: `workloads/${action}`,
    json: { identity: flags.identity, groupId: flags.group },
  });
  if (action === 'detach') write(`detached ${flags.group} from ${flags.identity}\n`);
  else if (out.created === false) write(`${flags.group} was already attached to ${flags.identity}\n`);
  else write(`attached ${flags.group} to ${flags.identity}\n`);
  return 0;
}

/** Lists attachments in `--output` form. */
export async function runWorkloadList(
  flags: ListFlags,
  write: Write,
  target?: WeirApiTarget,
): Promise<number> {
  if (!(OUTPUTS as readonly string[]).includes(flags.output)) {
    throw new WeirError(
      'InvalidArgument',
      `--output must be one of ${OUTPUTS.join(', ')} (got '${flags.output}')`,
    );
  }
  const query: Record<string, string> = {};
  if (flags.identity !== undefined) query.identity = flags.identity;
  if (flags.group !== undefined) query.groupId = flags.group;
  const out = await callWeirApi(target ?? resolveApiTarget(flags), {
    method: 'GET',
    resource: 'workloads',
    query,
  });
  const list = (out.attachments ?? []) as Attachment[];
  if (flags.output === 'json') {
    const json = list.map((a) => ({
      Identity: a.identity,
      GroupId: a.groupId,
      Source: a.source ?? 'api',
      ...(a.createdAt !== undefined ? { CreatedAt: a.createdAt } : {}),
      ...(a.declaredIn !== undefined ? { DeclaredIn: a.declaredIn } : {}),
      ...(a.groupMissing === true ? { GroupMissing: true } : {}),
    }));
    write(`${JSON.stringify({ Attachments: json }, null, 4)}\n`);
  } else if (flags.output === 'text') {
    // One tab-separated line per attachment, as `aws --output text` prints a list.
    for (const a of list) {
      write(`ATTACHMENTS\t${a.createdAt ?? '-'}\t${a.groupId}\t${a.identity}\t${sourceText(a)}\n`);
    }
  } else {
    write(
      table(
        ['Identity', 'GroupId', 'CreatedAt', 'Source'],
        list.map((a) => [a.identity, a.groupId, a.createdAt ?? '-', sourceText(a)]),
      ),
    );
  }
  return 0;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return renderTable(header, rows, { rule: true, empty: '(no attachments)' });
}

/** Registers `weir workload` on the `weir` program. */
export function registerWorkloadCommands(program: Command): void {
  const workload = program
    .command('workload')
    .description(
      'Security groups attached to workload identities (the gateway enforces their egress rules).',
    );
  for (const action of ['attach', 'detach'] as const) {
    apiOptions(
      workload
        .command(action)
        .description(
          action === 'attach'
            ? 'Attach a security group to a workload identity (attaching again changes nothing).'
            : 'Detach a security group from a workload identity.',
        )
        .requiredOption('--identity <id>', 'the workload identity (SPIFFE ID or service account)')
        .requiredOption('--group <sg-id>', 'the security group ID (sg-…) in the namespace'),
    ).action(async (flags: AttachFlags) => {
      process.exitCode = await runWorkloadChange(action, flags, (s) => process.stdout.write(s));
    });
  }
  apiOptions(
    workload
      .command('list')
      .description(
        "List attachments of the namespace, optionally of one identity or group: those made through the API and those the gateway's policy set declares (WorkloadRegistry securityGroups).",
      )
      .option('--identity <id>', 'only this workload identity')
      .option('--group <sg-id>', 'only this security group')
      .option('--output <format>', `output format: ${OUTPUTS.join(' | ')}`, 'table'),
  ).action(async (flags: ListFlags) => {
    process.exitCode = await runWorkloadList(flags, (s) => process.stdout.write(s));
  });
}
