/**
 * @module policy/schema — the YAML format of policy files as zod schemas: the structural check
 * the loader runs (strict objects, so a misspelt key is an error, not a silently ignored rule)
 * and the source of the published JSON Schema that editors complete from. Value checks that
 * need a precise message (CIDRs, ports, wildcards, dates) are the normaliser's, not the schema's.
 */
import * as z from 'zod';
import { DECISION_REASONS } from '../policy-types/index.js';

/** The only `apiVersion` this loader reads. */
export const API_VERSION = 'weir.dev/v1';

/** The document kinds a policy set may hold. */
export const DOCUMENT_KINDS = ['EgressPolicy', 'WorkloadRegistry', 'EgressPolicyTest'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** Protocol spellings a rule may use (besides a protocol number 0–255). */
export const PROTOCOL_NAMES = ['tcp', 'udp', 'icmp', 'icmpv6', 'all', '-1'] as const;

/** Decision reasons a test may expect: every one the engine gives (`DECISION_REASONS`). */
export const TEST_REASONS = DECISION_REASONS;

const NAME_MESSAGE =
  'must be lower-case letters, digits, ".", "_" or "-", start and end with a letter or digit, at most 128 characters';
const name = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9._-]{0,126}[a-z0-9])?$/, { error: NAME_MESSAGE })
  .meta({ description: 'Lower-case name, unique in the set.' });

const RULE_ID_MESSAGE =
  'must be letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64 characters';
const ruleId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: RULE_ID_MESSAGE })
  .meta({ description: 'Rule ID, unique within its policy; travels to the security-group rule as a tag.' });

const labels = z
  .record(z.string(), z.string())
  .meta({ description: 'Labels such as env, team, dataClass (string values; quote numbers).' });

const nonEmpty = z.string().min(1, { error: 'must not be empty' });

/** Time as `YYYY-MM-DD` or an ISO 8601 timestamp with zone. */
const time = z.string().meta({
  pattern:
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$',
});

/** `metadata` of every document kind. */
export const metadataSchema = z
  .strictObject({
    name,
    owner: nonEmpty
      .optional()
      .meta({ description: 'Team or person answerable for the rules; inherited by them.' }),
    description: z.string().optional(),
    labels: labels.optional(),
  })
  .meta({ id: 'Metadata', description: 'Name, owner and labels of the document.' });

/** One `spec.workloads` entry of a policy: which workloads it applies to. */
export const selectorSchema = z
  .strictObject({
    identity: nonEmpty.optional().meta({
      description:
        'Exact SPIFFE ID / service-account string, or a glob: `*` one path segment, `**` any number.',
    }),
    labels: labels
      .optional()
      .meta({ description: 'Every label must equal the registry label of the workload.' }),
  })
  .refine((s) => s.identity !== undefined || s.labels !== undefined, {
    error: 'needs an identity, labels, or both',
  })
  .meta({
    id: 'WorkloadSelector',
    minProperties: 1,
    description:
      'Which workloads: identity (e.g. spiffe://prod.example/ns/payments/sa/checkout, or a glob), labels (e.g. { team: payments }), or both.',
  });

/** One destination: exactly one of `fqdn`, `cidr`, `prefixList`, `group`. */
export const destinationSchema = z
  .strictObject({
    fqdn: nonEmpty.optional().meta({
      description: 'Host name; `*.` as the leftmost label matches one label, `**.` any depth.',
    }),
    cidr: nonEmpty.optional().meta({ description: 'IPv4 or IPv6 CIDR block, e.g. 10.20.0.0/16.' }),
    prefixList: nonEmpty.optional().meta({ description: 'Managed prefix-list ID (pl-…) or name.' }),
    group: nonEmpty.optional().meta({ description: 'Security-group ID (sg-…) or name.' }),
  })
  .refine((d) => Object.keys(d).length === 1, {
    error: 'must have exactly one of fqdn, cidr, prefixList, group (one list item per destination)',
  })
  .meta({
    id: 'Destination',
    minProperties: 1,
    maxProperties: 1,
    description:
      'One destination per list item: fqdn (api.example.com), cidr (10.20.0.0/16), prefixList (pl-… or name) or group (sg-… or name).',
  });

/** A port (`443`) or an inclusive range (`"8000-8100"`). */
export const portSchema = z.union(
  [z.int().meta({ minimum: 0, maximum: 65535 }), z.string().meta({ pattern: '^[0-9]{1,5}(-[0-9]{1,5})?$' })],
  { error: 'a port is a number (443) or a range in quotes ("8000-8100")' },
);

/** `tcp` `udp` `icmp` `icmpv6` `all` `-1` or a protocol number. */
export const protocolSchema = z
  .union([z.string().meta({ enum: [...PROTOCOL_NAMES] }), z.int().meta({ minimum: -1, maximum: 255 })], {
    error: 'a protocol is tcp, udp, icmp, icmpv6, all, -1 or a number 0-255',
  })
  .meta({ description: 'Default tcp. `all` / `-1` allows every protocol and port.', default: 'tcp' });

