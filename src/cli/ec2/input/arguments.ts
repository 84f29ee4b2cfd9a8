/**
 * @module cli/ec2/input/arguments — an operation's argument table as the AWS CLI builds it: every input
 * member as `--kebab-case` (booleans as `--x`/`--no-x`, lists taking several values), then the
 * customizations — the security-group convenience options (`--protocol`, `--port`, `--cidr`,
 * `--source-group`, `--group-owner`) on authorize/revoke ingress/egress, `--cli-input-json`/`-yaml`,
 * the unified paging options (`--starting-token`, `--page-size`, `--max-items`, hiding
 * `--next-token`/`--max-results`) and `--generate-cli-skeleton` — and the call parameters built from
 * parsed values in table order.
 * Port of awscli 1.45.11's `awscli/clidriver.py` (`ServiceOperation._create_argument_table`),
 * `awscli/arguments.py`, `awscli/customizations/ec2/secgroupsimplify.py`,
 * `awscli/customizations/paginate.py`, `awscli/customizations/cliinputjson.py` and
 * `awscli/customizations/generatecliskeleton.py` (`--cli-input-yaml` and the `yaml-input` skeleton
 * are AWS CLI v2's).
 */
import type { OptionSpec } from './argparse.js';
import { unpackParameter } from './params.js';
import type { ParamfileOptions } from './paramfile.js';
import type { ServiceModel } from '../service.js';
import { xformName } from '../service.js';

/** One argument of an operation. */
export interface CliArgument {
  /** `group-id` (the `--no-x` twin of a boolean is not a separate entry; see {@link negatable}). */
  readonly name: string;
  /** The input member it sets, for model arguments. */
  readonly member?: string;
  /** The member's shape, for model arguments. */
  readonly shape?: string;
  /** How it reads values. */
  readonly nargs: 'flag' | 'one' | 'optional' | 'star';
  readonly required: boolean;
  /** False for the arguments the CLI accepts but leaves out of help. */
  readonly documented: boolean;
  /** Boolean members take `--x` and `--no-x`. */
  readonly negatable?: boolean;
  readonly choices?: readonly string[];
  readonly const?: string;
  readonly type?: 'int';
  /** Help type name: `string`, `list`, `boolean`, `structure`, `integer`. */
  readonly typeName: string;
  /** Help text for arguments that are not model members. */
  readonly help?: string;
}

/** The secgroupsimplify operations. */
const SECGROUP_OPERATIONS = new Set([
  'AuthorizeSecurityGroupIngress',
  'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
]);

const SECGROUP_HIDDEN = new Set([
  'IpProtocol',
  'FromPort',
  'ToPort',
  'CidrIp',
  'SourceSecurityGroupName',
  'SourceSecurityGroupOwnerId',
]);

/** The convenience options' help, as the CLI words it. */
export const SECGROUP_HELP: Readonly<Record<string, string>> = {
  protocol:
    'The IP protocol: ``tcp`` | ``udp`` | ``icmp``\n\n(VPC only) Use ``all`` to specify all protocols.\n\n' +
    'If this argument is provided without also providing the ``port`` argument, then it will be applied to all ' +
    'ports for the specified protocol.',
  port:
    'For TCP or UDP: The range of ports to allow. A single integer or a range (``min-max``).\n\n' +
    'For ICMP: A single integer or a range (``type-code``) representing the ICMP type number and the ICMP code ' +
    'number respectively. A value of -1 indicates all ICMP codes for all ICMP types. A value of -1 just for ' +
    '``type`` indicates all ICMP codes for the specified ICMP type.',
  cidr: 'The IPv4 address range, in CIDR format.',
  'source-group': 'The name or ID of the source security group.',
  'group-owner':
    'The AWS account ID that owns the source security group. Cannot be used when specifying a CIDR IP address.',
};

const CLI_INPUT_JSON_HELP =
  'Reads arguments from the JSON string provided. The JSON string follows the format provided by ' +
  '``--generate-cli-skeleton``. If other arguments are provided on the command line, those values will override ' +
  'the JSON-provided values. It is not possible to pass arbitrary binary values using a JSON-provided value as ' +
  'the string will be taken literally. This may not be specified along with ``--cli-input-yaml``.';
