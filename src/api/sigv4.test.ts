/**
 * @module api/sigv4.test — SigV4 verification against requests signed by the real signers
 * (@smithy/signature-v4, botocore, @aws-sdk/client-ec2, the aws CLI) and sent over real sockets,
 * plus every failure EC2 answers.
 */

import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Sha256 } from '@aws-crypto/sha256-js';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ec2Error } from '../model/index.js';
import { type AccessKey, KeyRing } from './credentials.js';
import {
  type SigV4Request,
  headersFromRaw,
  parseAuthScope,
  splitRequestTarget,
  verifySigV4,
} from './sigv4.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const KEY: AccessKey = {
  accessKeyId: KEY_ID,
  secretAccessKey: SECRET,
  accountId: '123456789012',
  role: 'admin',
  profile: 'weir',
  principal: 'weir',
};
const KEYS = new KeyRing([
  KEY,
  // AWS's published SigV4 test-suite key, for the known-answer vectors.
  {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    accountId: '123456789012',
    role: 'readonly',
    profile: 'suite',
    principal: 'suite',
  },
]);
const SIGNED_AT = new Date('2024-05-24T12:00:00Z');
// Values EC2 filters can hold that need encoding: space, '/', '+', '*', non-ASCII, quotes; '~' must stay.
const TRICKY = 'a b/c+d*e~f é✓ "q" 100%';
const FORM =
  'Action=DescribeSecurityGroups&Version=2016-11-15&Filter.1.Name=description&Filter.1.Value.1=' +
  encodeURIComponent(TRICKY).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// ---------------------------------------------------------------------------------------------
// A loopback server that records each raw request, so verification sees exactly the wire form.

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

let server: Server;
let port: number;
const captured: Captured[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      });
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidRequest</Code>' +
          '<Message>captured</Message></Error></Errors><RequestID>test</RequestID></Response>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function lastCaptured(): Captured {
  const c = captured.pop();
  if (c === undefined) throw new Error('no request captured');
  captured.length = 0;
  return c;
}

function toSigV4(c: Captured, raw = false): SigV4Request {
  const { path, query } = splitRequestTarget(c.url);
  return {
    method: c.method,
    path,
    query,
    headers: raw ? headersFromRaw(c.rawHeaders) : c.headers,
    body: c.body,
  };
}

function signer(secretAccessKey = SECRET, accessKeyId = KEY_ID): SignatureV4 {
  return new SignatureV4({
    service: 'ec2',
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    sha256: Sha256,
  });
}

function ec2Post(body = FORM): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: '/',
    query: {},
    headers: {
      host: `127.0.0.1:${port}`,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  });
}

function ec2Get(query: Record<string, string | string[]>): HttpRequest {
  return new HttpRequest({
    method: 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: '/',
    query,
    headers: { host: `127.0.0.1:${port}` },
  });
}

/** Sends a smithy request with the SDK's own Node transport and returns what the server saw. */
async function send(request: HttpRequest): Promise<Captured> {
  const { response } = await new NodeHttpHandler().handle(request);
  // Drain the reply so the socket is released.
  const body = response.body as Readable;
  body.resume();
  await once(body, 'end');
  return lastCaptured();
}

async function signedPost(
  options: { secret?: string; accessKeyId?: string; body?: string } = {},
): Promise<SigV4Request> {
  const signed = await signer(options.secret, options.accessKeyId).sign(ec2Post(options.body), {
    signingDate: SIGNED_AT,
  });
  return toSigV4(await send(signed as HttpRequest));
}

function ec2ErrorOf(fn: () => unknown): Ec2Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof Ec2Error) return err;
    throw err;
  }
  throw new Error('expected an Ec2Error');
}

function withHeaders(
  req: SigV4Request,
  changes: Record<string, string | string[] | undefined>,
): SigV4Request {
  const headers: Record<string, string | readonly string[] | undefined> = { ...req.headers };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...req, headers };
}

const at = (offsetMs: number): Date => new Date(SIGNED_AT.getTime() + offsetMs);

// ---------------------------------------------------------------------------------------------

