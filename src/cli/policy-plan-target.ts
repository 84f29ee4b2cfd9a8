/**
 * @module cli/policy-plan-target — which EC2 endpoint `weir policy plan|apply|resolve` talk to.
 * Like every other client command, the local `weir serve` by default (the `endpoint` file and
 * `credentials` of `$WEIR_DATA_DIR`, else `./weir-data`); another Weir with `--endpoint-url`
 * (or a profile's `endpoint_url`); AWS itself only when named with `--aws`. These commands
 * change security groups, so AWS credentials lying in the environment must never be enough to
 * send them to a real account.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WeirError } from '../model/index.js';
import { ConfigError, localDataDirPath, resolveConfig } from './ec2/index.js';
import type { Credentials } from './ec2/index.js';
import { resolveApiTarget } from './weir-api-client.js';

/** Where the EC2 calls go: AWS (the SDK's own endpoint and credential chain), or a Weir. */
export type PlanTarget =
  | { readonly kind: 'aws' }
  | {
      readonly kind: 'weir';
      readonly endpoint: string;
      readonly region: string;
      readonly credentials: Credentials;
    };

/** The flags that choose the target. */
export interface TargetFlags {
  aws?: boolean;
  endpointUrl?: string;
  profile?: string;
  region?: string;
}

const NAME_IT = 'name the target: --endpoint-url URL for another Weir, --aws for AWS';

/**
 * The target of one run, decided before the AWS SDK is loaded; a missing server or a mixed-up
 * choice is a `WeirError` (a usage error: exit 2) saying how to start a server or name a target.
 */
export function planTarget(
  flags: TargetFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): PlanTarget {
  if (flags.aws === true) {
    if (flags.endpointUrl !== undefined) {
      throw new WeirError('InvalidArgument', '--aws and --endpoint-url name two targets: give one');
    }
    return { kind: 'aws' };
  }
  if (flags.endpointUrl !== undefined || flags.profile !== undefined) {
    try {
      const t = resolveApiTarget(flags, env, cwd);
      return { kind: 'weir', endpoint: t.endpoint.href, region: t.region, credentials: t.credentials };
    } catch (err) {
      // A profile without an endpoint would have meant AWS before: say how to ask for it.
      if (err instanceof WeirError && flags.endpointUrl === undefined) {
        throw new WeirError('InvalidArgument', `${err.message}; for AWS itself, add --aws`);
      }
      throw err;
    }
  }
  return localTarget(flags.region, env, cwd);
}

/** The local server: its data dir's `endpoint` file and the `weir` profile of its `credentials`. */
function localTarget(
  region: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): PlanTarget {
  const dir = localDataDirPath({ env, cwd });
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new WeirError(
      'InvalidArgument',
      `no Weir server to talk to: ${dir} does not exist. Start one with \`weir serve\` ` +
        `(its data dir is ./weir-data, or WEIR_DATA_DIR), or ${NAME_IT}`,
    );
  }
  const endpointFile = join(dir, 'endpoint');
  const credentialsFile = join(dir, 'credentials');
  let endpoint: string | undefined;
  try {
    endpoint = readFileSync(endpointFile, 'utf8').trim() || undefined;
  } catch {
    endpoint = undefined;
  }
  if (endpoint === undefined || !existsSync(credentialsFile)) {
    throw new WeirError(
      'InvalidArgument',
      `no Weir server is running on ${dir} (it has no ${endpoint === undefined ? 'endpoint' : 'credentials'} file). ` +
        `Start one with \`weir serve --data-dir ${dir}\`, or ${NAME_IT}`,
    );
  }
  try {
    // Only the data dir's own files: AWS settings of the environment do not leak into this call.
    const cfg = resolveConfig(
      'ec2',
      { signRequest: true, profile: 'weir', endpointUrl: endpoint, region: region ?? 'us-east-1' },
      { env: { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: join(dir, 'no-config') }, cwd },
    );
    if (cfg.credentials === undefined) throw new ConfigError(`${credentialsFile} has no profile weir`);
    return { kind: 'weir', endpoint, region: cfg.region ?? 'us-east-1', credentials: cfg.credentials };
  } catch (err) {
    throw new WeirError(
      'InvalidArgument',
      `the local Weir's credentials (${credentialsFile}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
