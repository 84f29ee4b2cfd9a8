/**
 * @module api/xml — renders EC2 responses and EC2 error bodies as XML, driven by the EC2 model, in
 * the exact shape botocore and the AWS SDKs parse.
 *
 * This is a hand-written string builder rather than fast-xml-parser's XMLBuilder: every response
 * goes through it, the model fixes every element name in advance (so the open and close tags are
 * compiled once per shape), and a builder would need an intermediate object tree per response plus
 * options to get EC2's `<item>` lists, empty wrapper elements and escaping exactly right.
 */
import type { ScalarType } from '../ec2-model/index.js';
import { EC2_XML_NAMESPACE, getOperation, shape } from '../ec2-model/index.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

// `&<>"'` become entities; `\r` a character reference, since a parser would fold a literal CR into
// LF. C0 controls other than tab and LF, U+FFFE/U+FFFF and lone surrogates cannot appear in XML 1.0
// at all, not even as references (botocore's expat rejects `&#1;`), so they become U+FFFD rather
// than a body no client can parse. The `u` flag makes the surrogate range match lone ones only.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPE = /[&<>"'\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/u;
// eslint-disable-next-line no-control-regex -- as above
const ESCAPES = /[&<>"'\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/gu;
const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
};

/**
 * Escapes `text` for XML character data or a quoted attribute value. Characters XML 1.0 cannot
 * carry are replaced by U+FFFD.
 */
export function escapeXml(text: string): string {
  // Fast path for the usual IDs, CIDRs and names: printable ASCII with nothing to escape.
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x26 || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x27) {
      plain = false;
      break;
    }
  }
  if (plain || !NEEDS_ESCAPE.test(text)) return text;
  return text.replace(ESCAPES, (ch) => ENTITIES[ch] ?? '\uFFFD');
}

interface ScalarNode {
  readonly kind: 'scalar';
  readonly type: ScalarType;
}

interface ListNode {
  readonly kind: 'list';
  readonly itemOpen: string;
  readonly itemClose: string;
  element: XmlNode;
}

interface MemberEntry {
  readonly open: string;
  readonly close: string;
  /** Rendering of an empty list: `<name/>`. */
  readonly empty: string;
  /** Flattened lists repeat the member element instead of wrapping `<item>`s (none in EC2 today). */
  readonly flattened: boolean;
  readonly node: XmlNode;
}

interface StructNode {
  readonly kind: 'struct';
  readonly name: string;
  readonly members: Map<string, MemberEntry>;
}

type XmlNode = ScalarNode | ListNode | StructNode;

const nodes = new Map<string, XmlNode>();

// Compiled once per shape; cached before children so a recursive shape would terminate.
function xmlNode(name: string): XmlNode {
  const cached = nodes.get(name);
  if (cached) return cached;
  const s = shape(name);
  if (s.type === 'structure') {
    const node: StructNode = { kind: 'struct', name, members: new Map() };
    nodes.set(name, node);
    for (const [member, ref] of Object.entries(s.members)) {
      const target = shape(ref.shape);
      const flattened = target.type === 'list' && target.flattened === true;
      // botocore reads a flattened list's elements under the list member's locationName.
      const tag =
        flattened && target.type === 'list' && target.member.locationName !== undefined
          ? target.member.locationName
          : (ref.locationName ?? member);
      node.members.set(member, {
        open: `<${tag}>`,
        close: `</${tag}>`,
        empty: `<${tag}/>`,
        flattened,
        node: xmlNode(ref.shape),
      });
    }
    return node;
  }
  if (s.type === 'list') {
    const item = s.member.locationName ?? 'item';
    const node: ListNode = {
      kind: 'list',
      itemOpen: `<${item}>`,
      itemClose: `</${item}>`,
      element: { kind: 'scalar', type: 'string' },
    };
    nodes.set(name, node);
    node.element = xmlNode(s.member.shape);
    return node;
  }
  const node: ScalarNode = { kind: 'scalar', type: s.type };
  nodes.set(name, node);
  return node;
}

function badValue(where: string, expected: string, value: unknown): Error {
  return new Error(`EC2 response ${where}: expected ${expected}, got ${typeof value} ${String(value)}`);
}

function scalarText(node: ScalarNode, value: unknown, where: string): string {
  switch (node.type) {
    case 'string':
      if (typeof value !== 'string') throw badValue(where, 'a string', value);
      return escapeXml(value);
    case 'integer':
    case 'long':
      if (!Number.isSafeInteger(value)) throw badValue(where, 'an integer', value);
      return String(value);
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw badValue(where, 'a finite number', value);
      return String(value);
    case 'boolean':
      if (typeof value !== 'boolean') throw badValue(where, 'a boolean', value);
      return value ? 'true' : 'false';
    case 'timestamp':
      if (!(value instanceof Date) || Number.isNaN(value.getTime()))
        throw badValue(where, 'a valid Date', value);
      return value.toISOString();
    case 'blob':
      if (!(value instanceof Uint8Array)) throw badValue(where, 'a Uint8Array', value);
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  }
}

