/**
 * @module cli/ec2/wire/config — where a call goes and as whom, resolved as the AWS CLI resolves it:
 * profile (`--profile`, `AWS_PROFILE`), region (`--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
 * the profile's `region`), credentials (environment unless `--profile` names one, then the shared
 * credentials file, then the config file's `[profile x]`), endpoint (`--endpoint-url`,
 * `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, else AWS's).
 * With none of them and a local Weir data dir (`WEIR_DATA_DIR` or `./weir-data`), the call goes to
 * that Weir with its `credentials` file, in us-east-1.
 * Follows botocore 1.43.11's `botocore/session.py`, `botocore/configprovider.py`,
 * `botocore/credentials.py` (env, shared-credentials and config providers only) and
 * `botocore/configloader.py` (`raw_config_parse`); the local Weir fallback is Weir's own.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Static credentials for SigV4. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Where they came from, for `--debug` (`env`, `shared-credentials-file`, …). */
  readonly method: string;
}

/** Options that influence resolution, from the command line. */
export interface ConfigInputs {
  readonly profile?: string;
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly signRequest: boolean;
  readonly caBundle?: string;
}

/** The environment a run sees. */
export interface ConfigEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** What the call uses. */
export interface ResolvedConfig {
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly credentials?: Credentials;
  readonly caBundle?: string;
  readonly maxAttempts: number;
  /** The profile's `output` setting (or `AWS_DEFAULT_OUTPUT`). */
  readonly output?: string;
  /** Set when the local Weir data dir supplied endpoint, credentials and region. */
  readonly localWeir?: {
    readonly dataDir: string;
    readonly endpointFile?: string;
    readonly credentialsFile: string;
    readonly profile: string;
  };
  /** Debug lines explaining the choices. */
  readonly notes: readonly string[];
}

/** A configuration problem: AWS CLI v2 exits 253. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** No credentials anywhere: botocore's NoCredentialsError. */
export class NoCredentialsError extends ConfigError {
  constructor() {
    super('Unable to locate credentials. You can configure credentials by running "aws configure".');
  }
}

/** No region anywhere: botocore's NoRegionError. */
export class NoRegionError extends ConfigError {
  constructor() {
    super('You must specify a region. You can also configure your region by running "aws configure".');
  }
}

type Ini = Map<string, Map<string, string>>;

/** botocore's ini reading: `[section]`, `key = value`, comments, indented sub-sections skipped. */
export function parseIni(text: string): Ini {
  const out: Ini = new Map();
  let current: Map<string, string> | undefined;
  let nestedUnder: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(rawLine)) continue;
    const section = /^\[\s*(.*?)\s*\]\s*$/.exec(rawLine);
    if (section) {
      current = new Map();
      out.set(section[1]!, current);
      nestedUnder = undefined;
      continue;
    }
    if (!current) continue;
    if (/^\s/.test(rawLine) && nestedUnder !== undefined) continue;
    const kv = /^\s*([^=:]+?)\s*[=:]\s*(.*?)\s*$/.exec(rawLine);
    if (!kv) continue;
    current.set(kv[1]!, kv[2]!);
    nestedUnder = kv[2] === '' ? kv[1] : undefined;
  }
  return out;
}

