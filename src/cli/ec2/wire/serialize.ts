/**
 * @module cli/ec2/wire/serialize — the request side of botocore's EC2 and Query serializers: a
 * botocore-shaped input object (`{ GroupId, IpPermissions: [{ FromPort: 80 }] }`) becomes the form
 * body `Action=…&Version=…&GroupId=…&IpPermissions.1.FromPort=80`, wire names from the model (the
 * inverse of src/api/query.ts), percent-encoded as botocore encodes it.
 * Port of botocore 1.43.11's `botocore/serialize.py` (`QuerySerializer`, `EC2Serializer`).
 */
import type { ShapeRef } from '../../../ec2-model/index.js';
import type { ServiceModel } from '../service.js';

/** Python's `urllib.parse.quote(s, safe='-_.~')`, which botocore applies to keys and values. */
export function awsQuote(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function wireName(protocol: 'ec2' | 'query', ref: ShapeRef, member: string): string {
  if (protocol === 'ec2') {
    if (ref.queryName !== undefined) return ref.queryName;
    if (ref.locationName !== undefined)
      return ref.locationName.charAt(0).toUpperCase() + ref.locationName.slice(1);
    return member;
  }
  return ref.locationName ?? member;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** botocore's ISO-8601 timestamp layout for Query requests. */
function isoTimestamp(value: unknown): string {
  const d = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(d.getTime())) return String(value);
  const base =
    `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const ms = d.getUTCMilliseconds();
  return ms ? `${base}.${String(ms * 1000).padStart(6, '0')}Z` : `${base}Z`;
}

function scalar(type: string, value: unknown): string {
  switch (type) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'timestamp':
      return isoTimestamp(value);
    case 'blob':
      return typeof value === 'string'
        ? Buffer.from(value, 'utf8').toString('base64')
        : Buffer.from(value as Uint8Array).toString('base64');
    default:
      return String(value);
  }
}

/**
 * The form parameters of a call, in the order botocore writes them: `Action`, `Version`, then the
 * input members in the order given.
 */
export function serializeParams(
  model: ServiceModel,
  operation: string,
  params: Readonly<Record<string, unknown>>,
): [string, string][] {
  const out: [string, string][] = [
    ['Action', operation],
    ['Version', model.apiVersion],
  ];
  const walk = (shapeName: string, value: unknown, prefix: string): void => {
    const s = model.shape(shapeName);
    if (s.type === 'structure') {
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const ref = s.members[key];
        if (!ref || v === undefined) continue;
        const name = wireName(model.protocol, ref, key);
        walk(ref.shape, v, prefix ? `${prefix}.${name}` : name);
      }
    } else if (s.type === 'list') {
      const items = value as unknown[];
      if (model.protocol === 'query') {
        if (items.length === 0) {
          out.push([prefix, '']);
          return;
        }
        const listPrefix = s.flattened ? prefix : `${prefix}.${s.member.locationName ?? 'member'}`;
        items.forEach((item, i) => walk(s.member.shape, item, `${listPrefix}.${i + 1}`));
      } else {
        items.forEach((item, i) => walk(s.member.shape, item, `${prefix}.${i + 1}`));
      }
    } else {
      out.push([prefix, scalar(s.type, value)]);
    }
  };
  const op = model.operation(operation);
  if (op.input) walk(op.input.shape, params, '');
  return out;
}

/** The form body: `k=v` pairs joined by `&`. */
export function formBody(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([k, v]) => `${awsQuote(k)}=${awsQuote(v)}`).join('&');
}
