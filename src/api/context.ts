/**
 * @module api/context — what every EC2 action handler receives: the caller's scope and
 * key, the store, and the I/O (clock, random IDs) passed in so tests can replace it.
 */
import { randomBytes } from 'node:crypto';
import { Ec2Error, newResourceId } from '../model/index.js';
import type { Scope } from '../model/index.js';
import type { DeclaredAttachment } from '../policy/index.js';
import type { Store } from '../store/index.js';
import type { AccessKey } from './credentials.js';
import type { AwsPrefixListDef } from './actions/aws-prefix-lists.js';
import { AWS_REGIONS } from './regions.js';

export interface ApiConfig {
  /** Rules per security group per direction (EC2's default quota is 60). */
  readonly rulesPerGroup: number;
  /** Security groups per VPC (EC2's default quota is 2,500). */
  readonly groupsPerVpc: number;
  /** AWS-managed prefix lists offered in every region (DescribePrefixLists). */
  readonly awsPrefixLists: readonly AwsPrefixListDef[];
  /** The regions served (`weir serve --regions`); a request signed for another is refused. */
  readonly regions: readonly string[];
}

export const DEFAULT_API_CONFIG: ApiConfig = {
  rulesPerGroup: 60,
  groupsPerVpc: 2500,
  awsPrefixLists: [],
  regions: AWS_REGIONS,
};

export interface IdSource {
  /** A new resource ID such as `sg-0123456789abcdef0`. */
  next(prefix: string): string;
}

/**
 * Random bytes drawn from the CSPRNG 4 KiB at a time: one `randomBytes` call costs about as
 * much as a whole SQLite commit on this kind of VM, and every new rule needs an ID.
 */
function pooledRandomBytes(): (n: number) => Uint8Array {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return (n) => {
    if (offset + n > pool.length) {
      pool = randomBytes(Math.max(4096, n));
      offset = 0;
    }
    const out = pool.subarray(offset, offset + n);
    offset += n;
    return out;
  };
}

const idBytes = pooledRandomBytes();

export const randomIds: IdSource = { next: (prefix) => newResourceId(prefix, idBytes) };

/** What the gateway's policy set declares attached (`WorkloadRegistry` `securityGroups`), and where. */
export interface DeclaredAttachments {
  /** The namespace the gateway enforces: the declarations apply there only. */
  readonly scope: Scope;
  readonly attachments: readonly DeclaredAttachment[];
}

export interface ActionContext {
  readonly store: Store;
  readonly scope: Scope;
  readonly caller: AccessKey;
  readonly dryRun: boolean;
  readonly config: ApiConfig;
  readonly ids: IdSource;
  readonly now: () => Date;
  /** The gateway's declared attachments; `undefined` when the server runs no gateway. */
  readonly declaredAttachments: (() => DeclaredAttachments) | undefined;
}

/** The declarations in `scope` (of `groupId` when given); none without a gateway. */
export function declaredAttachmentsOf(
  source: (() => DeclaredAttachments) | undefined,
  scope: Scope,
  groupId?: string,
): readonly DeclaredAttachment[] {
  const declared = source?.();
  if (
    declared === undefined ||
    declared.scope.accountId !== scope.accountId ||
    declared.scope.region !== scope.region
  ) {
    return [];
  }
  return groupId === undefined
    ? declared.attachments
    : declared.attachments.filter((a) => a.groupId === groupId);
}

/**
 * The DryRun answer: EC2 reports a request that *would* have succeeded as an error, after
 * validating it and checking the caller's permission. Handlers call this just before writing.
 */
export function checkDryRun(ctx: ActionContext): void {
  if (ctx.dryRun)
    throw new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
}

/** The ARN EC2 gives a resource in this scope, e.g. `arn:aws:ec2:us-east-1:123456789012:security-group/sg-…`. */
export function arn(scope: Scope, resourceType: string, id: string): string {
  return `arn:aws:ec2:${scope.region}:${scope.accountId}:${resourceType}/${id}`;
}