const CLI_INPUT_YAML_HELP =
  'Reads arguments from the YAML string provided. The YAML string follows the format provided by ' +
  '``--generate-cli-skeleton yaml-input``. If other arguments are provided on the command line, those values ' +
  'will override the YAML-provided values. This may not be specified along with ``--cli-input-json``.';
const SKELETON_HELP =
  'Prints a JSON skeleton to standard output without sending an API request. If provided with no value or the ' +
  'value ``input``, prints a sample input JSON that can be used as an argument for ``--cli-input-json``. ' +
  'Similarly, if provided ``yaml-input`` it will print a sample input YAML that can be used with ' +
  '``--cli-input-yaml``. If provided with the value ``output``, it validates the command inputs and returns a ' +
  'sample output JSON for that command.';
const PAGING_HELP: Readonly<Record<string, string>> = {
  'starting-token':
    'A token to specify where to start paginating. This is the ``NextToken`` from a previously truncated response.',
  'page-size':
    "The size of each page to get in the AWS service call. This does not affect the number of items returned in the command's output. Setting a smaller page size results in more calls to the AWS service, retrieving fewer items in each call. This can help prevent the AWS service calls from timing out.",
  'max-items':
    "The total number of items to return in the command's output. If the total number of items available is more than the value specified, a ``NextToken`` is provided in the command's output. To resume pagination, provide the ``NextToken`` value in the ``starting-token`` argument of a subsequent command. Do not use the ``NextToken`` response element directly outside of the AWS CLI.",
};

/** The CLI name of an operation: `AuthorizeSecurityGroupEgress` → `authorize-security-group-egress`. */
export function commandName(operation: string): string {
  return xformName(operation);
}

/** The argument table of `operation`, in the CLI's order. */
export function argumentTable(model: ServiceModel, operation: string): CliArgument[] {
  const op = model.operation(operation);
  const table: CliArgument[] = [];
  const paginator = model.paginator(operation);
  const pagingMembers = new Set<string>();
  if (paginator) {
    pagingMembers.add(paginator.input_token);
    if (paginator.limit_key !== undefined) pagingMembers.add(paginator.limit_key);
  }
  const secgroup = model.name === 'ec2' && SECGROUP_OPERATIONS.has(operation);
  if (op.input) {
    const input = model.shape(op.input.shape);
    if (input.type === 'structure') {
      for (const [member, ref] of Object.entries(input.members)) {
        const target = model.shape(ref.shape);
        const required = (input.required ?? []).includes(member) && ref.idempotencyToken !== true;
        const documented = !(secgroup && SECGROUP_HIDDEN.has(member)) && !pagingMembers.has(member);
        table.push({
          name: xformName(member),
          member,
          shape: ref.shape,
          nargs: target.type === 'boolean' ? 'flag' : target.type === 'list' ? 'star' : 'one',
          required,
          documented,
          ...(target.type === 'boolean' ? { negatable: true } : {}),
          typeName: target.type,
        });
      }
    }
  }
  if (secgroup) {
    for (const name of ['protocol', 'port', 'cidr', 'source-group', 'group-owner']) {
      table.push({
        name,
        nargs: 'one',
        required: false,
        documented: true,
        typeName: 'string',
        help: SECGROUP_HELP[name]!,
      });
    }
  }
  table.push({
    name: 'cli-input-json',
    nargs: 'one',
    required: false,
    documented: true,
    typeName: 'string',
    help: CLI_INPUT_JSON_HELP,
  });
  table.push({
    name: 'cli-input-yaml',
    nargs: 'one',
    required: false,
    documented: true,
    typeName: 'string',
    help: CLI_INPUT_YAML_HELP,
  });
  if (paginator) {
    const limitType = paginator.limit_key !== undefined ? 'integer' : undefined;
    table.push({
      name: 'starting-token',
      nargs: 'one',
      required: false,
      documented: true,
      typeName: 'string',
      help: PAGING_HELP['starting-token']!,
    });
    if (limitType) {
      table.push({
        name: 'page-size',
        nargs: 'one',
        type: 'int',
        required: false,
        documented: true,
        typeName: 'integer',
        help: PAGING_HELP['page-size']!,
      });
    }
    table.push({
      name: 'max-items',
      nargs: 'one',
      type: 'int',
      required: false,
      documented: true,
      typeName: 'integer',
      help: PAGING_HELP['max-items']!,
    });
  }
  table.push({
    name: 'generate-cli-skeleton',
    nargs: 'optional',
    const: 'input',
    choices: ['input', 'yaml-input', 'output'],
    required: false,
    documented: true,
    typeName: 'string',
    help: SKELETON_HELP,
  });
  return table;
}

