/**
 * @module test/gateway-denial-template — a denial carries its template, end to end: a real
 * `weir serve` (identity by source address, names from a hosts file) refuses a CONNECT and a
 * plain-HTTP request; the 403 body and the `Weir-Exception-Request` header print the exact
 * `weir exception request …` command, which bash reads back as exactly the intended argv; the
 * YAML rule parses, and once its placeholders are filled in, `weir policy lint` accepts it and
 * `weir check` then allows the request; `weir check --endpoint` prints the same text (and JSON
 * `template`), and `weir decisions --output json` the same command. A guarded address gets no
 * command, only the note that a reviewed rule naming the range can open it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { spawnServe } from '../helpers/serve-process.js';
import type { ServeProcess } from '../helpers/serve-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
/** Authenticated (by source address), yet full of what a shell would split, expand or run. */
const HOSTILE = "svc-o'brien;$(touch${IFS}pwned)`id`&&|$HOME";
const SLOW = { timeout: 600_000 };

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Writes a request head raw to the gateway and reads the answer until it closes. */
function raw(port: number, head: string): Promise<Reply> {
  return new Promise((done, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('utf8')));
    socket.once('error', reject);
    socket.once('close', () => {
      const [top = '', body = ''] = got.split('\r\n\r\n', 2) as [string?, string?];
      const [status = '', ...fields] = top.split('\r\n');
      const headers: Record<string, string> = {};
      for (const f of fields) {
        const colon = f.indexOf(':');
        headers[f.slice(0, colon).toLowerCase()] = f.slice(colon + 1).trim();
      }
      done({ status: Number(status.split(' ')[1]), headers, body });
    });
    socket.write(head);
  });
}

/** The arguments bash hands `weir` when `command` is pasted as printed. */
function argvOf(command: string, cwd: string): string[] {
  const out = execFileSync('bash', ['-c', `weir() { printf '%s\\0' "$@"; }\n${command}`], { cwd });
  return out.toString('utf8').split('\0').slice(0, -1);
}

/** The template of a body: the command line, and the YAML from its comment line to the end. */
function templateOf(body: string): { command: string; rule: string; block: string } {
  const lines = body.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Ask for access with an exception'));
  const yaml = lines.findIndex((l) => l.startsWith('# Add under spec.rules'));
  return {
    command: (lines[start + 1] ?? '').trim(),
    rule: lines.slice(yaml).join('\n'),
    block: lines.slice(start).join('\n'),
  };
}

