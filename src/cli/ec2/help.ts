/**
 * @module cli/ec2/help — `weir ec2 help` and `weir ec2 <command> help`: the AWS CLI's help pages as
 * plain text — name, description, synopsis, every option with its type, documentation, nested
 * members, shorthand and JSON syntax, the global options, and the output members.
 * Content after awscli 1.45.11's `awscli/clidocs.py` (`OperationDocumentEventHandler`,
 * `ServiceDocumentEventHandler`) and `awscli/customizations/paginate.py`'s paging note; the layout
 * is Weir's plain text, not the CLI's rendered man page.
 */
import { commandName, supportsShorthand } from './input/index.js';
import type { CliArgument, ParamShape } from './input/index.js';
import type { ServiceModel } from './service.js';

const WIDTH = 79;

function wrap(text: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const para of text.split('\n\n')) {
    if (para.startsWith('* ')) {
      out.push(
        ...wrapLine(para.slice(2), indent + 2).map((l, i) => (i === 0 ? `${pad}* ${l.trimStart()}` : l)),
      );
    } else out.push(...wrapLine(para, indent));
    out.push('');
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.map((l) => (l.trim() === '' ? '' : l)).join('\n');
}

function wrapLine(text: string, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && pad.length + line.length + 1 + word.length > WIDTH) {
      lines.push(pad + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(pad + line);
  return lines;
}

/** awscli's ShorthandDocGen: the `Shorthand Syntax:` line of a parameter. */
function shorthandExample(model: ServiceModel, shapeName: string): string | undefined {
  const shapes = (n: string): ParamShape => model.shape(n) as ParamShape;
  const top = model.shape(shapeName);
  if (!supportsShorthand(top as ParamShape, shapes)) return undefined;
  if (top.type === 'structure') {
    const names = Object.keys(top.members);
    if (names.length === 1 && names[0] === 'Value') return undefined;
  }
  const stack: string[] = [];
  const docs = (name: string): string => {
    if (stack.length > 3) throw new Error('too complex');
    const s = model.shape(name);
    if (s.type === 'structure') {
      const parts = Object.entries(s.members).map(([member, ref]) => {
        if (stack.includes(ref.shape)) return `${member}=( ... recursive ... )`;
        stack.push(ref.shape);
        try {
          return `${member}=${docs(ref.shape)}`;
        } finally {
          stack.pop();
        }
      });
      return stack.length === 0 ? parts.join(',') : `{${parts.join(',')}}`;
    }
    if (s.type === 'list') {
      stack.push(s.member.shape);
      let element: string;
      try {
        element = docs(s.member.shape);
      } finally {
        stack.pop();
      }
      const complex = ['structure', 'list'].includes(model.shape(s.member.shape).type);
      return complex || stack.length > 1 ? `[${element},${element}]` : `${element},${element}`;
    }
    return s.type;
  };
  try {
    return top.type === 'list' ? `${docs(top.member.shape)} ...` : docs(shapeName);
  } catch {
    return '';
  }
}

/** The `JSON Syntax:` block of a parameter. */
function jsonExample(model: ServiceModel, shapeName: string, indent: number, stack: string[] = []): string {
  const s = model.shape(shapeName);
  const pad = ' '.repeat(indent);
  const inner = ' '.repeat(indent + 2);
  if (s.type === 'structure') {
    if (stack.includes(shapeName)) return '{ ... recursive ... }';
    const members = Object.entries(s.members).map(
      ([m, ref]) => `${inner}"${m}": ${jsonExample(model, ref.shape, indent + 2, [...stack, shapeName])}`,
    );
    return members.length === 0 ? '{}' : `{\n${members.join(',\n')}\n${pad}}`;
  }
  if (s.type === 'list') {
    return `[\n${inner}${jsonExample(model, s.member.shape, indent + 2, stack)}\n${inner}...\n${pad}]`;
  }
  if (s.type === 'string') return s.enum ? s.enum.map((e) => `"${e}"`).join('|') : '"string"';
  if (s.type === 'boolean') return 'true|false';
  if (s.type === 'timestamp') return 'timestamp';
  return s.type;
}

/** Nested member documentation, as the CLI's help lists it under a parameter. */
function memberDocs(model: ServiceModel, shapeName: string, indent: number, stack: string[] = []): string[] {
  const s = model.shape(shapeName);
  const lines: string[] = [];
  if (s.type === 'list') {
    const member = model.shape(s.member.shape);
    if (member.type === 'structure' || member.type === 'list') {
      lines.push(`${' '.repeat(indent)}(${member.type})`);
      const doc = model.shapeDoc(s.member.shape);
      if (doc) lines.push(wrap(doc, indent + 3));
      lines.push(...memberDocs(model, s.member.shape, indent + 3, stack));
    } else lines.push(`${' '.repeat(indent)}(${member.type})`);
    return lines;
  }
  if (s.type !== 'structure' || stack.includes(shapeName)) return lines;
  for (const [member, ref] of Object.entries(s.members)) {
    const target = model.shape(ref.shape);
    lines.push('', `${' '.repeat(indent)}${member} -> (${target.type})`);
    const doc = model.shapeDoc(shapeName, member);
    if (doc) lines.push(wrap(doc, indent + 3));
    if (target.type === 'string' && target.enum && target.enum.length <= 20) {
      lines.push(wrap(`Possible values: ${target.enum.map((e) => `\`\`${e}\`\``).join(', ')}`, indent + 3));
    }
    if (target.type === 'structure' || target.type === 'list') {
      lines.push(...memberDocs(model, ref.shape, indent + 3, [...stack, shapeName]));
    }
  }
  return lines;
}

/** The global options and their help. */
export const GLOBAL_OPTIONS: readonly {
  readonly name: string;
  readonly type: string;
  readonly help: string;
}[] = [
  { name: '--debug', type: 'boolean', help: 'Turn on debug logging (to standard error).' },
  { name: '--endpoint-url', type: 'string', help: "Override command's default URL with the given URL." },
  {
    name: '--no-verify-ssl',
    type: 'boolean',
    help: 'By default, the CLI uses SSL when communicating with AWS services and verifies SSL certificates. This option overrides the default behavior of verifying SSL certificates.',
  },
  {
    name: '--no-paginate',
    type: 'boolean',
    help: 'Disable automatic pagination. If automatic pagination is disabled, the CLI will only make one call, for the first page of results.',
  },
  {
    name: '--output',
    type: 'string',
    help: 'The formatting style for command output.\n\n* json\n\n* text\n\n* table\n\n* yaml\n\n* yaml-stream',
  },
  { name: '--query', type: 'string', help: 'A JMESPath query to use in filtering the response data.' },
  { name: '--profile', type: 'string', help: 'Use a specific profile from your credential file.' },
  { name: '--region', type: 'string', help: 'The region to use. Overrides config/env settings.' },
  { name: '--color', type: 'string', help: 'Turn on/off color output.\n\n* on\n\n* off\n\n* auto' },
  {
    name: '--no-sign-request',
    type: 'boolean',
    help: 'Do not sign requests. Credentials will not be loaded if this argument is provided.',
  },
  {
    name: '--ca-bundle',
    type: 'string',
    help: 'The CA certificate bundle to use when verifying SSL certificates. Overrides config/env settings.',
  },
  {
    name: '--cli-read-timeout',
    type: 'int',
    help: 'The maximum socket read time in seconds. If the value is set to 0, the socket read will be blocking and not timeout. The default value is 60 seconds.',
  },
  {
    name: '--cli-connect-timeout',
    type: 'int',
    help: 'The maximum socket connect time in seconds. If the value is set to 0, the socket connect will be blocking and not timeout. The default value is 60 seconds.',
  },
  {
    name: '--cli-binary-format',
    type: 'string',
    help: 'Accepted for compatibility; blobs are not used by these commands.\n\n* base64\n\n* raw-in-base64-out',
  },
  { name: '--no-cli-pager', type: 'boolean', help: 'Disable cli pager for output. (Weir never pages.)' },
  { name: '--no-cli-auto-prompt', type: 'boolean', help: 'Accepted for compatibility; Weir never prompts.' },
];

/** The help page of one command. */
export function operationHelp(model: ServiceModel, operation: string, table: readonly CliArgument[]): string {
  const name = commandName(operation);
  const out: string[] = [`${name.toUpperCase()}()`, '', 'NAME', `       ${name} -`, '', 'DESCRIPTION'];
  out.push(wrap(model.operationDoc(operation) || `Calls the ${operation} operation.`, 7));
  if (table.some((a) => a.name === 'protocol')) {
    out.push(
      '',
      wrap('Note: To specify multiple rules in a single command use the --ip-permissions option', 7),
    );
  }
  const paginator = model.paginator(operation);
  if (paginator) {
    out.push(
      '',
      wrap(
        `${name} is a paginated operation. Multiple API calls may be issued in order to retrieve the entire data set of results. You can disable pagination by providing the --no-paginate argument. When using --output text and the --query argument on a paginated response, the --query argument must extract data from the results of the following query expressions: ${paginator.result_key}`,
        7,
      ),
    );
  }
  out.push('', 'SYNOPSIS', `            ${name}`);
  const documented = table.filter((a) => a.documented);
  for (const arg of documented) {
    if (arg.name === 'cli-input-yaml') continue;
    let usage: string;
    if (arg.negatable) usage = `--${arg.name} | --no-${arg.name}`;
    else if (arg.name === 'cli-input-json') usage = '--cli-input-json | --cli-input-yaml';
    else usage = `--${arg.name} <value>`;
    out.push(`          ${arg.required ? usage : `[${usage}]`}`);
  }
  out.push('', 'OPTIONS');
  for (const arg of documented) {
    if (arg.name === 'cli-input-yaml') continue;
    const label = arg.negatable
      ? `--${arg.name} | --no-${arg.name}`
      : arg.name === 'cli-input-json'
        ? '--cli-input-json | --cli-input-yaml'
        : `--${arg.name}`;
    out.push(`       ${label} (${arg.typeName})`);
    const doc =
      arg.member !== undefined && model.operation(operation).input
        ? model.shapeDoc(model.operation(operation).input!.shape, arg.member)
        : (arg.help ?? '');
    if (doc) out.push(wrap(doc, 10));
    if (arg.choices) out.push('', ...arg.choices.map((c) => `          * ${c}`));
    if (arg.shape !== undefined) {
      const s = model.shape(arg.shape);
      if (s.type === 'string' && s.enum && s.enum.length <= 20) {
        out.push('', wrap(`Possible values: ${s.enum.map((e) => `\`\`${e}\`\``).join(', ')}`, 10));
      }
      if (s.type === 'list' || s.type === 'structure') {
        out.push('', ...memberDocs(model, arg.shape, 10));
        const shorthand = shorthandExample(model, arg.shape);
        if (shorthand) out.push('', '       Shorthand Syntax:', '', `          ${shorthand}`);
        else if (s.type === 'list' && !['structure', 'list'].includes(model.shape(s.member.shape).type)) {
          out.push(
            '',
            '       Syntax:',
            '',
            `          "${model.shape(s.member.shape).type}" "${model.shape(s.member.shape).type}" ...`,
          );
        }
        out.push(
          '',
          '       JSON Syntax:',
          '',
          ...jsonExample(model, arg.shape, 0)
            .split('\n')
            .map((l) => `          ${l}`),
        );
      }
    }
    out.push('');
  }
  out.push('GLOBAL OPTIONS');
  for (const g of GLOBAL_OPTIONS) out.push(`       ${g.name} (${g.type})`, wrap(g.help, 10), '');
  const op = model.operation(operation);
  out.push('OUTPUT');
  if (op.output) {
    const lines = memberDocs(model, op.output.shape, 7);
    out.push(...(lines.length > 0 ? lines.slice(1) : ['       None']));
  } else out.push('       None');
  return out.join('\n') + '\n';
}

/** The help page of a service: its commands. */
export function serviceHelp(model: ServiceModel, commands: readonly string[]): string {
  const out = [
    `${model.name.toUpperCase()}()`,
    '',
    'NAME',
    `       ${model.name} -`,
    '',
    'DESCRIPTION',
    wrap(
      model.name === 'ec2'
        ? "The EC2 API's security-group, prefix-list, tag and VPC commands, as the AWS CLI offers them, against any EC2 endpoint: AWS or a local Weir (zero configuration when ./weir-data or WEIR_DATA_DIR is present)."
        : 'The STS call that tells who the caller is.',
      7,
    ),
    '',
    'AVAILABLE COMMANDS',
    ...commands.map((c) => `       o ${c}\n`),
  ];
  return out.join('\n') + '\n';
}