/** The Python attribute name argparse gives an option. */
export function destOf(name: string): string {
  return name.replaceAll('-', '_');
}

/**
 * The argparse options of a table. `relaxRequired` is the CLI's override when the command line has
 * `--cli-input-json`, `--cli-input-yaml` or `--generate-cli-skeleton` (not `output`).
 */
export function optionSpecs(table: readonly CliArgument[], relaxRequired: boolean): OptionSpec[] {
  const specs: OptionSpec[] = [];
  for (const arg of table) {
    const base = {
      name: arg.name,
      dest: destOf(arg.name),
      nargs: arg.nargs,
      required: arg.required && !relaxRequired,
      ...(arg.choices ? { choices: arg.choices } : {}),
      ...(arg.const !== undefined ? { const: arg.const } : {}),
      ...(arg.type ? { type: arg.type } : {}),
    };
    specs.push(arg.negatable ? { ...base, flagValue: true } : base);
    if (arg.negatable)
      specs.push({ name: `no-${arg.name}`, dest: destOf(arg.name), nargs: 'flag', flagValue: false });
  }
  return specs;
}

/** Whether the CLI makes every argument optional for this command line. */
export function relaxesRequired(args: readonly string[]): boolean {
  if (args.includes('--cli-input-json') || args.includes('--cli-input-yaml')) return true;
  const at = args.indexOf('--generate-cli-skeleton');
  return at >= 0 && args[at + 1] !== 'output';
}

/** A convenience option's value error (`port parameter should be of the form …`). */
export class ConvenienceOptionError extends Error {
  override readonly name = 'ConvenienceOptionError';
}

type Params = Record<string, unknown>;

function ipPermission(params: Params): Record<string, unknown> {
  if (!Object.hasOwn(params, 'IpPermissions')) params.IpPermissions = [{}];
  return (params.IpPermissions as Record<string, unknown>[])[0]!;
}

function setPermission(params: Params, key: string, value: unknown): void {
  const perm = ipPermission(params);
  if (key === 'GroupId' || key === 'GroupName' || key === 'UserId') {
    perm.UserIdGroupPairs ??= [{}];
    (perm.UserIdGroupPairs as Record<string, unknown>[])[0]![key] = value;
  } else perm[key] = value;
}

/** secgroupsimplify's `--protocol`. */
function addProtocol(params: Params, value: string): void {
  let protocol = value;
  const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : undefined;
  if (n !== undefined) {
    if ((n < 0 || n > 255) && n !== -1) {
      // The CLI raises this inside a try whose except re-checks the names, so a bad number reads as a bad name.
      throw new ConvenienceOptionError(
        'protocol parameter should be one of: tcp|udp|icmp|all or any valid protocol number.',
      );
    }
  } else {
    if (!['tcp', 'udp', 'icmp', 'all'].includes(value)) {
      throw new ConvenienceOptionError(
        'protocol parameter should be one of: tcp|udp|icmp|all or any valid protocol number.',
      );
    }
    if (value === 'all') protocol = '-1';
  }
  setPermission(params, 'IpProtocol', protocol);
}

/** secgroupsimplify's `--port`. */
function addPort(params: Params, value: string): void {
  let from: string;
  let to: string;
  if (value === '-1' || value === 'all') [from, to] = ['-1', '-1'];
  else if (value.includes('-')) {
    const dash = value.indexOf('-');
    [from, to] = [value.slice(0, dash), value.slice(dash + 1)];
  } else [from, to] = [value, value];
  const int = (s: string): number => {
    if (!/^\s*[+-]?\d(_?\d)*\s*$/.test(s)) {
      throw new ConvenienceOptionError('port parameter should be of the form <from[-to]> (e.g. 22 or 22-25)');
    }
    return Number.parseInt(s.replaceAll('_', ''), 10);
  };
  const fromPort = int(from);
  const toPort = int(to);
  setPermission(params, 'FromPort', fromPort);
  setPermission(params, 'ToPort', toPort);
}

