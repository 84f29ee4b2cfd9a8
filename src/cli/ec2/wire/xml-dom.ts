/**
 * @module cli/ec2/wire/xml-dom — a small XML reader for AWS Query/EC2 responses: elements (local names,
 * namespace prefixes dropped as botocore drops `{uri}`), character data with the five entities and
 * numeric references, CDATA, comments, processing instructions. It reads what ElementTree (expat)
 * gives botocore: line ends normalized to LF, an element's text being all of its own character data.
 * Follows what CPython 3.11's `xml.etree.ElementTree.XMLParser` (expat) hands botocore 1.43.11's
 * `botocore/parsers.py`; not a port of either.
 */

/** One element: its local name, child elements in order, and its own character data. */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's character data (text between its children included), `''` when empty. */
  text: string;
}

/** The body is not well-formed XML. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const NAMED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string, at: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlSyntaxError(`undefined entity near offset ${at}`);
    if (ref.startsWith('#x') || ref.startsWith('#X')) {
      const cp = Number.parseInt(ref.slice(2), 16);
      if (!/^#[xX][0-9a-fA-F]+$/.test(ref) || cp > 0x10ffff)
        throw new XmlSyntaxError(`bad reference &${ref};`);
      return String.fromCodePoint(cp);
    }
    if (ref.startsWith('#')) {
      const cp = Number.parseInt(ref.slice(1), 10);
      if (!/^#[0-9]+$/.test(ref) || cp > 0x10ffff) throw new XmlSyntaxError(`bad reference &${ref};`);
      return String.fromCodePoint(cp);
    }
    const named = NAMED[ref];
    if (named === undefined) throw new XmlSyntaxError(`undefined entity &${ref};`);
    return named;
  });
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}

const NAME = /[^\s/>=]+/y;

/**
 * Parses an XML document and returns its root element.
 * @throws XmlSyntaxError when the text is not well-formed.
 */
export function parseXml(input: string): XmlElement {
  const s = input.replace(/\r\n?/g, '\n');
  const stack: { el: XmlElement; qname: string }[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf('<', i);
    const textEnd = lt < 0 ? s.length : lt;
    if (textEnd > i) {
      const raw = s.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.el.text += decodeEntities(raw, i);
      else if (raw.trim() !== '') throw new XmlSyntaxError(`text outside the root element at offset ${i}`);
    }
    if (lt < 0) break;
    i = lt;
    if (s.startsWith('<?', i)) {
      const end = s.indexOf('?>', i);
      if (end < 0) throw new XmlSyntaxError('unterminated processing instruction');
      i = end + 2;
    } else if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i);
      if (end < 0) throw new XmlSyntaxError('unterminated comment');
      i = end + 3;
    } else if (s.startsWith('<![CDATA[', i)) {
      const end = s.indexOf(']]>', i);
      const top = stack[stack.length - 1];
      if (end < 0 || !top) throw new XmlSyntaxError('misplaced or unterminated CDATA section');
      top.el.text += s.slice(i + 9, end);
      i = end + 3;
    } else if (s.startsWith('<!', i)) {
      const end = s.indexOf('>', i);
      if (end < 0) throw new XmlSyntaxError('unterminated declaration');
      i = end + 1;
    } else if (s.startsWith('</', i)) {
      const end = s.indexOf('>', i);
      const qname = end < 0 ? '' : s.slice(i + 2, end).trim();
      const top = stack.pop();
      if (!top || top.qname !== qname) throw new XmlSyntaxError(`mismatched tag </${qname}> at offset ${i}`);
      i = end + 1;
    } else {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(s);
      if (!m) throw new XmlSyntaxError(`not well-formed at offset ${i}`);
      const qname = m[0];
      let j = NAME.lastIndex;
      // Attributes are skipped (EC2 and STS responses carry only xmlns), quoted values honoured.
      let selfClosing = false;
      for (;;) {
        while (j < s.length && /\s/.test(s[j]!)) j++;
        if (j >= s.length) throw new XmlSyntaxError('unterminated start tag');
        if (s[j] === '>') break;
        if (s.startsWith('/>', j)) {
          selfClosing = true;
          j++;
          break;
        }
        const attr = /[^\s=/>]+\s*=\s*("[^"]*"|'[^']*')/y;
        attr.lastIndex = j;
        if (!attr.exec(s)) throw new XmlSyntaxError(`bad attribute at offset ${j}`);
        j = attr.lastIndex;
      }
      i = j + 1;
      const el: XmlElement = { name: localName(qname), children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.el.children.push(el);
      else if (root) throw new XmlSyntaxError('junk after document element');
      else root = el;
      if (!selfClosing) stack.push({ el, qname });
    }
  }
  if (stack.length > 0 || !root) throw new XmlSyntaxError('no element found');
  return root;
}
