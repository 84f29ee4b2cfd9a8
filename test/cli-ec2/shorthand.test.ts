/**
 * The shorthand parser and parameter unpacking of `weir ec2`: the grammar case by case (expected
 * values and error messages were taken from awscli 1.45's ShorthandParser, which
 * cli-ec2-shorthand-awscli.test.ts checks live), every example of the AWS CLI reference pages for
 * authorize/revoke-security-group-egress in shorthand and JSON syntax, the model-aware step, files,
 * and a property test that rendered shorthand parses back to the structure it came from.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { ParamError, memberShapeName, unpackParameter } from '../../src/cli/ec2/input/params.js';
import type { CliArgValue, ParamShape } from '../../src/cli/ec2/input/params.js';
import { PythonError } from '../../src/cli/ec2/python/builtins.js';
import { pyJsonLoads } from '../../src/cli/ec2/python/json.js';
import {
  DuplicateKeyInObjectError,
  ShorthandParseSyntaxError,
  parseShorthand,
  renderShorthand,
} from '../../src/cli/ec2/input/shorthand.js';
import type { ShorthandObject, ShorthandValue } from '../../src/cli/ec2/input/shorthand.js';

const REFERENCE_DIR = fileURLToPath(new URL('../../../shared/reference', import.meta.url));

describe('parseShorthand: values', () => {
  const cases: [string, ShorthandObject][] = [
    ['a=b', { a: 'b' }],
    ['a=b,c', { a: ['b', 'c'] }],
    ['a=b,c,d=e', { a: ['b', 'c'], d: 'e' }],
    ['a=b, c ,d = e', { a: ['b', 'c'], d: 'e' }],
    ['a= b ', { a: 'b' }],
    ['a=', { a: '' }],
    ['=b', { '': 'b' }],
    ['a=,b=c', { a: '', b: 'c' }],
    ['a=[]', { a: [] }],
    ['a={}', { a: {} }],
    ['a=[,]', { a: [''] }],
    ['a=[a,]', { a: ['a'] }],
    ['a=[ b , c ]', { a: ['b', 'c'] }],
    ['a=[[a,b],[c]]', { a: [['a', 'b'], ['c']] }],
    ['a={b={c=d}}', { a: { b: { c: 'd' } } }],
    ['a={b=c d}', { a: { b: 'c d' } }],
    ['a={b=[1,2],c={d=e}},f=g', { a: { b: ['1', '2'], c: { d: 'e' } }, f: 'g' }],
    ['a=[{b=1},{c=[2,3]}]', { a: [{ b: '1' }, { c: ['2', '3'] }] }],
    ['a = [ {b = c} ]', { a: [{ b: 'c' }] }],
    // `=` ends nothing inside a value, only a key.
    ['a=b=c', { a: 'b=c' }],
    ['a={b=c=d}', { a: { b: 'c=d' } }],
    ['a=[b=c]', { a: ['b=c'] }],
    // An escaped comma stays in the value …
    ['a=b\\,c', { a: 'b,c' }],
    // … but backtracking before the next key goes back to the last comma, escaped or not.
    ['a=b,c\\,d=e', { a: 'b', d: 'e' }],
    ['a=\'x,y\',b="p\\"q"', { a: 'x,y', b: 'p"q' }],
    ["a='it\\'s'", { a: "it's" }],
    ["a='x\\\\'", { a: 'x\\' }],
    ['a=["x",\'y\']', { a: ['x', 'y'] }],
    ['a=\'\',b=""', { a: '', b: '' }],
    ['a=b c,d e', { a: ['b c', 'd e'] }],
    ['a=tab\there', { a: 'tab\there' }],
    ['a="x😀y"', { a: 'x😀y' }],
    ['k:1=v', { 'k:1': 'v' }],
    ['k/x.y#z-_=v', { 'k/x.y#z-_': 'v' }],
    ['a=1,2,3,b=[x]', { a: ['1', '2', '3'], b: ['x'] }],
    ['a=b;c', { a: 'b;c' }],
    // Python's rstrip takes Unicode spaces off a plain value.
    ['a=\u00a0b\u00a0', { a: '\u00a0b' }],
  ];
  test.each(cases)('%j', (input, expected) => {
    expect(parseShorthand(input)).toEqual(expected);
  });

  test('the reference example of --ip-permissions', () => {
    expect(parseShorthand('IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]')).toEqual({
      IpProtocol: 'tcp',
      FromPort: '80',
      ToPort: '80',
      IpRanges: [{ CidrIp: '10.0.0.0/16' }],
    });
  });
});

describe('parseShorthand: errors point at the wrong character', () => {
  const cases: [string, string][] = [
    ['a=[b,c]]', "Expected: ',', received: ']' for input:\na=[b,c]]\n       ^"],
    ['a=[b] ', "Expected: ',', received: 'EOF' for input:\na=[b] \n      ^"],
    ['a=b,', "Expected: '<second>', received: '<none>' for input:\na=b,\n    ^"],
    // The second comma sends the parser back to the first one, to read a key that is not there.
    ['a=b,,', "Expected: '=', received: 'EOF' for input:\na=b,,\n     ^"],
    // Astral characters (emoji) are outside the plain-value alphabet: quote them.
    ['a=x😀y', "Expected: ',', received: '😀' for input:\na=x😀y\n   ^"],
    ['', "Expected: '=', received: 'EOF' for input:\n\n^"],
    ['a b=c', "Expected: '=', received: 'b' for input:\na b=c\n  ^"],
    ['a=[b', "Expected: ',', received: 'EOF' for input:\na=[b\n    ^"],
    ['a={b', "Expected: '=', received: 'EOF' for input:\na={b\n    ^"],
    ['a={b=c', "Expected: ',', received: 'EOF' for input:\na={b=c\n      ^"],
    ['a="unterminated', "Expected: '<double quoted>', received: '<none>' for input:\na=\"unterminated\n  ^"],
    ["a='x", "Expected: '<singled quoted>', received: '<none>' for input:\na='x\n  ^"],
    ['a=b]', "Expected: ',', received: ']' for input:\na=b]\n   ^"],
    ['a=[b]c', "Expected: ',', received: 'c' for input:\na=[b]c\n     ^"],
    ['x=a😀=b', "Expected: ',', received: '😀' for input:\nx=a😀=b\n   ^"],
    // The caret line goes under the line that holds the error.
    ['foo=bar,\nbar==baz', "Expected: ',', received: '=' for input:\nfoo=bar,\nbar==baz\n    ^"],
    ['a==b,\nc=d', "Expected: ',', received: '=' for input:\na==b,\n  ^\nc=d"],
  ];
  test.each(cases)('%j', (input, message) => {
    let caught: unknown;
    try {
      parseShorthand(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ShorthandParseSyntaxError);
    expect((caught as Error).message).toBe(message);
  });

  test('a repeated top-level key is reported where the second structure starts', () => {
    const err = (() => {
      try {
        parseShorthand('IpProtocol=tcp,FromPort=80,IpProtocol=udp');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(DuplicateKeyInObjectError);
    expect((err as Error).message).toBe(
      'Second instance of key "IpProtocol" encountered for input:\n' +
        'IpProtocol=tcp,FromPort=80,IpProtocol=udp\n' +
        '                           ^\n' +
        'This is often because there is a preceding "," instead of a space.',
    );
    expect((err as DuplicateKeyInObjectError).index).toBe(27);
  });

  test('the index counts code points, as Python does', () => {
    try {
      parseShorthand('a={b="😀😀"');
    } catch (err) {
      expect((err as ShorthandParseSyntaxError).index).toBe(9);
      expect((err as Error).message).toBe(
        "Expected: ',', received: 'EOF' for input:\na={b=\"😀😀\"\n         ^",
      );
    }
    expect.assertions(2);
  });
});

const SG_EXAMPLE_1 = 'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]';
const SG_EXAMPLE_2 = 'IpProtocol=tcp,FromPort=80,ToPort=80,UserIdGroupPairs=[{GroupId=sg-0aad1c26bbeec5c22}]';
const REVOKE_EXAMPLE_1 = '[{IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]';
const REVOKE_EXAMPLE_2 =
  '[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,"UserIdGroupPairs": [{"GroupId": "sg-06df23a01ff2df86d"}]}]';
const TAGS_TEMPLATE = 'ResourceType=string,Tags=[{Key=string,Value=string},{Key=string,Value=string}]';

const egress = (value: CliArgValue, member = 'IpPermissions', cliName = '--ip-permissions') =>
  unpackParameter(value, cliName, memberShapeName('AuthorizeSecurityGroupEgressRequest', member));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('the AWS CLI reference examples, in both syntaxes', () => {
  test.skipIf(!existsSync(REFERENCE_DIR))('the examples below are the reference pages’ own', () => {
    const authorize = readFileSync(join(REFERENCE_DIR, 'aws-cli-authorize-security-group-egress.md'), 'utf8');
    const revoke = readFileSync(join(REFERENCE_DIR, 'aws-cli-revoke-security-group-egress.md'), 'utf8');
    expect(authorize).toContain(`--ip-permissions '${SG_EXAMPLE_1}'`);
    expect(authorize).toContain(`--ip-permissions '${SG_EXAMPLE_2}'`);
    expect(authorize).toContain(TAGS_TEMPLATE);
    expect(revoke).toContain(`--ip-permissions ${REVOKE_EXAMPLE_1}\n`);
    expect(revoke).toContain(`--ip-permissions '${REVOKE_EXAMPLE_2}'`);
  });

  test('authorize example 1 (CIDR): shorthand and JSON give the same request', () => {
    const expected = [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }];
    expect(egress([SG_EXAMPLE_1])).toEqual(expected);
    expect(egress([JSON.stringify(expected)])).toEqual(expected);
  });

  test('authorize example 2 (security group): shorthand and JSON give the same request', () => {
    const expected = [
      {
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        UserIdGroupPairs: [{ GroupId: 'sg-0aad1c26bbeec5c22' }],
      },
    ];
    expect(egress([SG_EXAMPLE_2])).toEqual(expected);
    expect(egress([JSON.stringify(expected, null, 2)])).toEqual(expected);
  });

  test('revoke example 1 is malformed on the page: its `[` makes it JSON, and the CLI rejects it', () => {
    const err = thrown(() => egress([REVOKE_EXAMPLE_1]));
    expect(err).toBeInstanceOf(ParamError);
    expect(err.message).toBe(
      "Error parsing parameter '--ip-permissions': Invalid JSON: Expecting property name enclosed in double " +
        `quotes: line 1 column 3 (char 2)\nJSON received: ${REVOKE_EXAMPLE_1}`,
    );
    // What it means, in shorthand:
    expect(egress(['IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=10.0.0.0/16}]'])).toEqual([
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
    ]);
  });

  test('revoke example 2 (JSON) and its shorthand', () => {
    const expected = [
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        UserIdGroupPairs: [{ GroupId: 'sg-06df23a01ff2df86d' }],
      },
    ];
    expect(egress([REVOKE_EXAMPLE_2])).toEqual(expected);
    expect(
      egress(['IpProtocol=tcp,FromPort=443,ToPort=443,UserIdGroupPairs=[{GroupId=sg-06df23a01ff2df86d}]']),
    ).toEqual(expected);
  });

  test('the --tag-specifications syntax line of the page', () => {
    const expected = [
      {
        ResourceType: 'string',
        Tags: [
          { Key: 'string', Value: 'string' },
          { Key: 'string', Value: 'string' },
        ],
      },
    ];
    expect(egress([TAGS_TEMPLATE], 'TagSpecifications', '--tag-specifications')).toEqual(expected);
    expect(egress([JSON.stringify(expected)], 'TagSpecifications', '--tag-specifications')).toEqual(expected);
  });
});

describe('unpackParameter: the model-aware step', () => {
  test('several structures as separate argv items, mixing IPv4, IPv6 and prefix lists', () => {
    expect(
      egress([
        'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=10.0.0.0/8,Description="HTTPS, internal"}]',
        'IpProtocol=udp,FromPort=53,ToPort=53,Ipv6Ranges=[{CidrIpv6=2001:db8::/32}],PrefixListIds=[{PrefixListId=pl-1}]',
      ]),
    ).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'HTTPS, internal' }],
      },
      {
        IpProtocol: 'udp',
        FromPort: 53,
        ToPort: 53,
        Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }],
        PrefixListIds: [{ PrefixListId: 'pl-1' }],
      },
    ]);
  });

  test('a lone value where the model wants a list is wrapped, and not coerced further', () => {
    expect(egress(['IpProtocol=-1,IpRanges=10.0.0.0/8'])).toEqual([
      { IpProtocol: '-1', IpRanges: ['10.0.0.0/8'] },
    ]);
    expect(egress(['IpProtocol=tcp,IpRanges={CidrIp=1.1.1.1/32}'])).toEqual([
      { IpProtocol: 'tcp', IpRanges: [{ CidrIp: '1.1.1.1/32' }] },
    ]);
  });

  test('integers as Python reads them; keys outside the model left for the service to reject', () => {
    expect(egress(['IpProtocol=tcp,FromPort= +1_0 ,Unknown=7'])).toEqual([
      { IpProtocol: 'tcp', FromPort: 10, Unknown: '7' },
    ]);
  });

  test('booleans per shape, and scalar parameters', () => {
    const modify = (v: CliArgValue, member: string) =>
      unpackParameter(v, '--x', memberShapeName('ModifyManagedPrefixListRequest', member));
    expect(modify('3', 'CurrentVersion')).toBe(3);
    const shapes = (name: string): ParamShape =>
      name === 'Flags'
        ? {
            type: 'structure',
            members: { On: { shape: 'Bool' }, Off: { shape: 'Bool' }, Other: { shape: 'Bool' } },
          }
        : { type: 'boolean' };
    expect(unpackParameter('On=TRUE,Off=false,Other=maybe', '--flags', 'Flags', { shapes })).toEqual({
      On: true,
      Off: false,
      Other: 'maybe',
    });
  });

  test('a list of strings takes argv items, or JSON', () => {
    const ids = (v: CliArgValue) =>
      unpackParameter(v, '--group-ids', memberShapeName('DescribeSecurityGroupsRequest', 'GroupIds'));
    expect(ids(['sg-1', 'sg-2'])).toEqual(['sg-1', 'sg-2']);
    expect(ids(['["sg-1", "sg-2"]'])).toEqual(['sg-1', 'sg-2']);
  });

  test('--filters: implicit and explicit lists', () => {
    expect(
      unpackParameter(
        ['Name=group-id,Values=sg-1,sg-2', 'Name=vpc-id,Values=[vpc-1]'],
        '--filters',
        memberShapeName('DescribeSecurityGroupsRequest', 'Filters'),
      ),
    ).toEqual([
      { Name: 'group-id', Values: ['sg-1', 'sg-2'] },
      { Name: 'vpc-id', Values: ['vpc-1'] },
    ]);
  });

  test('only the first argv item decides between shorthand and JSON', () => {
    const err = thrown(() => egress(['IpProtocol=tcp', '{"IpProtocol": "udp"}']));
    expect(err.message).toBe(
      "Error parsing parameter '--ip-permissions': Expected: '=', received: '{' for input:\n" +
        '{"IpProtocol": "udp"}\n^',
    );
    expect(egress(['{"IpProtocol": "udp"}', '{"IpProtocol": "tcp"}'])).toEqual([
      { IpProtocol: 'udp' },
      { IpProtocol: 'tcp' },
    ]);
  });

  test('Python errors come through unwrapped, as the CLI prints them', () => {
    const notInt = thrown(() => egress(['IpProtocol=tcp,FromPort=x']));
    expect(notInt).toBeInstanceOf(PythonError);
    expect(notInt.message).toBe("invalid literal for int() with base 10: 'x'");
    expect(thrown(() => egress(['IpProtocol=tcp,FromPort=[1,2]'])).message).toBe(
      "int() argument must be a string, a bytes-like object or a real number, not 'list'",
    );
  });

  test('JSON errors carry Python’s position', () => {
    expect(thrown(() => egress(['{"IpProtocol": "udp",}'])).message).toBe(
      "Error parsing parameter '--ip-permissions': Invalid JSON: Expecting property name enclosed in double " +
        'quotes: line 1 column 22 (char 21)\nJSON received: {"IpProtocol": "udp",}',
    );
  });
});

describe('unpackParameter: file:// and fileb://', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-shorthand-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Buffer): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  test('a JSON file', () => {
    const p = file('perms.json', '[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}]');
    expect(egress([`file://${p}`])).toEqual([{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22 }]);
  });

  test('a shorthand file for a list parameter stays one structure, as in the CLI', () => {
    const p = file('perms.txt', 'IpProtocol=udp,FromPort=53,ToPort=53');
    expect(egress([`file://${p}`])).toEqual({ IpProtocol: 'udp', FromPort: '53', ToPort: '53' });
  });

  test('a missing file, and a binary one read as text', () => {
    expect(egress.bind(null, [`file://${dir}/missing.json`])).toThrow(
      `Error parsing parameter '--ip-permissions': Unable to load paramfile file://${dir}/missing.json: ` +
        `[Errno 2] No such file or directory: '${dir}/missing.json'`,
    );
    const bin = file('bin.dat', Buffer.from([0xff, 0xfe]));
    expect(egress.bind(null, [`file://${bin}`])).toThrow(
      `Unable to load paramfile (${bin}), text contents could not be decoded.`,
    );
  });

  test('key@=file:// inside shorthand, with universal newlines', () => {
    const p = file('desc.txt', 'line1\r\nline2');
    expect(egress([`IpProtocol=tcp,IpRanges=[{CidrIp=10.0.0.0/8,Description@=file://${p}}]`])).toEqual([
      { IpProtocol: 'tcp', IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'line1\nline2' }] },
    ]);
  });

  test('$VAR and ~ in paths', () => {
    const p = file('v.json', '["sg-9"]');
    const name = p.slice(dir.length + 1);
    expect(
      unpackParameter(['file://$WEIR_TEST_DIR/' + name], '--group-ids', 'GroupIdStringList', {
        paramfile: { env: { WEIR_TEST_DIR: dir } },
      }),
    ).toEqual(['sg-9']);
    expect(
      unpackParameter(['file://~/' + name], '--group-ids', 'GroupIdStringList', {
        paramfile: { env: { HOME: dir } },
      }),
    ).toEqual(['sg-9']);
  });
});

describe('pyJsonLoads', () => {
  test.each([
    ['[1,]', 'Expecting value: line 1 column 4 (char 3)'],
    ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
    ['[1 2]', "Expecting ',' delimiter: line 1 column 4 (char 3)"],
    ['"abc', 'Unterminated string starting at: line 1 column 1 (char 0)'],
    ['"a\tb"', 'Invalid control character at: line 1 column 3 (char 2)'],
    ['"\\x"', 'Invalid \\escape: line 1 column 2 (char 1)'],
    ['[1]x', 'Extra data: line 1 column 4 (char 3)'],
    ['[\n1,\n2,\n]', 'Expecting value: line 4 column 1 (char 8)'],
    ['\ufeff[1]', 'Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)'],
  ])('%j', (input, message) => {
    expect(() => pyJsonLoads(input)).toThrow(message);
  });

  test('values as Python reads them', () => {
    expect(pyJsonLoads(' {"a": [1, 2.5, -0, true, null, "\\ud83d\\ude00"]} ')).toEqual({
      a: [1, 2.5, 0, true, null, '😀'],
    });
    expect(pyJsonLoads('[NaN, Infinity, -Infinity]')).toEqual([NaN, Infinity, -Infinity]);
    expect(Object.keys(pyJsonLoads('{"__proto__": 1}') as object)).toEqual(['__proto__']);
  });
});

describe('renderShorthand', () => {
  // Keys from the key alphabet; values from an alphabet that includes what forces quoting.
  const key = fc.stringMatching(/^[A-Za-z0-9_.:/#-]{1,6}$/);
  const text = fc
    .string({ unit: fc.constantFrom(...'abcXYZ019 -_./:@,=[]{}"\'\\é\t'.split('')), maxLength: 10 })
    .filter((s) => !s.endsWith('\\'));
  const { value } = fc.letrec<{ value: ShorthandValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      text,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    ),
  }));
  const top = fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 });

  test('what it renders parses back to the same structure', () => {
    fc.assert(
      fc.property(top, (structure) => {
        expect(parseShorthand(renderShorthand(structure))).toEqual(structure);
      }),
      { numRuns: 500 },
    );
  });

  test('writes plain words where it can', () => {
    expect(
      renderShorthand({ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'a b' }] }),
    ).toBe('IpProtocol=tcp,IpRanges=[{CidrIp=10.0.0.0/16,Description=a b}]');
    expect(renderShorthand({ a: 'x,y', b: '', c: 'say "hi"' })).toBe('a="x,y",b="",c="say \\"hi\\""');
  });

  test('refuses what shorthand cannot say', () => {
    expect(() => renderShorthand({})).toThrow('at least one key');
    expect(() => renderShorthand({ 'a b': 'c' })).toThrow('not a shorthand key');
    expect(() => renderShorthand({ a: 'c\\' })).toThrow('backslash');
  });
});
