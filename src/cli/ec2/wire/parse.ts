/**
 * @module cli/ec2/wire/parse — the response side of botocore's EC2 and Query parsers, driven by the
 * model: members in model order under their `locationName`, lists from every child of the list
 * element (`<item>`), integers and booleans typed, timestamps as `Date`, empty elements as `''`;
 * error bodies (`<Response><Errors><Error>` for EC2, `<ErrorResponse><Error>` for Query) to
 * `{ Code, Message }`, and botocore's generic error for bodies that are not XML.
 * Port of botocore 1.43.11's `botocore/parsers.py` (`QueryParser`, `EC2QueryParser`).
 */
import { STATUS_CODES } from 'node:http';
import type { Shape } from '../../../ec2-model/index.js';
import type { ServiceModel } from '../service.js';
import { XmlSyntaxError, parseXml } from './xml-dom.js';
import type { XmlElement } from './xml-dom.js';

/** A parsed response: output members plus botocore's `ResponseMetadata`. */
export type ParsedResponse = Record<string, unknown>;

/** A parsed error response. */
export interface ParsedError {
  readonly code: string;
  readonly message: string;
  readonly requestId?: string;
}

/** botocore's ResponseParserError: a success body that is not the XML it should be. */
export class ResponseParserError extends Error {
  override readonly name = 'ResponseParserError';
}

function childMap(node: XmlElement): Map<string, XmlElement> {
  const map = new Map<string, XmlElement>();
  for (const child of node.children) if (!map.has(child.name)) map.set(child.name, child);
  return map;
}

function parseScalar(type: string, text: string): unknown {
  switch (type) {
    case 'integer':
    case 'long':
      return Number.parseInt(text, 10);
    case 'float':
    case 'double':
      return Number.parseFloat(text);
    case 'boolean':
      return text === 'true';
    case 'timestamp': {
      const trimmed = text.trim();
      const d = /^\d+(\.\d+)?$/.test(trimmed) ? new Date(Number(trimmed) * 1000) : new Date(trimmed);
      return Number.isNaN(d.getTime()) ? text : d;
    }
    case 'blob':
      return new Uint8Array(Buffer.from(text, 'base64'));
    default:
      return text;
  }
}

function parseShape(model: ServiceModel, shapeName: string, node: XmlElement): unknown {
  const s: Shape = model.shape(shapeName);
  if (s.type === 'structure') {
    const children = childMap(node);
    const out: Record<string, unknown> = {};
    for (const [member, ref] of Object.entries(s.members)) {
      const target = model.shape(ref.shape);
      const flattened = target.type === 'list' && target.flattened === true;
      const tag =
        flattened && target.type === 'list'
          ? (target.member.locationName ?? ref.locationName ?? member)
          : (ref.locationName ?? member);
      if (flattened) {
        const items = node.children.filter((c) => c.name === tag);
        if (items.length > 0)
          out[member] = items.map((c) =>
            parseShape(model, (target as { member: { shape: string } }).member.shape, c),
          );
        continue;
      }
      const child = children.get(tag);
      if (child) out[member] = parseShape(model, ref.shape, child);
    }
    return out;
  }
  if (s.type === 'list') return node.children.map((c) => parseShape(model, s.member.shape, c));
  return parseScalar(s.type, node.text);
}

function parseDocument(body: string): XmlElement {
  try {
    return parseXml(body);
  } catch (err) {
    if (err instanceof XmlSyntaxError) {
      throw new ResponseParserError(
        `Unable to parse response (${err.message}), invalid XML received. Further retries may succeed:\n${body}`,
      );
    }
    throw err;
  }
}

/**
 * Parses a successful response body of `operation`.
 * @throws ResponseParserError when the body is not XML.
 */
export function parseResponse(model: ServiceModel, operation: string, body: string): ParsedResponse {
  const op = model.operation(operation);
  if (body.trim() === '') return { ResponseMetadata: {} };
  const root = parseDocument(body);
  let parsed: ParsedResponse = {};
  let requestId: string | undefined;
  if (model.protocol === 'ec2') {
    if (op.output) parsed = parseShape(model, op.output.shape, root) as ParsedResponse;
    requestId = childMap(root).get('requestId')?.text;
  } else {
    let start: XmlElement | undefined = root;
    const wrapper = op.output?.resultWrapper;
    if (wrapper !== undefined) start = childMap(root).get(wrapper);
    if (op.output && start) parsed = parseShape(model, op.output.shape, start) as ParsedResponse;
    requestId = childMap(root)
      .get('ResponseMetadata')
      ?.children.find((c) => c.name === 'RequestId')?.text;
  }
  parsed.ResponseMetadata = requestId !== undefined ? { RequestId: requestId } : {};
  return parsed;
}

/** botocore's answer for an error body it cannot read: the status code and its reason phrase. */
function genericError(status: number): ParsedError {
  return { code: String(status), message: STATUS_CODES[status] ?? '' };
}

/** Parses an error response (status ≥ 300) of either protocol. */
export function parseError(status: number, body: string): ParsedError {
  const trimmed = body.trim();
  if (trimmed === '' || (status >= 500 && trimmed.startsWith('<html>'))) return genericError(status);
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch {
    return genericError(status);
  }
  const top = childMap(root);
  let error: XmlElement | undefined = top.get('Errors')?.children.find((c) => c.name === 'Error');
  error ??= top.get('Error');
  const fields = error ? childMap(error) : new Map<string, XmlElement>();
  const requestId = top.get('RequestID')?.text ?? top.get('RequestId')?.text;
  return {
    code: fields.get('Code')?.text ?? 'Unknown',
    message: fields.get('Message')?.text ?? 'Unknown',
    ...(requestId !== undefined ? { requestId } : {}),
  };
}
