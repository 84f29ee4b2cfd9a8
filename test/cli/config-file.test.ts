/**
 * `weir serve --config FILE`: every flag can be set in YAML by its name, through the flag's own
 * parser; flags on the command line win; a bad file is refused with the key and the fix. And the
 * start banner says where the gateway listens and what it enforces.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { applyConfigFile } from '../../src/cli/config-file.js';
import { buildProgram } from '../../src/cli/program.js';
import { spawnServe } from '../helpers/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'weir-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const f = join(dir, `config-${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}

function positive(value: string): number {
  const v = Number(value);
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError('must be a positive integer');
  return v;
}

/** A command with one flag of each kind serve has, and --config applied as serve applies it. */
function command(): Command {
  return new Command('serve')
    .exitOverride()
    .option('--data-dir <dir>', 'data', './weir-data')
    .option('--max <n>', 'a number', positive)
    .option('--resolve', 'a switch')
    .option('--no-color', 'a negated switch')
    .option('--key <file>', 'repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--names <a,b>', 'a list', (v: string) => v.split(','))
    .option('--config <file>', 'settings')
    .hook('preAction', (c) => {
      const f = c.getOptionValue('config') as string | undefined;
      if (f !== undefined) applyConfigFile(c, f);
    })
    .action(() => {});
}

function parse(args: string[]): Record<string, unknown> {
  const c = command();
  c.parse(args, { from: 'user' });
  return c.opts();
}

describe('applyConfigFile', () => {
  it('sets each flag by its name, through its parser, over the defaults', () => {
    const f = file(
      'data-dir: /srv/weir\nmax: 7\nresolve: true\nno-color: true\nkey: [a.pem, b.pem]\nnames: [eth0, eth1]\n',
    );
    expect(parse(['--config', f])).toMatchObject({
      dataDir: '/srv/weir',
      max: 7,
      resolve: true,
      color: false,
      key: ['a.pem', 'b.pem'],
      names: ['eth0', 'eth1'],
    });
  });

  it('lets the command line win over the file', () => {
    const f = file('data-dir: /srv/weir\nmax: 7\n');
    expect(parse(['--config', f, '--max', '3'])).toMatchObject({ dataDir: '/srv/weir', max: 3 });
  });

  it.each([
    ['max: 0\n', /--config .*: max: must be a positive integer/],
    ['maxx: 3\n', /unknown setting "maxx": the keys are the flags of weir serve without the dashes/],
    ['resolve: "yes"\n', /resolve: must be true or false/],
    ['data-dir: {a: 1}\n', /data-dir: must be a string or a number, not object/],
    ['- a\n- b\n', /must be a mapping of flag names to values/],
    ['max: [1\n', /not valid YAML/],
    ['max: 1\nmax: 2\n', /not valid YAML: .*[Mm]ap keys must be unique/],
    ['config: other.yaml\n', /unknown setting "config"/],
  ])('refuses %j, naming the key and the fix', (text, message) => {
    expect(() => parse(['--config', file(text)])).toThrow(message);
  });

  it('refuses a file it cannot read', () => {
    expect(() => parse(['--config', join(dir, 'missing.yaml')])).toThrow(/cannot read it \(ENOENT\)/);
  });

  it('knows every flag of the real weir serve', async () => {
    const program = await buildProgram('serve');
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    const f = file('rules-per-group: 5\nproxy-max-conns: 9\nlog-level: warn\nbundle-public-key: [k.pem]\n');
    applyConfigFile(serve, f);
    expect(serve.opts()).toMatchObject({
      rulesPerGroup: 5,
      proxyMaxConns: 9,
      logLevel: 'warn',
      bundlePublicKey: ['k.pem'],
    });
  });
});

describe('weir serve --config, end to end', () => {
  it('starts with the file settings, flags winning, and says so in the banner', async () => {
    const f = file('gateway-account: 111122223333\ngateway-region: us-west-2\n');
    const serve = await spawnServe(join(dir, 'data'), ['--config', f, '--gateway-region', 'eu-west-1']);
    try {
      const banner = serve.stderr();
      expect(banner).toMatch(/Egress gateway: http:\/\/127\.0\.0\.1:\d+ \(an HTTP proxy/);
      expect(banner).toContain("account 111122223333's security groups in eu-west-1");
      expect(banner).toContain('the signed policy bundle applied through the API');
      expect(banner).toContain('identity: bearer tokens (weir token issue)');
      expect(banner).toContain(`--proxy http://127.0.0.1:${serve.proxyPort} `);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exit;
    }
  });
});