function readIni(path: string): Ini {
  try {
    return parseIni(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

function expandHome(path: string, env: Readonly<Record<string, string | undefined>>): string {
  if (path === '~' || path.startsWith('~/')) return (env.HOME ?? homedir()) + path.slice(1);
  return path;
}

/** Where the local Weir data dir is, whether or not it exists: `WEIR_DATA_DIR`, else `./weir-data`. */
export function localDataDirPath(cfg: ConfigEnv): string {
  const named = cfg.env.WEIR_DATA_DIR;
  return named !== undefined && named !== '' ? resolve(cfg.cwd, named) : join(cfg.cwd, 'weir-data');
}

/** The local Weir data dir, if there is one (`localDataDirPath`). */
export function findLocalDataDir(cfg: ConfigEnv): string | undefined {
  const dir = localDataDirPath(cfg);
  try {
    return statSync(dir).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Weir's default API address, used when the data dir records none. */
export const DEFAULT_WEIR_ENDPOINT = 'http://127.0.0.1:8484';

function fromSection(section: Map<string, string> | undefined, method: string): Credentials | undefined {
  if (!section) return undefined;
  const id = section.get('aws_access_key_id');
  const secret = section.get('aws_secret_access_key');
  if (id === undefined && secret === undefined) return undefined;
  if (id === undefined || secret === undefined) {
    throw new ConfigError(
      `Partial credentials found in ${method}, missing: ${id === undefined ? 'aws_access_key_id' : 'aws_secret_access_key'}`,
    );
  }
  const token = section.get('aws_session_token') ?? section.get('aws_security_token');
  return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}), method };
}

/**
 * Resolves region, endpoint and credentials for `service`.
 * @throws ConfigError for a named profile that does not exist or partial credentials.
 */
export function resolveConfig(service: 'ec2' | 'sts', inputs: ConfigInputs, cfg: ConfigEnv): ResolvedConfig {
  const env = cfg.env;
  const notes: string[] = [];
  const nonEmpty = (v: string | undefined): string | undefined =>
    v === undefined || v === '' ? undefined : v;
  const explicitProfile = inputs.profile;
  const profile = explicitProfile ?? nonEmpty(env.AWS_PROFILE) ?? nonEmpty(env.AWS_DEFAULT_PROFILE);
  const profileName = profile ?? 'default';
  const configPath = expandHome(nonEmpty(env.AWS_CONFIG_FILE) ?? '~/.aws/config', env);
  const credsPath = expandHome(nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? '~/.aws/credentials', env);
  const config = readIni(configPath);
  const creds = readIni(credsPath);
  const configSection =
    profileName === 'default'
      ? (config.get('default') ?? config.get('profile default'))
      : config.get(`profile ${profileName}`);
  const credsSection = creds.get(profileName);
  if (profile !== undefined && !configSection && !credsSection) {
    throw new ConfigError(`The config profile (${profile}) could not be found`);
  }

  let region = nonEmpty(inputs.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  region ??= nonEmpty(configSection?.get('region'));

  let endpointUrl = nonEmpty(inputs.endpointUrl);
  if (endpointUrl === undefined && env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== 'true') {
    endpointUrl =
      nonEmpty(env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`]) ??
      nonEmpty(env.AWS_ENDPOINT_URL) ??
      nonEmpty(configSection?.get('endpoint_url'));
  }

  let credentials: Credentials | undefined;
  if (inputs.signRequest) {
    if (explicitProfile === undefined) {
      const id = nonEmpty(env.AWS_ACCESS_KEY_ID);
      const secret = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
      if (id !== undefined || secret !== undefined) {
        if (id === undefined || secret === undefined) {
          throw new ConfigError(
            `Partial credentials found in env, missing: ${id === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'}`,
          );
        }
        const token = nonEmpty(env.AWS_SESSION_TOKEN) ?? nonEmpty(env.AWS_SECURITY_TOKEN);
        credentials = {
          accessKeyId: id,
          secretAccessKey: secret,
          ...(token ? { sessionToken: token } : {}),
          method: 'env',
        };
      }
    }
    credentials ??= fromSection(credsSection, 'shared-credentials-file');
    credentials ??= fromSection(configSection, 'config-file');
    if (credentials)
      notes.push(
        `Found credentials in ${credentials.method === 'env' ? 'environment variables' : `${credentials.method} (profile ${profileName})`}.`,
      );
  }

  let localWeir: ResolvedConfig['localWeir'];
  if (!credentials && endpointUrl === undefined) {
    const dataDir = findLocalDataDir(cfg);
    const credentialsFile = dataDir === undefined ? undefined : join(dataDir, 'credentials');
    if (dataDir !== undefined && credentialsFile !== undefined && existsSync(credentialsFile)) {
      const weirCreds = readIni(credentialsFile);
      const name = weirCreds.has('weir') ? 'weir' : [...weirCreds.keys()][0];
      const section = name === undefined ? undefined : weirCreds.get(name);
      const found = inputs.signRequest ? fromSection(section, 'the local Weir credentials file') : undefined;
      if (!inputs.signRequest || found) {
        const endpointFile = join(dataDir, 'endpoint');
        let recorded: string | undefined;
        try {
          recorded = readFileSync(endpointFile, 'utf8').trim() || undefined;
        } catch {
          recorded = undefined;
        }
        endpointUrl = recorded ?? DEFAULT_WEIR_ENDPOINT;
        credentials = found;
        region ??= 'us-east-1';
        localWeir = {
          dataDir,
          ...(recorded !== undefined ? { endpointFile } : {}),
          credentialsFile,
          profile: name ?? 'weir',
        };
        notes.push(
          `No credentials or endpoint configured: using the local Weir data dir ${dataDir}: endpoint ${endpointUrl}` +
            `${recorded !== undefined ? ` (from ${endpointFile})` : ' (default; the server records none)'}, ` +
            `credentials profile ${name ?? 'weir'} from ${credentialsFile}, region ${region}.`,
        );
      }
    }
  }

  let caBundle =
    nonEmpty(inputs.caBundle) ?? nonEmpty(env.AWS_CA_BUNDLE) ?? nonEmpty(configSection?.get('ca_bundle'));
  if (caBundle !== undefined) caBundle = expandHome(caBundle, env);
  if (caBundle !== undefined && !isAbsolute(caBundle)) caBundle = resolve(cfg.cwd, caBundle);

  const attemptsText = nonEmpty(env.AWS_MAX_ATTEMPTS) ?? nonEmpty(configSection?.get('max_attempts'));
  const attempts = attemptsText === undefined ? 3 : Number.parseInt(attemptsText, 10);
  const output = nonEmpty(env.AWS_DEFAULT_OUTPUT) ?? nonEmpty(configSection?.get('output'));

  return {
    ...(region !== undefined ? { region } : {}),
    ...(endpointUrl !== undefined ? { endpointUrl } : {}),
    ...(credentials ? { credentials } : {}),
    ...(caBundle !== undefined ? { caBundle } : {}),
    maxAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 3,
    ...(output !== undefined ? { output } : {}),
    ...(localWeir ? { localWeir } : {}),
    notes,
  };
}

/** AWS's own endpoint of `service` in `region`. */
export function awsEndpoint(service: 'ec2' | 'sts', region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${service}.${region}.${suffix}`;
}
