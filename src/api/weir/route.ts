/**
 * @module api/weir/route — the shape of one Weir API route: method, operation name, who may call
 * it, what input it takes, and the function that answers. Route tables live beside their
 * operations and are joined in `handler.ts`.
 */
import type { Role } from '../credentials.js';
import type { FieldSpec, Fields } from './input.js';
import type { OperationContext } from './operations.js';

/** One operation at one resource path and method. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Operation name, for logs, metrics and error messages. */
  readonly name: string;
  /** Read-only keys may call it. */
  readonly read: boolean;
  /** For a write: the roles besides admin that may call it (api/weir/tenancy). */
  readonly roles?: readonly Role[];
  readonly maxBytes?: number;
  /** JSON body fields; absent: no JSON body (raw or none). */
  readonly fields?: FieldSpec;
  /** Query parameters accepted. */
  readonly query?: readonly string[];
  run(
    ctx: OperationContext,
    input: {
      fields: Fields;
      query: Record<string, string>;
      body: Buffer;
    },
  ): Promise<Record<string, unknown>>;
}

/** Routes by resource path (the part after `/weir/v1/`), several methods per path. */
export type RouteTable = Readonly<Record<string, readonly Route[]>>;
