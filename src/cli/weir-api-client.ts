/**
 * @module cli/weir-api-client — calls the Weir API (`/weir/v1/…`, JSON, SigV4 for service
 * `weir`) as `weir workload|token|policy bundle apply|check --endpoint` do, finding endpoint,
 * credentials and region as `weir ec2` does: `--endpoint-url`, `--profile`, `--region`, the
 * AWS environment and files, else the local Weir data dir (`WEIR_DATA_DIR` or `./weir-data`).
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { Command } from 'commander';
import { request as httpsRequest } from 'node:https';
import { WEIR_API_PREFIX, WEIR_SIGNING_SERVICE } from '../api/index.js';
import { WeirError } from '../model/index.js';
import { ConfigError, resolveConfig, sigV4Signer } from './ec2/index.js';
import type { Credentials } from './ec2/index.js';

/** Where and as whom to call. */
export interface WeirApiTarget {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: Credentials;
  /** CA certificates (PEM) an `https://` endpoint's certificate must chain to: `AWS_CA_BUNDLE`, `ca_bundle`. */
  readonly ca?: string;
}

/** The connection options every API-mode command takes. */
export interface ApiFlags {
  endpointUrl?: string;
  profile?: string;
  region?: string;
}

/** Resolves endpoint, credentials and region; a problem is a `WeirError` naming the fix. */
export function resolveApiTarget(
  flags: ApiFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): WeirApiTarget {
  let cfg;
  try {
    cfg = resolveConfig(
      'ec2',
      {
        signRequest: true,
        ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
        ...(flags.region !== undefined ? { region: flags.region } : {}),
        ...(flags.endpointUrl !== undefined ? { endpointUrl: flags.endpointUrl } : {}),
      },
      { env, cwd },
    );
  } catch (err) {
    throw new WeirError('InvalidArgument', err instanceof ConfigError ? err.message : String(err));
  }
  if (cfg.endpointUrl === undefined) {
    throw new WeirError(
      'InvalidArgument',
      'no Weir endpoint: give --endpoint-url URL, or run where ./weir-data (or WEIR_DATA_DIR) is the data dir of a running weir serve',
    );
  }
  let endpoint: URL;
  try {
    endpoint = new URL(cfg.endpointUrl);
  } catch {
    throw new WeirError(
      'InvalidArgument',
      `--endpoint-url must be a URL such as http://127.0.0.1:8484, got '${cfg.endpointUrl}'`,
    );
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new WeirError(
      'InvalidArgument',
      `--endpoint-url must be http:// or https://, got '${cfg.endpointUrl}'`,
    );
  }
  // An explicit endpoint with no credentials configured: the local data dir's key, as zero-config uses.
  if (cfg.credentials === undefined && flags.endpointUrl !== undefined && flags.profile === undefined) {
    let local;
    try {
      local = resolveConfig('ec2', { signRequest: true }, { env, cwd });
    } catch {
      local = undefined;
    }
    if (local?.localWeir !== undefined && local.credentials !== undefined) {
      cfg = { ...cfg, credentials: local.credentials, region: cfg.region ?? local.region };
    }
  }
  if (cfg.credentials === undefined) {
    throw new WeirError(
      'InvalidArgument',
      'no credentials: give --profile NAME (AWS_SHARED_CREDENTIALS_FILE=weir-data/credentials) or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
  }
  let ca: string | undefined;
  if (cfg.caBundle !== undefined) {
    try {
      ca = readFileSync(cfg.caBundle, 'utf8');
    } catch {
      throw new WeirError(
        'InvalidArgument',
        `cannot read the CA bundle ${cfg.caBundle} (AWS_CA_BUNDLE or ca_bundle)`,
      );
    }
  }
  return {
    endpoint,
    region: cfg.region ?? 'us-east-1',
    credentials: cfg.credentials,
    ...(ca !== undefined ? { ca } : {}),
  };
}

/** An error answer of the Weir API. */
export class WeirApiCallError extends WeirError {
  constructor(
    readonly apiCode: string,
    readonly status: number,
    message: string,
  ) {
    super('ApiError', `${apiCode}: ${message}`);
  }
}

/**
 * Sends one signed request to `/weir/v1/<resource>` and returns the parsed JSON answer.
 * @throws WeirApiCallError for an error answer, WeirError when the server cannot be reached.
 */
export async function callWeirApi(
  target: WeirApiTarget,
  call: {
    method: 'GET' | 'POST' | 'PUT';
    resource: string;
    query?: Readonly<Record<string, string>>;
    json?: unknown;
    raw?: Buffer;
  },
): Promise<Record<string, unknown>> {
  const base = target.endpoint.pathname.replace(/\/+$/, '');
  const path = `${base}${WEIR_API_PREFIX}${call.resource}`;
  const body =
    call.raw ?? (call.json !== undefined ? Buffer.from(JSON.stringify(call.json)) : Buffer.alloc(0));
  const headers: Record<string, string> = { host: target.endpoint.host };
  if (body.length > 0) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  const signer = sigV4Signer(WEIR_SIGNING_SERVICE, target.region, target.credentials);
  const signed = await signer.sign({
    method: call.method,
    protocol: target.endpoint.protocol,
    hostname: target.endpoint.hostname,
    ...(target.endpoint.port !== '' ? { port: Number(target.endpoint.port) } : {}),
    path,
    query: { ...(call.query ?? {}) },
    headers,
    body,
  });
  const qs = new URLSearchParams(call.query ?? {}).toString();
  const url = new URL(`${path}${qs ? `?${qs}` : ''}`, target.endpoint);
  const response = await new Promise<{ status: number; text: string }>((resolvePromise, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: call.method, headers: signed.headers, ...(target.ca !== undefined ? { ca: target.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(
        new WeirError(
          'ConnectionError',
          `cannot reach the Weir API at ${target.endpoint.href} (${err.message}); is weir serve running?`,
        ),
      ),
    );
    req.end(body);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.text);
  } catch {
    throw new WeirError(
      'ApiError',
      `${target.endpoint.href} answered HTTP ${response.status} without JSON: is it a Weir server?`,
    );
  }
  const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (response.status >= 400) {
    const e = (obj.error ?? {}) as { code?: unknown; message?: unknown };
    throw new WeirApiCallError(
      String(e.code ?? `HTTP${response.status}`),
      response.status,
      String(e.message ?? response.text.trim()),
    );
  }
  return obj;
}

/** Adds `--endpoint-url`, `--profile`, `--region` to an API-mode command. */
export function apiOptions(cmd: Command): Command {
  return cmd
    .option(
      '--endpoint-url <url>',
      'the Weir API (default: the local weir serve of ./weir-data or WEIR_DATA_DIR)',
    )
    .option('--profile <name>', 'credentials profile (AWS shared-credentials file)')
    .option('--region <region>', "the namespace region (default: the profile's, else us-east-1)");
}