describe('verifySigV4 accepts real signers', () => {
  it('smithy header auth, form POST with characters that need encoding', async () => {
    const req = await signedPost();
    expect(req.body.toString()).toContain('Filter.1.Value.1=a%20b%2Fc%2Bd%2Ae~f%20%C3%A9');
    const result = verifySigV4(req, KEYS, SIGNED_AT);
    expect(result.key.accessKeyId).toBe(KEY_ID);
    expect(result.key.role).toBe('admin');
    expect(result).toMatchObject({ region: 'us-east-1', service: 'ec2' });
  });

  it('smithy header auth, same request with headers from rawHeaders', async () => {
    const signed = await signer().sign(ec2Post(), { signingDate: SIGNED_AT });
    const req = toSigV4(await send(signed as HttpRequest), true);
    expect(verifySigV4(req, KEYS, SIGNED_AT).service).toBe('ec2');
  });

  it('smithy header auth, GET with query parameters (repeated keys, encoding, tilde)', async () => {
    const signed = await signer().sign(
      ec2Get({
        Action: 'DescribeSecurityGroups',
        Version: '2016-11-15',
        'Filter.1.Name': 'description',
        'Filter.1.Value.1': TRICKY,
        'GroupName.1': 'web~prod',
        Multi: ['b', 'a', 'a b'],
      }),
      { signingDate: SIGNED_AT },
    );
    const captured = await send(signed as HttpRequest);
    expect(captured.url).toContain('web~prod');
    expect(verifySigV4(toSigV4(captured), KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
  });

  it('smithy presigned GET (query auth), also passing parsed URLSearchParams', async () => {
    const presigned = await signer().presign(
      ec2Get({ Action: 'DescribeSecurityGroups', Version: '2016-11-15', 'Filter.1.Value.1': TRICKY }),
      { signingDate: SIGNED_AT, expiresIn: 300 },
    );
    const req = toSigV4(await send(presigned as HttpRequest));
    expect(req.headers['authorization']).toBeUndefined();
    expect(verifySigV4(req, KEYS, at(299_000)).region).toBe('us-east-1');
    const parsed = { ...req, query: new URLSearchParams(req.query as string) };
    expect(verifySigV4(parsed, KEYS, at(1000)).service).toBe('ec2');
  });

  it('smithy presigned POST with a signed body', async () => {
    const presigned = await signer().presign(ec2Post(), { signingDate: SIGNED_AT, expiresIn: 60 });
    const req = toSigV4(await send(presigned as HttpRequest));
    expect(req.body.length).toBeGreaterThan(0);
    expect(verifySigV4(req, KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
    const tampered = { ...req, body: Buffer.from(FORM.replace('Describe', 'Delete')) };
    expect(ec2ErrorOf(() => verifySigV4(tampered, KEYS, SIGNED_AT)).code).toBe('SignatureDoesNotMatch');
  });

  it('a presigned empty-body request signed over UNSIGNED-PAYLOAD', async () => {
    const request = ec2Get({ Action: 'DescribeRegions', Version: '2016-11-15' });
    request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const presigned = await signer().presign(request, { signingDate: SIGNED_AT });
    const req = toSigV4(await send(presigned as HttpRequest));
    expect(verifySigV4(req, KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
  });

  it('AWS SigV4 test-suite vector get-vanilla (X-Amz-Date)', () => {
    const req: SigV4Request = {
      method: 'GET',
      path: '/',
      query: '',
      headers: {
        host: 'example.amazonaws.com',
        'x-amz-date': '20150830T123600Z',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
          'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      },
      body: Buffer.alloc(0),
    };
    const result = verifySigV4(req, KEYS, new Date('2015-08-30T12:36:00Z'));
    expect(result).toMatchObject({ region: 'us-east-1', service: 'service' });
    expect(result.key.profile).toBe('suite');
  });

  it('AWS SigV4 test-suite vector get-vanilla (2011, Date header)', () => {
    const req: SigV4Request = {
      method: 'GET',
      path: '/',
      query: '',
      headers: {
        host: 'host.foo.com',
        date: 'Mon, 09 Sep 2011 23:36:00 GMT',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, ' +
          'SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470',
      },
      body: Buffer.alloc(0),
    };
    expect(verifySigV4(req, KEYS, new Date('2011-09-09T23:38:00Z')).service).toBe('host');
  });
});

// botocore is what the aws CLI v1 and boto3 sign with.
const hasBotocore = requireTool(
  'botocore (python3)',
  pythonImports('botocore'),
  'python3 cannot import botocore',
);
const hasAwsCli = requireTool('aws', probe('aws', ['--version']), 'no aws on PATH');

const BOTOCORE_SIGN = `
import base64, json, sys
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
spec = json.loads(sys.argv[1])
creds = Credentials(spec['accessKeyId'], spec['secret'])
req = AWSRequest(method=spec['method'], url=spec['url'], params=spec.get('params') or {},
                 data=spec.get('form') or spec.get('body', '').encode('utf-8'),
                 headers=spec.get('headers') or {})
if spec.get('presign'):
    SigV4QueryAuth(creds, 'ec2', spec['region'], expires=spec['presign']).add_auth(req)
else:
    SigV4Auth(creds, 'ec2', spec['region']).add_auth(req)
p = req.prepare()
print(json.dumps({'method': p.method, 'url': p.url, 'headers': dict(p.headers),
                  'body': base64.b64encode(p.body or b'').decode('ascii')}))
`;
import { probe, pythonImports, requireTool } from '../../test/helpers/tools.js';

interface BotocoreSigned {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

function botocoreSign(spec: Record<string, unknown>): BotocoreSigned {
  const out = spawnSync('python3', ['-c', BOTOCORE_SIGN, JSON.stringify(spec)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`botocore signing failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as BotocoreSigned;
}

/** Sends what botocore prepared over a real socket (Node adds Host from the URL, as urllib3 does). */
async function sendRaw(signed: BotocoreSigned): Promise<Captured> {
  const url = new URL(signed.url);
  const body = Buffer.from(signed.body, 'base64');
  const response = await fetch(url, {
    method: signed.method,
    headers: signed.headers,
    ...(body.length > 0 ? { body } : {}),
  });
  await response.arrayBuffer();
  return lastCaptured();
}

describe.skipIf(!hasBotocore)(
  'verifySigV4 accepts botocore (skipped: python3 cannot import botocore)',
  () => {
    it('SigV4Auth, form POST like the aws CLI sends', async () => {
      const signed = botocoreSign({
        accessKeyId: KEY_ID,
        secret: SECRET,
        region: 'eu-west-2',
        method: 'POST',
        url: `http://127.0.0.1:${port}/`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: FORM,
      });
      const req = toSigV4(await sendRaw(signed));
      expect(req.headers['x-amz-content-sha256']).toBeUndefined();
      expect(verifySigV4(req, KEYS, new Date())).toMatchObject({ region: 'eu-west-2', service: 'ec2' });
    });

    it('SigV4Auth, GET with query parameters (botocore sends spaces as +)', async () => {
      const signed = botocoreSign({
        accessKeyId: KEY_ID,
        secret: SECRET,
        region: 'us-east-1',
        method: 'GET',
        url: `http://127.0.0.1:${port}/`,
        params: { Action: 'DescribeSecurityGroups', Version: '2016-11-15', 'Filter.1.Value.1': TRICKY },
      });
      const req = toSigV4(await sendRaw(signed));
      expect(req.query).toContain('a+b');
      expect(verifySigV4(req, KEYS, new Date()).key.accessKeyId).toBe(KEY_ID);
    });

    it('SigV4QueryAuth, presigned (botocore moves the body into the query)', async () => {
      const signed = botocoreSign({
        accessKeyId: KEY_ID,
        secret: SECRET,
        region: 'us-east-1',
        method: 'POST',
        url: `http://127.0.0.1:${port}/`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        form: Object.fromEntries(new URLSearchParams(FORM)),
        presign: 120,
      });
      const req = toSigV4(await sendRaw(signed));
      expect(req.query).toContain('X-Amz-Signature=');
      expect(req.query).toContain('Action=DescribeSecurityGroups');
      expect(req.body.length).toBe(0);
      expect(verifySigV4(req, KEYS, new Date()).key.accessKeyId).toBe(KEY_ID);
      expect(ec2ErrorOf(() => verifySigV4(req, KEYS, new Date(Date.now() + 121_000))).code).toBe(
        'RequestExpired',
      );
    });
  },
);

describe.skipIf(!hasAwsCli)('verifySigV4 accepts the aws CLI (skipped: no aws on PATH)', () => {
  it('aws ec2 describe-security-groups', async () => {
    const run = promisify(execFile);
    const cli = run(
      'aws',
      [
        'ec2',
        'describe-security-groups',
        '--endpoint-url',
        `http://127.0.0.1:${port}`,
        '--region',
        'ap-south-1',
        '--filters',
        `Name=description,Values=${TRICKY.replace(/[,"]/g, '')}`,
      ],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          AWS_ACCESS_KEY_ID: KEY_ID,
          AWS_SECRET_ACCESS_KEY: SECRET,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_MAX_ATTEMPTS: '1',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    await expect(cli).rejects.toThrow(/InvalidRequest/);
    const req = toSigV4(lastCaptured());
    expect(req.body.toString()).toContain('Action=DescribeSecurityGroups');
    expect(verifySigV4(req, KEYS, new Date())).toMatchObject({ region: 'ap-south-1', service: 'ec2' });
  });
});

describe('verifySigV4 accepts @aws-sdk/client-ec2', () => {
  it('DescribeSecurityGroupsCommand over a real socket', async () => {
    const client = new EC2Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
      maxAttempts: 1,
    });
    await expect(
      client.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: 'description', Values: [TRICKY] }],
          GroupNames: ['web~prod', 'a/b'],
        }),
      ),
    ).rejects.toThrow(/captured/);
    client.destroy();
    const req = toSigV4(lastCaptured());
    expect(req.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\//);
    expect(verifySigV4(req, KEYS, new Date())).toMatchObject({ region: 'us-east-1', service: 'ec2' });
  });
});

