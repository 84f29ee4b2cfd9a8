/**
 * @module cli/ec2/wire — the botocore side of a call: where it goes and as whom (profile, region,
 * credentials, endpoint), client-side parameter validation, the EC2/Query serializer, the signed
 * HTTP request with retries, the response and error parsers, and the paginator.
 */
export { Client, ClientError, PaginationError, paginate } from './client.js';
export type { PagingOptions } from './client.js';
export {
  ConfigError,
  NoCredentialsError,
  NoRegionError,
  awsEndpoint,
  localDataDirPath,
  resolveConfig,
} from './config.js';
export type { Credentials } from './config.js';
export { ConnectionError, sigV4Signer } from './http.js';
export { ResponseParserError } from './parse.js';
export { ParamValidationError, validateParams } from './validate.js';
