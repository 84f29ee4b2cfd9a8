/**
 * @module api/query — decodes EC2 Query form parameters (`GroupId=sg-1&IpPermissions.1.FromPort=443`)
 * into a botocore-shaped input object (`{ GroupId: 'sg-1', IpPermissions: [{ FromPort: 443 }] }`),
 * driven by the EC2 model. Wire names follow botocore's EC2Serializer: a member's `queryName`, else
 * its `locationName` with the first letter upper-cased, else the member name; list elements are
 * `Name.1`, `Name.2`, … with no element name; structures nest with `.`.
 */
import { Ec2Error } from '../model/index.js';
import type { ScalarShape, ScalarType, ShapeRef } from '../ec2-model/index.js';
import { getOperation, shape } from '../ec2-model/index.js';

interface ScalarNode {
  readonly kind: 'scalar';
  readonly type: ScalarType;
  readonly min?: number;
  readonly max?: number;
}

interface ListNode {
  readonly kind: 'list';
  element: DecodeNode;
  readonly min?: number;
  readonly max?: number;
}

interface MemberEntry {
  readonly member: string;
  readonly node: DecodeNode;
}

interface StructNode {
  readonly kind: 'struct';
  /** Wire name → member. */
  readonly byWire: Map<string, MemberEntry>;
  /** Filled after the node is cached; see {@link decodeNode}. */
  readonly required: { readonly member: string; readonly wire: string }[];
}

type DecodeNode = ScalarNode | ListNode | StructNode;

/** Collects list elements by index while the parameters stream in; compacted at the end. */
type SparseList = Map<number, unknown>;

/**
 * Top-level parameters that belong to the protocol rather than to the operation: `Action` and
 * `Version` route the request, `X-Amz-*` carry SigV4 query-string authentication. No EC2 input
 * member uses these names, so {@link parseEc2Query} accepts and ignores them; the server checks
 * them before calling it.
 */
export function isProtocolParameter(name: string): boolean {
  return name === 'Action' || name === 'Version' || name.startsWith('X-Amz-');
}

const nodes = new Map<string, DecodeNode>();

function wireName(ref: ShapeRef, member: string): string {
  if (ref.queryName !== undefined) return ref.queryName;
  if (ref.locationName !== undefined)
    return ref.locationName.charAt(0).toUpperCase() + ref.locationName.slice(1);
  return member;
}

function scalarNode(s: ScalarShape): ScalarNode {
  return {
    kind: 'scalar',
    type: s.type,
    ...(s.min !== undefined && { min: s.min }),
    ...(s.max !== undefined && { max: s.max }),
  };
}

// Compiled once per shape and cached, so a request only walks maps. The node is cached before
// its children are compiled so a recursive shape would terminate.
function decodeNode(name: string): DecodeNode {
  const cached = nodes.get(name);
  if (cached) return cached;
  const s = shape(name);
  if (s.type === 'structure') {
    const byWire = new Map<string, MemberEntry>();
    const node: StructNode = { kind: 'struct', byWire, required: [] };
    nodes.set(name, node);
    for (const [member, ref] of Object.entries(s.members)) {
      const wire = wireName(ref, member);
      byWire.set(wire, { member, node: decodeNode(ref.shape) });
      if (s.required?.includes(member)) node.required.push({ member, wire });
    }
    return node;
  }
  if (s.type === 'list') {
    const node: ListNode = {
      kind: 'list',
      element: { kind: 'scalar', type: 'string' },
      ...(s.min !== undefined && { min: s.min }),
      ...(s.max !== undefined && { max: s.max }),
    };
    nodes.set(name, node);
    node.element = decodeNode(s.member.shape);
    return node;
  }
  const node = scalarNode(s);
  nodes.set(name, node);
  return node;
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
// ISO-8601 date-time as botocore and the SDKs send it: seconds, optional fraction, Z or offset.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const INDEX = /^[1-9]\d{0,8}$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function invalidValue(param: string, value: string, why?: string): Ec2Error {
  return new Ec2Error(
    'InvalidParameterValue',
    `Invalid value '${value}' for ${param}${why ? `: ${why}` : ''}`,
  );
}

function checkRange(node: ScalarNode, param: string, raw: string, n: number): number {
  if (node.min !== undefined && n < node.min) throw invalidValue(param, raw, `must be at least ${node.min}`);
  if (node.max !== undefined && n > node.max) throw invalidValue(param, raw, `must be at most ${node.max}`);
  return n;
}

function coerce(node: ScalarNode, param: string, raw: string): unknown {
  switch (node.type) {
    case 'string':
      return raw;
    case 'integer':
    case 'long': {
      const n = Number(raw);
      if (!INTEGER.test(raw) || !Number.isSafeInteger(n))
        throw invalidValue(param, raw, 'expected an integer');
      if (node.type === 'integer' && (n < INT32_MIN || n > INT32_MAX)) {
        throw invalidValue(param, raw, 'out of range for a 32-bit integer');
      }
      return checkRange(node, param, raw, n);
    }
    case 'double':
    case 'float': {
      if (!DECIMAL.test(raw)) throw invalidValue(param, raw, 'expected a number');
      return checkRange(node, param, raw, Number(raw));
    }
    case 'boolean': {
      const lower = raw.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw invalidValue(param, raw, 'expected true or false');
    }
    case 'timestamp': {
      const date = new Date(raw);
      if (!ISO_8601.test(raw) || Number.isNaN(date.getTime())) {
        throw invalidValue(param, raw, 'expected an ISO-8601 timestamp');
      }
      return date;
    }
    case 'blob':
      if (raw.length % 4 !== 0 || !BASE64.test(raw)) throw invalidValue(param, raw, 'expected base64');
      return new Uint8Array(Buffer.from(raw, 'base64'));
  }
}