// ---------------------------------------------------------------------------------------------

describe('verifySigV4 rejects', () => {
  let good: SigV4Request;
  let authorization: string;
  beforeAll(async () => {
    good = await signedPost();
    authorization = good.headers['authorization'] as string;
    expect(verifySigV4(good, KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
  });

  it('a request without any authentication (MissingParameter, as EC2 answers)', () => {
    const err = ec2ErrorOf(() =>
      verifySigV4(withHeaders(good, { authorization: undefined }), KEYS, SIGNED_AT),
    );
    expect(err.code).toBe('MissingParameter');
    expect(err.message).toBe('The request must contain the parameter AWSAccessKeyId');
    expect(err.status).toBe(400);
  });

  const scope = `${KEY_ID}/20240524/us-east-1/ec2/aws4_request`;
  const sig = 'a'.repeat(64);
  it.each([
    [
      'no Credential',
      `AWS4-HMAC-SHA256 SignedHeaders=host, Signature=${sig}`,
      /requires 'Credential' parameter/,
    ],
    [
      'no SignedHeaders',
      `AWS4-HMAC-SHA256 Credential=${scope}, Signature=${sig}`,
      /requires 'SignedHeaders'/,
    ],
    [
      'no Signature',
      `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=host`,
      /requires 'Signature' parameter/,
    ],
    [
      'empty Signature',
      `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=host, Signature=`,
      /'Signature'/,
    ],
    ['only the algorithm', 'AWS4-HMAC-SHA256', /requires 'Credential'/],
    ['SigV2-style header', `AWS ${KEY_ID}:c2lnbmF0dXJl`, /Unsupported AWS 'algorithm': 'AWS'/],
    [
      'unsupported algorithm',
      `AWS4-HMAC-SHA512 Credential=${scope}, SignedHeaders=host, Signature=${sig}`,
      /Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'/,
    ],
    [
      'component without =',
      `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders, Signature=${sig}`,
      /each component to appear once/,
    ],
    [
      'repeated component',
      `AWS4-HMAC-SHA256 Credential=${scope}, Credential=${scope}, SignedHeaders=host, Signature=${sig}`,
      /each component to appear once/,
    ],
    [
      'scope with 4 parts',
      `AWS4-HMAC-SHA256 Credential=${KEY_ID}/20240524/us-east-1/ec2, SignedHeaders=host, Signature=${sig}`,
      /exactly 5 slash-delimited elements/,
    ],
    [
      'bad terminator',
      `AWS4-HMAC-SHA256 Credential=${KEY_ID}/20240524/us-east-1/ec2/aws4, SignedHeaders=host, Signature=${sig}`,
      /valid terminator: 'aws4_request', not 'aws4'/,
    ],
    [
      'bad scope date',
      `AWS4-HMAC-SHA256 Credential=${KEY_ID}/2024-05-24/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${sig}`,
      /valid date \(YYYYMMDD\), not '2024-05-24'/,
    ],
    [
      'bad region',
      `AWS4-HMAC-SHA256 Credential=${KEY_ID}/20240524/../ec2/aws4_request, SignedHeaders=host, Signature=${sig}`,
      /valid region, not '..'/,
    ],
    [
      'empty access key id',
      `AWS4-HMAC-SHA256 Credential=/20240524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${sig}`,
      /start with an access key id/,
    ],
    [
      'upper-case signed header',
      `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=Host;x-amz-date, Signature=${sig}`,
      /SignedHeaders must be distinct lower-case/,
    ],
    [
      'repeated signed header',
      `AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=host;host, Signature=${sig}`,
      /SignedHeaders must be distinct lower-case/,
    ],
  ])('a malformed Authorization header: %s (IncompleteSignature)', (_name, header, message) => {
    const err = ec2ErrorOf(() => verifySigV4(withHeaders(good, { authorization: header }), KEYS, SIGNED_AT));
    expect(err.code).toBe('IncompleteSignature');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(sig);
  });

  it('a signature that is not 64 hex digits (SignatureDoesNotMatch)', () => {
    const header = authorization.replace(/Signature=\w+/, 'Signature=ABCDEF');
    expect(
      ec2ErrorOf(() => verifySigV4(withHeaders(good, { authorization: header }), KEYS, SIGNED_AT)).code,
    ).toBe('SignatureDoesNotMatch');
  });

  it('a request without X-Amz-Date or Date (IncompleteSignature)', () => {
    const err = ec2ErrorOf(() =>
      verifySigV4(withHeaders(good, { 'x-amz-date': undefined }), KEYS, SIGNED_AT),
    );
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toMatch(
      /^Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header/,
    );
    expect(err.message).toContain('Signature=<redacted>');
    expect(err.message).not.toMatch(/Signature=[0-9a-f]{64}/);
  });

  it.each([
    '2024-05-24T12:00:00Z',
    '20240524T120000',
    '20241324T120000Z',
    '20240230T120000Z',
    '20240524T250000Z',
  ])('a malformed X-Amz-Date %s (IncompleteSignature)', (date) => {
    const err = ec2ErrorOf(() => verifySigV4(withHeaders(good, { 'x-amz-date': date }), KEYS, SIGNED_AT));
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toMatch(/ISO-8601 'basic format'/);
  });

  it('two X-Amz-Date headers (IncompleteSignature)', () => {
    const date = good.headers['x-amz-date'] as string;
    const err = ec2ErrorOf(() =>
      verifySigV4(withHeaders(good, { 'x-amz-date': [date, date] }), KEYS, SIGNED_AT),
    );
    expect(err.code).toBe('IncompleteSignature');
  });

  it('two Host headers (IncompleteSignature)', () => {
    const host = good.headers['host'] as string;
    const err = ec2ErrorOf(() =>
      verifySigV4(withHeaders(good, { host: [host, 'evil.example'] }), KEYS, SIGNED_AT),
    );
    expect(err).toMatchObject({
      code: 'IncompleteSignature',
      message: 'The request has more than one Host header.',
    });
  });

  it('both an Authorization header and X-Amz-Signature (IncompleteSignature)', () => {
    const err = ec2ErrorOf(() => verifySigV4({ ...good, query: `X-Amz-Signature=${sig}` }, KEYS, SIGNED_AT));
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toMatch(/^Only one auth mechanism allowed/);
  });

  it('an unknown access key (AuthFailure)', async () => {
    const req = await signedPost({ accessKeyId: 'AKIAUNKNOWNKEY000000' });
    const err = ec2ErrorOf(() => verifySigV4(req, KEYS, SIGNED_AT));
    expect(err).toMatchObject({
      code: 'AuthFailure',
      status: 401,
      message: 'AWS was not able to validate the provided access credentials',
    });
  });

  it('the wrong secret (SignatureDoesNotMatch), without revealing either secret', async () => {
    const req = await signedPost({ secret: 'wrongwrongwrongwrongwrongwrongwrongwrong' });
    const err = ec2ErrorOf(() => verifySigV4(req, KEYS, SIGNED_AT));
    expect(err).toMatchObject({
      code: 'SignatureDoesNotMatch',
      status: 403,
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
        'Access Key and signing method. Consult the service documentation for details.',
    });
    expect(err.message).not.toContain(SECRET);
  });

  it('a tampered body that still carries the signed x-amz-content-sha256 (SignatureDoesNotMatch)', () => {
    const body = Buffer.from(FORM.replace('DescribeSecurityGroups', 'DeleteSecurityGroup'));
    const err = ec2ErrorOf(() => verifySigV4({ ...good, body }, KEYS, SIGNED_AT));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toBe("The provided 'x-amz-content-sha256' header does not match what was computed.");
  });

  it('a tampered body with the hash header recomputed, or dropped (SignatureDoesNotMatch)', async () => {
    const body = Buffer.from(FORM.replace('DescribeSecurityGroups', 'DeleteSecurityGroup'));
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(body).digest('hex');
    const recomputed = withHeaders({ ...good, body }, { 'x-amz-content-sha256': hash });
    expect(ec2ErrorOf(() => verifySigV4(recomputed, KEYS, SIGNED_AT)).message).toMatch(
      /^The request signature/,
    );
    const dropped = withHeaders({ ...good, body }, { 'x-amz-content-sha256': undefined });
    expect(ec2ErrorOf(() => verifySigV4(dropped, KEYS, SIGNED_AT)).code).toBe('SignatureDoesNotMatch');
  });

  it.each([
    ['a signed header changed', { 'content-type': 'text/plain' }],
    ['the host changed', { host: 'other.example:8484' }],
    ['X-Amz-Date moved within the window', { 'x-amz-date': '20240524T120100Z' }],
  ])('%s (SignatureDoesNotMatch)', (_name, change) => {
    expect(ec2ErrorOf(() => verifySigV4(withHeaders(good, change), KEYS, SIGNED_AT)).code).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('an added query parameter or a changed method or path (SignatureDoesNotMatch)', () => {
    for (const req of [
      { ...good, query: 'DryRun=true' },
      { ...good, method: 'PUT' },
      { ...good, path: '/x' },
    ]) {
      expect(ec2ErrorOf(() => verifySigV4(req, KEYS, SIGNED_AT)).code).toBe('SignatureDoesNotMatch');
    }
  });

  it('unsigned headers may change (user-agent is never signed)', () => {
    expect(verifySigV4(withHeaders(good, { 'user-agent': 'curl/8' }), KEYS, SIGNED_AT).key.accessKeyId).toBe(
      KEY_ID,
    );
  });

  it('header auth outside ±5 minutes (RequestExpired), inside is fine', () => {
    expect(verifySigV4(good, KEYS, at(5 * 60_000)).key.accessKeyId).toBe(KEY_ID);
    expect(verifySigV4(good, KEYS, at(-5 * 60_000)).key.accessKeyId).toBe(KEY_ID);
    const late = ec2ErrorOf(() => verifySigV4(good, KEYS, at(5 * 60_000 + 1000)));
    expect(late).toMatchObject({
      code: 'RequestExpired',
      status: 400,
      message:
        'Signature expired: 20240524T120000Z is now earlier than 20240524T120001Z (20240524T120501Z - 5 min.)',
    });
    const early = ec2ErrorOf(() => verifySigV4(good, KEYS, at(-5 * 60_000 - 1000)));
    expect(early).toMatchObject({
      code: 'RequestExpired',
      message:
        'Signature not yet current: 20240524T120000Z is still later than 20240524T115959Z (20240524T115459Z + 5 min.)',
    });
  });

  it('a presigned request past X-Amz-Expires (RequestExpired)', async () => {
    const presigned = await signer().presign(ec2Get({ Action: 'DescribeRegions', Version: '2016-11-15' }), {
      signingDate: SIGNED_AT,
      expiresIn: 60,
    });
    const req = toSigV4(await send(presigned as HttpRequest));
    expect(verifySigV4(req, KEYS, at(60_000)).key.accessKeyId).toBe(KEY_ID);
    expect(ec2ErrorOf(() => verifySigV4(req, KEYS, at(61_000)))).toMatchObject({
      code: 'RequestExpired',
      message: 'Request has expired.',
    });
    expect(ec2ErrorOf(() => verifySigV4(req, KEYS, at(-6 * 60_000))).message).toMatch(
      /^Signature not yet current/,
    );
  });

  it.each([
    ['X-Amz-Signature', /must include 'X-Amz-Signature'/],
    ['X-Amz-Credential', /must include 'X-Amz-Credential'/],
    ['X-Amz-Date', /must include 'X-Amz-Date'/],
    ['X-Amz-Expires', /must include 'X-Amz-Expires'/],
    ['X-Amz-SignedHeaders', /must include 'X-Amz-SignedHeaders'/],
  ])('a presigned request without %s (IncompleteSignature)', async (param, message) => {
    const presigned = await signer().presign(ec2Get({ Action: 'DescribeRegions' }), {
      signingDate: SIGNED_AT,
    });
    const req = toSigV4(await send(presigned as HttpRequest));
    const query = new URLSearchParams(req.query as string);
    query.delete(param);
    const err = ec2ErrorOf(() => verifySigV4({ ...req, query: query.toString() }, KEYS, SIGNED_AT));
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toMatch(message);
  });

  it.each([
    ['604801', /X-Amz-Expires must be a whole number of seconds from 1 to 604800/],
    ['0', /X-Amz-Expires must be/],
    ['1.5', /X-Amz-Expires must be/],
    ['abc', /X-Amz-Expires must be/],
  ])('a presigned request with X-Amz-Expires=%s (IncompleteSignature)', async (expires, message) => {
    const presigned = await signer().presign(ec2Get({ Action: 'DescribeRegions' }), {
      signingDate: SIGNED_AT,
    });
    const req = toSigV4(await send(presigned as HttpRequest));
    const query = new URLSearchParams(req.query as string);
    query.set('X-Amz-Expires', expires);
    const err = ec2ErrorOf(() => verifySigV4({ ...req, query: query.toString() }, KEYS, SIGNED_AT));
    expect(err.code).toBe('IncompleteSignature');
    expect(err.message).toMatch(message);
  });

  it('a presigned request with an unsupported X-Amz-Algorithm or a duplicated parameter', async () => {
    const presigned = await signer().presign(ec2Get({ Action: 'DescribeRegions' }), {
      signingDate: SIGNED_AT,
    });
    const req = toSigV4(await send(presigned as HttpRequest));
    const bad = new URLSearchParams(req.query as string);
    bad.set('X-Amz-Algorithm', 'AWS4-ECDSA-P256-SHA256');
    expect(ec2ErrorOf(() => verifySigV4({ ...req, query: bad.toString() }, KEYS, SIGNED_AT)).message).toMatch(
      /X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"/,
    );
    const twice = `${req.query as string}&X-Amz-Signature=${sig}`;
    expect(ec2ErrorOf(() => verifySigV4({ ...req, query: twice }, KEYS, SIGNED_AT)).message).toMatch(
      /'X-Amz-Signature' must appear once/,
    );
  });

  it('a credential-scope date that is not the request date (SignatureDoesNotMatch)', () => {
    const req = withHeaders(good, { 'x-amz-date': '20240525T000100Z' });
    const err = ec2ErrorOf(() => verifySigV4(req, KEYS, new Date('2024-05-25T00:01:00Z')));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.message).toBe(
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240524' != " +
        "'20240525', from '20240525T000100Z'.",
    );
  });

  it('a signature that does not cover host (IncompleteSignature)', async () => {
    const signed = await signer().sign(ec2Post(), {
      signingDate: SIGNED_AT,
      unsignableHeaders: new Set(['host']),
    });
    const req = toSigV4(await send(signed as HttpRequest));
    expect(req.headers['authorization']).not.toMatch(/SignedHeaders=[^,]*host/);
    expect(ec2ErrorOf(() => verifySigV4(req, KEYS, SIGNED_AT))).toMatchObject({
      code: 'IncompleteSignature',
      message: "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    });
  });

  it('UNSIGNED-PAYLOAD with a body, which would leave the action unsigned (IncompleteSignature)', async () => {
    const request = ec2Post();
    request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const signed = await signer().sign(request, { signingDate: SIGNED_AT });
    const req = toSigV4(await send(signed as HttpRequest));
    expect(ec2ErrorOf(() => verifySigV4(req, KEYS, SIGNED_AT))).toMatchObject({
      code: 'IncompleteSignature',
      message: 'UNSIGNED-PAYLOAD is not accepted for a request with a body; sign the payload.',
    });
  });

  it('an x-amz-content-sha256 that is not a hash (IncompleteSignature)', () => {
    const req = withHeaders(good, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' });
    expect(ec2ErrorOf(() => verifySigV4(req, KEYS, SIGNED_AT)).code).toBe('IncompleteSignature');
  });
});

describe('canonicalization details', () => {
  it('decodes + in the query as a space, so the dispatcher and the signature agree', async () => {
    // Signed over the value "a b"; "a+b" and "a%20b" both mean that to URLSearchParams…
    const signed = await signer().sign(ec2Get({ Action: 'X', Value: 'a b' }), { signingDate: SIGNED_AT });
    const req = toSigV4(await send(signed as HttpRequest));
    expect(req.query).toContain('Value=a%20b');
    for (const spelling of ['a%20b', 'a+b']) {
      const query = (req.query as string).replace('a%20b', spelling);
      expect(verifySigV4({ ...req, query }, KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
    }
    // …while a literal plus is a different value and a different signature.
    const plus = (req.query as string).replace('a%20b', 'a%2Bb');
    expect(ec2ErrorOf(() => verifySigV4({ ...req, query: plus }, KEYS, SIGNED_AT)).code).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('normalizes and re-encodes the path as botocore and smithy do', async () => {
    const request = ec2Get({ Action: 'X' });
    request.path = '/a%20b/./c/../d~e';
    const signed = await signer().sign(request, { signingDate: SIGNED_AT });
    const req = toSigV4(await send(signed as HttpRequest));
    expect(req.path).toBe('/a%20b/./c/../d~e');
    expect(verifySigV4(req, KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
    expect(verifySigV4({ ...req, path: '/a%20b//d~e' }, KEYS, SIGNED_AT).key.accessKeyId).toBe(KEY_ID);
    expect(ec2ErrorOf(() => verifySigV4({ ...req, path: '/a b/d~e' }, KEYS, SIGNED_AT)).code).toBe(
      'SignatureDoesNotMatch',
    );
  });

  it('trims header values, collapses inner spaces and joins repeated headers with a comma', async () => {
    const request = ec2Post();
    request.headers['x-weir-test'] = '  a   b  ';
    const signed = await signer().sign(request, { signingDate: SIGNED_AT });
    const req = toSigV4(await send(signed as HttpRequest));
    expect(verifySigV4(withHeaders(req, { 'x-weir-test': 'a \t b' }), KEYS, SIGNED_AT).service).toBe('ec2');
    // A header sent twice: smithy cannot send that, so sign "x,y" and deliver it as two values.
    const twice = ec2Post();
    twice.headers['x-weir-test'] = 'x,y';
    const signedTwice = await signer().sign(twice, { signingDate: SIGNED_AT });
    const reqTwice = toSigV4(await send(signedTwice as HttpRequest));
    expect(verifySigV4(withHeaders(reqTwice, { 'x-weir-test': [' x ', 'y'] }), KEYS, SIGNED_AT).service).toBe(
      'ec2',
    );
  });

  it('reads non-ASCII header values as the UTF-8 the signer hashed', async () => {
    const request = ec2Post();
    request.headers['x-weir-note'] = 'café ✓';
    const signed = await signer().sign(request, { signingDate: SIGNED_AT });
    // Node's http client writes header strings as latin-1, so send the UTF-8 bytes one char
    // each; the server hands them over the same way, as any Node server would.
    const wire = Buffer.from('café ✓', 'utf8').toString('latin1');
    const captured = await new Promise<Captured>((resolve, reject) => {
      const out = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/',
          headers: { ...signed.headers, 'x-weir-note': wire },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(lastCaptured()));
        },
      );
      out.on('error', reject);
      // A Buffer, not a string: Node writes headers + a string body in one utf-8 chunk, which
      // would re-encode the latin-1 header bytes.
      out.end(Buffer.from(signed.body as string));
    });
    expect(Buffer.from(captured.headers['x-weir-note'] as string, 'latin1').toString('utf8')).toBe('café ✓');
    expect(verifySigV4(toSigV4(captured), KEYS, SIGNED_AT).service).toBe('ec2');
  });
});

describe('parseAuthScope', () => {
  it('reads the scope from the header or the query without verifying', () => {
    const header = `AWS4-HMAC-SHA256 Credential=${KEY_ID}/20240524/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature=x`;
    expect(parseAuthScope({ authorization: header }, '')).toEqual({
      accessKeyId: KEY_ID,
      date: '20240524',
      region: 'eu-west-1',
      service: 'sts',
    });
    const query = `X-Amz-Credential=${encodeURIComponent(`${KEY_ID}/20240524/us-east-1/ec2/aws4_request`)}`;
    expect(parseAuthScope({}, query)?.service).toBe('ec2');
    expect(parseAuthScope({}, '')).toBeUndefined();
    expect(parseAuthScope({ authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c' }, '')).toBeUndefined();
  });

  it('splitRequestTarget separates path and query', () => {
    expect(splitRequestTarget('/?Action=X&a=b')).toEqual({ path: '/', query: 'Action=X&a=b' });
    expect(splitRequestTarget('/')).toEqual({ path: '/', query: '' });
  });
});
