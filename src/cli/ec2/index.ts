/**
 * @module cli/ec2 — `weir ec2 …` and `weir sts …`: the AWS CLI (awscli 1.x, with AWS CLI v2's exit
 * codes and YAML output) re-implemented in process for Weir's EC2 operations and STS
 * GetCallerIdentity, byte for byte. Also the AWS CLI's configuration resolution and request
 * signing, which `weir`'s own API client shares.
 */
export { runCli, serviceCommands } from './run.js';
export type { CliIO } from './run.js';
export { ConfigError, localDataDirPath, resolveConfig, sigV4Signer } from './wire/index.js';
export type { Credentials } from './wire/index.js';
