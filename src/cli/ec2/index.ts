/**
 * @module cli/ec2 — `weir ec2`, the AWS CLI's EC2 commands ported byte for byte; the rest of the
 * CLI enters it here: the command itself, and the AWS config, credentials and SigV4 signing that
 * `weir`'s own API calls share with it.
 */
export { runCli } from './run.js';
export { ConfigError, localDataDirPath, resolveConfig } from './config.js';
export type { Credentials } from './config.js';
export { sigV4Signer } from './http.js';