describe('a denial carries its template', () => {
  let dir: string;
  let dataDir: string;
  let serve: ServeProcess;

  function weir(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((done, reject) => {
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
      const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], {
        cwd: dir,
        env: { ...env, HOME: dir, WEIR_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => done({ code: code ?? -1, out, err }));
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-denial-'));
    dataDir = join(dir, 'data');
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies/svc.yaml'),
      `apiVersion: weir.dev/v1
kind: EgressPolicy
metadata: { name: svc, owner: team@example.com }
spec:
  workloads: [{ identity: ${JSON.stringify(HOSTILE)} }]
  rules:
    - id: other
      to: [{ fqdn: other.example.com }]
      ports: [443]
      justification: a neighbour
      expires: 2099-01-01
`,
    );
    writeFileSync(join(dir, 'hosts'), '198.51.100.7 api.example.com\n');
    writeFileSync(
      join(dir, 'identity-map.yaml'),
      `apiVersion: weir.dev/v1\nkind: IdentityMap\nentries:\n  - { source: 127.0.0.0/8, identity: ${JSON.stringify(HOSTILE)} }\n`,
    );
    serve = await spawnServe(dataDir, [
      '--policy',
      join(dir, 'policies'),
      '--dns-hosts',
      join(dir, 'hosts'),
      '--proxy-identity-map',
      join(dir, 'identity-map.yaml'),
    ]);
  }, 600_000);

  afterAll(async () => {
    if (serve !== undefined && serve.exited() === undefined) {
      serve.child.kill('SIGTERM');
      await serve.exit;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it(
    'CONNECT: the body and the header give the command; bash reads back the intended argv',
    SLOW,
    async () => {
      const r = await raw(
        serve.proxyPort,
        'CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n',
      );
      expect(r.status).toBe(403);
      expect(r.headers['weir-reason']).toBe('no-match');
      const t = templateOf(r.body);
      expect(r.headers['weir-exception-request']).toBe(t.command);
      // Run where a `pwned` file would show that the shell ran part of the identity.
      expect(argvOf(t.command, dir)).toEqual([
        'exception',
        'request',
        '--identity',
        HOSTILE,
        '--to',
        'api.example.com:443',
        '--reason',
        '<why you need it>',
        '--ttl',
        '24h',
      ]);
      expect(() => readFileSync(join(dir, 'pwned'))).toThrow();
      expect(parse(t.rule)).toEqual([
        {
          id: 'api-example-com-443',
          to: [{ fqdn: 'api.example.com' }],
          ports: [443],
          justification: '<fill in: why this workload needs it>',
          owner: '<fill in: owning team or person>',
          dataClass: '<fill in: data class, e.g. internal>',
          expires: '<fill in: YYYY-MM-DD>',
        },
      ]);
    },
  );

  it('plain HTTP: the same template, for port 80', SLOW, async () => {
    const r = await raw(
      serve.proxyPort,
      'GET http://api.example.com/x HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n',
    );
    expect(r.status).toBe(403);
    const t = templateOf(r.body);
    expect(argvOf(t.command, dir).slice(2, 6)).toEqual(['--identity', HOSTILE, '--to', 'api.example.com:80']);
    expect(r.headers['weir-exception-request']).toBe(t.command);
    expect((parse(t.rule) as { id: string }[])[0]?.id).toBe('api-example-com-80');
  });

  it('an IPv6 literal is asked for as [v6]:port, and its rule is a /128', SLOW, async () => {
    const r = await raw(
      serve.proxyPort,
      'CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n',
    );
    expect(r.status).toBe(403);
    const t = templateOf(r.body);
    expect(argvOf(t.command, dir).slice(4, 6)).toEqual(['--to', '[2001:db8::1]:8443']);
    expect((parse(t.rule) as { to: unknown }[])[0]?.to).toEqual([{ cidr: '2001:db8::1/128' }]);
  });

  it('a guarded address: no command, no header, only a reviewed rule naming the range', SLOW, async () => {
    const r = await raw(
      serve.proxyPort,
      'CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n',
    );
    expect(r.status).toBe(403);
    expect(r.headers['weir-reason']).toBe('guardrail');
    expect(r.body).not.toContain('weir exception request');
    expect(r.headers['weir-exception-request']).toBeUndefined();
    expect(r.body).toContain('Only a reviewed policy rule that names the range itself');
  });

  it('a 407 carries no template', SLOW, async () => {
    // The identity map names every loopback client: only a malformed target is left to refuse
    // without a policy decision (a 400), and it too has no template.
    const r = await raw(serve.proxyPort, 'CONNECT api.example.com HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(r.status).toBe(400);
    expect(r.body).not.toContain('weir exception request');
    expect(r.headers['weir-exception-request']).toBeUndefined();
  });

  it(
    'weir check --endpoint prints the same template; JSON carries it; decisions name the command',
    SLOW,
    async () => {
      const r = await raw(
        serve.proxyPort,
        'CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n',
      );
      const fromBody = templateOf(r.body);
      const text = await weir(['check', '--endpoint', '--from', HOSTILE, '--to', 'api.example.com:443']);
      expect(text.code, text.err).toBe(1);
      expect(templateOf(text.out).block).toBe(fromBody.block);
      const json = await weir([
        'check',
        '--endpoint',
        '--from',
        HOSTILE,
        '--to',
        'api.example.com:443',
        '--format',
        'json',
      ]);
      expect(json.code, json.err).toBe(1);
      const out = JSON.parse(json.out) as { template: { command: string; rule: string } };
      expect(out.template).toEqual({ command: fromBody.command, rule: `${fromBody.rule}` });

      // The store gets decisions in batches off the gateway's hot path: bounded by attempts.
      let listed = await weir(['decisions', '--decision', 'deny', '--output', 'json']);
      for (let i = 0; i < 100 && listed.code === 0 && !listed.out.includes('"host":"api.example.com"'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        listed = await weir(['decisions', '--decision', 'deny', '--output', 'json']);
      }
      expect(listed.code, listed.err).toBe(0);
      const rows = listed.out
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { host?: string; port?: number; reason?: string; exceptionRequest?: string },
        );
      const connect = rows.find((x) => x.host === 'api.example.com' && x.port === 443);
      expect(connect?.exceptionRequest).toBe(fromBody.command);
      expect(rows.find((x) => x.reason === 'guardrail')?.exceptionRequest).toBeUndefined();
    },
  );

  it('the rule, filled in, passes weir policy lint, and weir check then allows', SLOW, async () => {
    const r = await raw(
      serve.proxyPort,
      'CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n',
    );
    const filled = templateOf(r.body)
      .rule.replace('<fill in: why this workload needs it>', 'the payments API')
      .replace('<fill in: owning team or person>', 'team@example.com')
      .replace('<fill in: data class, e.g. internal>', 'internal')
      .replace('"<fill in: YYYY-MM-DD>"', '2099-12-31');
    const policy = readFileSync(join(dir, 'policies/svc.yaml'), 'utf8');
    const pasted = join(dir, 'pasted');
    mkdirSync(pasted);
    // Pasted under spec.rules as people do: indented to the list's level.
    const indented = filled
      .split('\n')
      .map((l) => (l === '' ? l : `    ${l}`))
      .join('\n');
    writeFileSync(join(pasted, 'svc.yaml'), `${policy.trimEnd()}\n${indented}`);
    const lint = await weir(['policy', 'lint', pasted]);
    expect(lint.code, `${lint.out}${lint.err}`).toBe(0);
    const check = await weir([
      'check',
      '--policy',
      pasted,
      '--no-resolve',
      '--from',
      HOSTILE,
      '--to',
      'api.example.com:443',
    ]);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toContain('rule api-example-com-443 of policy svc allows it');
    // With the placeholders left in, lint says what is still to write.
    writeFileSync(
      join(pasted, 'svc.yaml'),
      `${policy.trimEnd()}\n${templateOf(r.body)
        .rule.split('\n')
        .map((l) => (l === '' ? l : `    ${l}`))
        .join('\n')}`,
    );
    const unfilled = await weir(['policy', 'lint', pasted]);
    expect(unfilled.code).not.toBe(0);
  });
});