/**
 * Collects rendered XML as a list of strings of about `CHUNK_CHARS` each. A thousand-rule
 * response built by `+=` alone is one rope of tens of thousands of pieces, and turning that into
 * bytes made V8 flatten it into one large string first: 3.6 ms for 400 KB, against 0.5 ms for
 * the same pieces in chunks (docs/benchmarks.md, bench:api (b)).
 */
class XmlChunks {
  readonly #done: string[] = [];
  #current = '';

  add(text: string): void {
    this.#current += text;
    if (this.#current.length >= CHUNK_CHARS) {
      this.#done.push(this.#current);
      this.#current = '';
    }
  }

  finish(): string[] {
    if (this.#current !== '') this.#done.push(this.#current);
    this.#current = '';
    return this.#done;
  }
}

const CHUNK_CHARS = 16 * 1024;

function render(node: XmlNode, value: unknown, where: string, out: XmlChunks): void {
  if (node.kind === 'scalar') {
    out.add(scalarText(node, value, where));
    return;
  }
  if (node.kind === 'struct') {
    renderStruct(node, value, where, out);
    return;
  }
  if (!Array.isArray(value)) throw badValue(where, 'an array', value);
  for (const element of value as unknown[]) {
    out.add(node.itemOpen);
    render(node.element, element, where, out);
    out.add(node.itemClose);
  }
}

function renderStruct(node: StructNode, value: unknown, where: string, out: XmlChunks): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badValue(where, `a ${node.name} object`, value);
  }
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    const m = node.members.get(key);
    if (!m) throw new Error(`EC2 response ${where}: ${key} is not a member of ${node.name}`);
    // Absent members are left out; null is treated as absent so store rows map straight through.
    if (v === undefined || v === null) continue;
    if (m.node.kind === 'list' && m.flattened) {
      if (!Array.isArray(v)) throw badValue(`${where}.${key}`, 'an array', v);
      for (const element of v as unknown[]) {
        out.add(m.open);
        render(m.node.element, element, where, out);
        out.add(m.close);
      }
    } else if (m.node.kind === 'list' && Array.isArray(v) && v.length === 0) {
      out.add(m.empty);
    } else {
      out.add(m.open);
      render(m.node, v, `${where}.${key}`, out);
      out.add(m.close);
    }
  }
}

/**
 * Renders the XML body of a successful EC2 response. `output` is keyed by model member names
 * (`{ Return: true, SecurityGroupRules: [...] }`); undefined and null members are left out, empty
 * lists render as an empty wrapper (`<securityGroupRuleSet/>`), timestamps as ISO-8601 with
 * milliseconds. Operations without an output shape (CreateTags, DeleteTags, DeleteVpc) take `{}`
 * and answer `<return>true</return>`, as EC2 does.
 *
 * @throws Error when `output` has a key that is not a member, or a value of the wrong type: both
 *   are programming errors in the handler, never client errors.
 */
export function serializeEc2Response(
  action: string,
  output: Record<string, unknown>,
  requestId: string,
): string {
  return responseChunks(action, output, requestId).join('');
}

/** {@link serializeEc2Response} as the UTF-8 bytes of the body, for sending. */
export function ec2ResponseBytes(action: string, output: Record<string, unknown>, requestId: string): Buffer {
  const chunks = responseChunks(action, output, requestId);
  let length = 0;
  for (const chunk of chunks) length += Buffer.byteLength(chunk, 'utf8');
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for (const chunk of chunks) at += bytes.write(chunk, at, 'utf8');
  return bytes;
}

function responseChunks(action: string, output: Record<string, unknown>, requestId: string): string[] {
  const op = getOperation(action);
  const out = new XmlChunks();
  out.add(
    `${XML_DECLARATION}<${action}Response xmlns="${EC2_XML_NAMESPACE}">` +
      `<requestId>${escapeXml(requestId)}</requestId>`,
  );
  if (op.output) {
    const node = xmlNode(op.output.shape);
    if (node.kind !== 'struct') throw new Error(`EC2 model: output of ${action} is not a structure`);
    renderStruct(node, output, action, out);
  } else {
    const extra = Object.keys(output);
    if (extra.length > 0)
      throw new Error(`EC2 response ${action}: has no output members, got ${extra.join(', ')}`);
    out.add('<return>true</return>');
  }
  out.add(`</${action}Response>`);
  return out.finish();
}

/**
 * Renders an EC2 error body. EC2 uses this one shape for every error (note `RequestID`, not
 * `RequestId`), and botocore's EC2 parser reads exactly it.
 */
export function serializeEc2Error(code: string, message: string, requestId: string): string {
  return (
    `${XML_DECLARATION}<Response><Errors><Error><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error></Errors>` +
    `<RequestID>${escapeXml(requestId)}</RequestID></Response>`
  );
}