function duplicate(param: string): Ec2Error {
  return new Ec2Error('InvalidParameter', `The parameter ${param} is specified more than once`);
}

function unknown(param: string): Ec2Error {
  return new Ec2Error('UnknownParameter', `The parameter ${param} is not recognized`);
}

/** Places one `key=value` pair into the partly built input, creating containers on the way. */
function place(root: Record<string, unknown>, rootNode: StructNode, key: string, raw: string): void {
  const segments = key.split('.');
  let node: DecodeNode = rootNode;
  let container: Record<string, unknown> | SparseList = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const last = i === segments.length - 1;
    let slot: string | number;
    let child: DecodeNode;
    if (node.kind === 'struct') {
      const entry = node.byWire.get(seg);
      if (!entry) throw unknown(key);
      slot = entry.member;
      child = entry.node;
    } else if (node.kind === 'list') {
      if (!INDEX.test(seg)) {
        if (/^\d+$/.test(seg)) {
          throw new Ec2Error(
            'InvalidParameterValue',
            `Invalid list index '${seg}' in ${key}: indexes are positive integers without leading zeros`,
          );
        }
        throw unknown(key);
      }
      slot = Number(seg);
      child = node.element;
    } else {
      throw unknown(key);
    }

    const existing: unknown =
      container instanceof Map ? container.get(slot as number) : (container as Record<string, unknown>)[slot];
    if (last) {
      if (child.kind !== 'scalar') {
        const form = child.kind === 'list' ? `${key}.1, ${key}.2, …` : `${key}.<member>`;
        throw invalidValue(key, raw, `send it as ${form}`);
      }
      if (existing !== undefined) throw duplicate(key);
      const value = coerce(child, key, raw);
      if (container instanceof Map) container.set(slot as number, value);
      else container[slot] = value;
      return;
    }
    if (child.kind === 'scalar') throw unknown(key);
    let next = existing as Record<string, unknown> | SparseList | undefined;
    if (next === undefined) {
      next = child.kind === 'list' ? new Map<number, unknown>() : {};
      if (container instanceof Map) container.set(slot as number, next);
      else container[slot] = next;
    }
    container = next;
    node = child;
  }
}

/** Turns sparse lists into arrays (index order, gaps closed) and checks required members. */
function finish(node: DecodeNode, value: unknown, path: string): unknown {
  if (node.kind === 'scalar') return value;
  if (node.kind === 'list') {
    const sparse = value as SparseList;
    const indexes = [...sparse.keys()].sort((a, b) => a - b);
    if (node.max !== undefined && indexes.length > node.max) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `The parameter ${path} has ${indexes.length} elements; at most ${node.max} are allowed`,
      );
    }
    return indexes.map((i) => finish(node.element, sparse.get(i), `${path}.${i}`));
  }
  const obj = value as Record<string, unknown>;
  for (const { member, wire } of node.required) {
    if (obj[member] === undefined) {
      throw new Ec2Error(
        'MissingParameter',
        `The request must contain the parameter ${path ? `${path}.` : ''}${wire}`,
      );
    }
  }
  for (const [wire, { member, node: child }] of node.byWire) {
    const v = obj[member];
    if (v !== undefined && child.kind !== 'scalar')
      obj[member] = finish(child, v, path ? `${path}.${wire}` : wire);
  }
  return obj;
}

/**
 * Decodes the EC2 Query parameters of `action` into its botocore-shaped input object: member names
 * as in the model, integers as numbers, booleans as booleans, timestamps as `Date`, blobs as
 * `Uint8Array`, lists as arrays in index order with gaps closed (`.10` sorts after `.9`).
 *
 * `Action`, `Version` and `X-Amz-*` are accepted and ignored (see {@link isProtocolParameter}), so
 * the caller may pass the whole form or query string.
 *
 * @throws Ec2Error `InvalidAction` for an action Weir does not serve; `UnknownParameter` for a name
 *   not in the model; `InvalidParameterValue` for a value of the wrong type or out of the model's
 *   range, or a list index that is not a positive integer; `InvalidParameter` for a repeated name;
 *   `MissingParameter` for a required member left out, at the top level or inside a list element.
 */
export function parseEc2Query(
  action: string,
  params: URLSearchParams | ReadonlyMap<string, string>,
): Record<string, unknown> {
  const op = getOperation(action);
  const root: Record<string, unknown> = {};
  if (!op.input) {
    for (const [key] of params) if (!isProtocolParameter(key)) throw unknown(key);
    return root;
  }
  const rootNode = decodeNode(op.input.shape);
  if (rootNode.kind !== 'struct') throw new Error(`EC2 model: input of ${action} is not a structure`);
  for (const [key, raw] of params) {
    if (isProtocolParameter(key)) continue;
    place(root, rootNode, key, raw);
  }
  return finish(rootNode, root, '') as Record<string, unknown>;
}