/** One rule of a policy. */
export const ruleSchema = z
  .strictObject({
    id: ruleId,
    to: z
      .array(destinationSchema)
      .min(1, { error: 'must list at least one destination' })
      .meta({ description: 'Destinations: [{fqdn}, {cidr}, {prefixList}, {group}].' }),
    ports: z.array(portSchema).optional().meta({ description: 'Ports and ranges; omitted means all ports.' }),
    protocol: protocolSchema.optional(),
    justification: nonEmpty.optional().meta({ description: 'Why this workload needs this destination.' }),
    dataClass: nonEmpty
      .optional()
      .meta({ description: 'The data class this destination is approved for (pci, pii, …).' }),
    owner: nonEmpty.optional().meta({ description: 'Overrides metadata.owner for this rule.' }),
    expires: time.optional().meta({
      description: 'YYYY-MM-DD (through the end of that day, UTC) or an ISO 8601 timestamp with zone.',
    }),
  })
  .meta({ id: 'Rule' });

/** One test case: a request and the decision expected for it. */
export const testCaseSchema = z
  .strictObject({
    from: nonEmpty.meta({ description: 'The workload identity making the request.' }),
    to: nonEmpty.meta({ description: 'host[:port][/proto] or ip[:port][/proto]; IPv6 in brackets.' }),
    expect: z.enum(['allow', 'deny']),
    rule: z
      .string()
      .optional()
      .meta({ description: 'The rule ID expected to match (allow) or be nearest (deny).' }),
    reason: z.enum(TEST_REASONS).optional().meta({ description: 'The decision reason expected.' }),
    at: time
      .optional()
      .meta({ description: 'Evaluation time (YYYY-MM-DD is the start of that day, UTC); default now.' }),
  })
  .meta({ id: 'TestCase' });

/** A duration: a whole number and a unit s, m, h or d (`72h`). */
const duration = z.string().meta({ pattern: '^[1-9][0-9]{0,9}(s|m|h|d)$' });

/** `spec.exceptions`: who approves exceptions for the policy's workloads, and for how long at most. */
export const exceptionSettingsSchema = z
  .strictObject({
    approvers: z.array(nonEmpty).optional().meta({
      description:
        'Principals (weir_principal of a key with role approver or admin) who may approve exceptions for these workloads; omitted: any approver.',
    }),
    maxTtl: duration.optional().meta({
      description: 'The longest exception these workloads may get, e.g. 72h (at most 7d, the default).',
    }),
  })
  .meta({ id: 'ExceptionSettings' });

/** `kind: EgressPolicy`. */
export const egressPolicySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('EgressPolicy'),
  metadata: metadataSchema,
  spec: z.strictObject({
    mode: z.enum(['enforce', 'report']).optional().meta({
      description: 'enforce (default) or report: log would-deny decisions and allow.',
      default: 'enforce',
    }),
    workloads: z.array(selectorSchema).meta({ description: 'The workloads this policy applies to.' }),
    rules: z.array(ruleSchema),
    tests: z.array(testCaseSchema).optional(),
    exceptions: exceptionSettingsSchema.optional(),
  }),
});

/** A security-group ID; the normaliser gives the precise error, the pattern is for editors. */
const securityGroupId = z.string().meta({ pattern: '^sg-([0-9a-f]{8}|[0-9a-f]{17})$' });

/** One registry entry: an exact identity, its labels and the groups declared attached to it. */
export const registryWorkloadSchema = z.strictObject({
  identity: nonEmpty.meta({ description: 'Exact workload identity (no wildcards).' }),
  labels: labels.optional(),
  securityGroups: z.array(securityGroupId).optional().meta({
    description:
      'Security-group IDs (sg-…) of the namespace the gateway serves that this identity is attached to, as `weir workload attach` would.',
  }),
});

/** `kind: WorkloadRegistry`: the workloads known to the set, with labels policies select by. */
export const workloadRegistrySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('WorkloadRegistry'),
  metadata: metadataSchema,
  spec: z.strictObject({ workloads: z.array(registryWorkloadSchema) }),
});

/** `kind: EgressPolicyTest`: test cases kept apart from the policy, usually under `tests/`. */
export const egressPolicyTestSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('EgressPolicyTest'),
  metadata: metadataSchema,
  spec: z.strictObject({
    policy: z.string().optional().meta({
      description: 'The policy these cases belong to (for coverage); omitted: they test the whole set.',
    }),
    cases: z.array(testCaseSchema),
  }),
});

/** The schema of each document kind. */
export const DOCUMENT_SCHEMAS = {
  EgressPolicy: egressPolicySchema,
  WorkloadRegistry: workloadRegistrySchema,
  EgressPolicyTest: egressPolicyTestSchema,
} as const;

/** A policy document as written (after the structural check, before normalisation). */
export type EgressPolicyDocument = z.infer<typeof egressPolicySchema>;

/**
 * The JSON Schema (draft-07, the draft YAML editors support best) of one policy-file document,
 * for `# yaml-language-server: $schema=…` and `weir policy schema`.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(
    z.union([egressPolicySchema, workloadRegistrySchema, egressPolicyTestSchema]),
    {
      target: 'draft-7',
      io: 'input',
    },
  );
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'Weir policy file document',
    description:
      'One YAML document of a Weir policy set: EgressPolicy, WorkloadRegistry or EgressPolicyTest.',
    ...rest,
  };
}
