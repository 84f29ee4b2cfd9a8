/**
 * @module cli/ec2/output — what the AWS CLI prints for a parsed response: `--query` (JMESPath),
 * then `--output json|text|table|yaml|yaml-stream`, for one response or for the pages of a
 * paginated call.
 */
export { QueryError, checkQuery, formatOutput, formatPagedOutput, mergePages } from './format.js';
export type { FormatOptions, OutputFormat, PagedResponse } from './format.js';