/** Options of {@link buildCallParameters}. */
export interface BuildOptions {
  readonly paramfile?: ParamfileOptions;
}

/** The parsed command line: values by dest. */
export type ParsedValues = ReadonlyMap<string, string | readonly string[] | boolean | number>;

/**
 * The call parameters of a parsed command line, argument by argument in table order, as the CLI's
 * `_build_call_parameters` does (paging options go to `PaginationConfig`). The documented
 * convenience rules are applied after: no `--port` means all ports for tcp/udp (0-65535) and icmp
 * (-1), and `--group-owner` goes with `--source-group`, not `--cidr`.
 * @throws ParamError, PythonError, ConvenienceOptionError
 */
export function buildCallParameters(
  table: readonly CliArgument[],
  values: ParsedValues,
  opts: BuildOptions = {},
): Params {
  const params: Params = {};
  let convenienceProtocol: string | undefined;
  let sawPort = false;
  for (const arg of table) {
    const value = values.get(destOf(arg.name));
    if (value === undefined) continue;
    if (arg.member !== undefined && arg.shape !== undefined) {
      if (typeof value === 'boolean') params[arg.member] = value;
      else {
        params[arg.member] = unpackParameter(
          value as string | readonly string[],
          `--${arg.name}`,
          arg.shape,
          opts.paramfile ? { paramfile: opts.paramfile } : {},
        );
      }
      continue;
    }
    const text = String(value);
    switch (arg.name) {
      case 'protocol':
        if (text) {
          addProtocol(params, text);
          convenienceProtocol = String(ipPermission(params).IpProtocol);
        }
        break;
      case 'port':
        if (text) {
          addPort(params, text);
          sawPort = true;
        }
        break;
      case 'cidr':
        if (text) setPermission(params, 'IpRanges', [{ CidrIp: text }]);
        break;
      case 'source-group':
        if (text) setPermission(params, text.startsWith('sg-') ? 'GroupId' : 'GroupName', text);
        break;
      case 'group-owner':
        if (text) setPermission(params, 'UserId', text);
        break;
      case 'starting-token':
      case 'page-size':
      case 'max-items': {
        const key =
          arg.name === 'starting-token'
            ? 'StartingToken'
            : arg.name === 'page-size'
              ? 'PageSize'
              : 'MaxItems';
        const config = (params.PaginationConfig ??= {}) as Record<string, unknown>;
        config[key] = value;
        break;
      }
      default:
        break;
    }
  }
  if (values.get('group_owner') && values.get('cidr')) {
    throw new ConvenienceOptionError('The --group-owner option is not compatible with the --cidr option');
  }
  if (convenienceProtocol !== undefined && !sawPort) {
    const perm = ipPermission(params);
    if (['tcp', 'udp', '6', '17'].includes(convenienceProtocol)) {
      perm.FromPort = 0;
      perm.ToPort = 65535;
    } else if (['icmp', '1'].includes(convenienceProtocol)) {
      perm.FromPort = -1;
      perm.ToPort = -1;
    }
  }
  return params;
}

/**
 * secgroupsimplify's check: the convenience options do not mix with `--ip-permissions`.
 * @throws ConvenienceOptionError `The --protocol option is not compatible with the --ip-permissions option `
 */
export function checkConvenienceOptions(values: ParsedValues): void {
  const perms = values.get('ip_permissions');
  if (perms === undefined || (Array.isArray(perms) && perms.length === 0)) return;
  for (const key of ['protocol', 'port', 'cidr', 'source_group', 'group_owner']) {
    if (values.get(key)) {
      throw new ConvenienceOptionError(
        `The --${key.replaceAll('_', '-')} option is not compatible with the --ip-permissions option `,
      );
    }
  }
}
