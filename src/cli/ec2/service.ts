/**
 * @module cli/ec2/service — the two services `weir` speaks as a client, as botocore describes them:
 * EC2 (Weir's model subset, src/ec2-model/ec2-model.json, plus its paginators and documentation from
 * ec2-cli-data.json) and STS (GetCallerIdentity only, inlined from botocore's model).
 * Model data from botocore 1.43.11's `botocore/data/ec2/2016-11-15/` (`service-2.json`,
 * `paginators-1.json`, via scripts/extract-ec2-model.py) and
 * `botocore/data/sts/2011-06-15/service-2.json`; `xformName` is `botocore/__init__.py`'s `xform_name`.
 */
import { EC2_API_VERSION, EC2_OPERATIONS, getOperation, shape as ec2Shape } from '../../ec2-model/index.js';
import type { Operation, Shape, ShapeRef } from '../../ec2-model/index.js';
import cliData from './ec2-cli-data.json' with { type: 'json' };

/** botocore's pagination config of one operation (EC2's are all single-token). */
export interface PaginatorConfig {
  readonly input_token: string;
  readonly output_token: string;
  readonly limit_key?: string;
  readonly result_key: string;
}

/** An operation as the client needs it: STS adds a result wrapper. */
export interface ClientOperation extends Operation {
  readonly output?: ShapeRef & { readonly resultWrapper?: string };
}

/** One service: wire protocol, signing name, operations, shapes, paginators and docs. */
export interface ServiceModel {
  /** The CLI command name and SigV4 signing name (`ec2`, `sts`). */
  readonly name: 'ec2' | 'sts';
  /** botocore's protocol: `ec2` (EC2 query) or `query` (STS). */
  readonly protocol: 'ec2' | 'query';
  readonly apiVersion: string;
  /** Operation names, in model order. */
  readonly operations: readonly string[];
  operation(name: string): ClientOperation;
  shape(name: string): Shape;
  paginator(operation: string): PaginatorConfig | undefined;
  /** Plain-text documentation of an operation. */
  operationDoc(operation: string): string;
  /** Plain-text documentation of a shape, or of one member of a structure. */
  shapeDoc(shape: string, member?: string): string;
}

interface CliData {
  readonly paginators: Readonly<Record<string, PaginatorConfig>>;
  readonly operations: Readonly<Record<string, string>>;
  readonly shapes: Readonly<
    Record<string, { readonly doc?: string; readonly members?: Readonly<Record<string, string>> }>
  >;
}

const DATA = cliData as CliData;

/** EC2, as far as Weir's model goes. */
export const EC2_SERVICE: ServiceModel = {
  name: 'ec2',
  protocol: 'ec2',
  apiVersion: EC2_API_VERSION,
  operations: EC2_OPERATIONS,
  operation: (name) => getOperation(name),
  shape: (name) => ec2Shape(name),
  paginator: (op) => (Object.hasOwn(DATA.paginators, op) ? DATA.paginators[op] : undefined),
  operationDoc: (op) => (Object.hasOwn(DATA.operations, op) ? (DATA.operations[op] ?? '') : ''),
  shapeDoc: (name, member) => {
    const entry = Object.hasOwn(DATA.shapes, name) ? DATA.shapes[name] : undefined;
    if (!entry) return '';
    if (member === undefined) return entry.doc ?? '';
    return entry.members && Object.hasOwn(entry.members, member) ? (entry.members[member] ?? '') : '';
  },
};

const STS_SHAPES: Readonly<Record<string, Shape>> = {
  GetCallerIdentityRequest: { type: 'structure', members: {} },
  GetCallerIdentityResponse: {
    type: 'structure',
    members: {
      UserId: { shape: 'userIdType' },
      Account: { shape: 'accountType' },
      Arn: { shape: 'arnType' },
    },
  },
  userIdType: { type: 'string' },
  accountType: { type: 'string' },
  arnType: { type: 'string', min: 20, max: 2048 },
};

const STS_DOCS: Readonly<Record<string, string>> = {
  GetCallerIdentity:
    'Returns details about the IAM user or role whose credentials are used to call the operation.\n\n' +
    'No permissions are required to perform this operation.',
  UserId: 'The unique identifier of the calling entity.',
  Account:
    'The Amazon Web Services account ID number of the account that owns or contains the calling entity.',
  Arn: 'The Amazon Web Services ARN associated with the calling entity.',
};

/** STS, GetCallerIdentity only. */
export const STS_SERVICE: ServiceModel = {
  name: 'sts',
  protocol: 'query',
  apiVersion: '2011-06-15',
  operations: ['GetCallerIdentity'],
  operation: (name) => {
    if (name !== 'GetCallerIdentity') throw new Error(`STS operation ${name} is not modelled`);
    return {
      name,
      input: { shape: 'GetCallerIdentityRequest' },
      output: { shape: 'GetCallerIdentityResponse', resultWrapper: 'GetCallerIdentityResult' },
    };
  },
  shape: (name) => {
    const s = Object.hasOwn(STS_SHAPES, name) ? STS_SHAPES[name] : undefined;
    if (!s) throw new Error(`STS model has no shape ${name}`);
    return s;
  },
  paginator: () => undefined,
  operationDoc: (op) => STS_DOCS[op] ?? '',
  shapeDoc: (name, member) =>
    member !== undefined && name === 'GetCallerIdentityResponse' ? (STS_DOCS[member] ?? '') : '',
};

/** The service a `weir <service>` command talks to. */
export function serviceModel(name: string): ServiceModel | undefined {
  if (name === 'ec2') return EC2_SERVICE;
  if (name === 'sts') return STS_SERVICE;
  return undefined;
}

const FIRST_CAP = /(.)([A-Z][a-z]+)/g;
const END_CAP = /([a-z0-9])([A-Z])/g;
const SPECIAL_PLURAL = /[A-Z]{2,}s$/;

/** botocore's `xform_name(name, '-')`: `IpPermissions` → `ip-permissions`, `CidrIpv6` → `cidr-ipv6`. */
export function xformName(name: string, sep = '-'): string {
  if (name.includes(sep)) return name;
  let n = name;
  const special = SPECIAL_PLURAL.exec(n);
  if (special) n = `${n.slice(0, -special[0].length)}${sep}${special[0].toLowerCase()}`;
  return n.replace(FIRST_CAP, `$1${sep}$2`).replace(END_CAP, `$1${sep}$2`).toLowerCase();
}
