/**
 * @module api/paging — `MaxResults` / `NextToken` for Describe actions. The token is an
 * opaque, versioned offset bound to the action, so a token from one call is refused by another.
 */
import { Ec2Error } from '../model/index.js';

export interface PageRequest {
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export interface PageLimits {
  readonly min: number;
  readonly max: number;
}

function encodeToken(action: string, offset: number): string {
  return Buffer.from(JSON.stringify({ v: 1, a: action, o: offset })).toString('base64url');
}

function decodeToken(action: string, token: string): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: number;
      a?: string;
      o?: number;
    };
    if (t.v === 1 && t.a === action && Number.isInteger(t.o) && (t.o as number) >= 0) return t.o as number;
  } catch {
    // fall through to the error below
  }
  throw new Ec2Error('InvalidNextToken', `The token '${token}' is invalid.`);
}

/** One page of `items`, and the token for the next page when there is one. */
export function paginate<T>(
  action: string,
  items: readonly T[],
  req: PageRequest,
  limits: PageLimits,
): { page: T[]; nextToken?: string } {
  const max = req.MaxResults;
  if (max !== undefined && (max < limits.min || max > limits.max)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value ( ${max} ) for parameter maxResults is invalid. Parameter must be between ${limits.min} and ${limits.max}.`,
    );
  }
  const start = req.NextToken !== undefined ? decodeToken(action, req.NextToken) : 0;
  if (max === undefined) return { page: items.slice(start) };
  const end = start + max;
  const page = items.slice(start, end);
  return end < items.length ? { page, nextToken: encodeToken(action, end) } : { page };
}
