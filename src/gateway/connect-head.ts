/**
 * @module gateway/connect-head — a small strict parser for the head of a `CONNECT` request, the
 * gateway's hot path; every other request goes to Node's HTTP parser. It refuses what Node's
 * (strict, non-lenient) parser refuses: an oversized head (431), a malformed request line or
 * header field (400), too many fields (431), obs-fold continuation lines and a bare CR or LF
 * (400). Strictness matters here: a head that two parsers read differently is a smuggling vector.
 * The same reader, for any method, reads the first request head inside a tunnel (its Host check).
 */

/** Limits of a request head. */
export interface HeadLimits {
  /** Most bytes from the request line to the blank line that ends the head, inclusive. */
  readonly maxHeaderSize: number;
  /** Most header fields. */
  readonly maxHeadersCount: number;
}

/** A CONNECT head, or why there is none (yet). */
export type HeadParse =
  | { readonly kind: 'incomplete' }
  | {
      readonly kind: 'head';
      /** The request target as sent (authority form, checked later by `parseAuthority`). */
      readonly target: string;
      readonly version: '1.0' | '1.1';
      /** Name/value pairs as sent, like Node's `rawHeaders`. */
      readonly rawHeaders: string[];
      /** Bytes after the head that arrived with it (the tunnel's first bytes). */
      readonly rest: Buffer;
    }
  | {
      readonly kind: 'bad';
      readonly status: 400 | 431;
      readonly reason: 'malformed-request' | 'header-too-large' | 'too-many-headers';
      readonly text: string;
    };

/** What the first bytes of a connection say about it. */
export type Sniff = 'connect' | 'other' | 'undecided';

const PREFIX = Buffer.from('CONNECT ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** RFC 9110 `tchar`: the bytes a header name may contain. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
/** Field-value bytes: HTAB, SP, VCHAR, obs-text; no other control byte (NUL, CR, LF, DEL…). */
const VALUE = new Uint8Array(256);
for (let b = 0; b < 256; b++) VALUE[b] = b === HTAB || (b >= SP && b !== 0x7f) ? 1 : 0;

/** `connect` once the bytes start with `CONNECT `, `other` as soon as they cannot. */
export function sniffConnect(data: Buffer): Sniff {
  const n = Math.min(data.length, PREFIX.length);
  for (let i = 0; i < n; i++) if (data[i] !== PREFIX[i]) return 'other';
  return n === PREFIX.length ? 'connect' : 'undecided';
}

const bad = (text: string): HeadParse => ({ kind: 'bad', status: 400, reason: 'malformed-request', text });

/** Reads one CONNECT head from chunks as they arrive (any split, down to one byte at a time). */
export interface HeadReader {
  /** Adds bytes; the answer is final once it is not `incomplete`. */
  push(chunk: Buffer): HeadParse;
}

/**
 * A reader for one connection. The common case, a whole head in one chunk, copies nothing.
 * `anyMethod`: a request head of any method (the first request inside a tunnel), read as
 * strictly; `target` is then the request target and the method is not kept.
 */
export function createHeadReader(limits: HeadLimits, anyMethod = false): HeadReader {
  return new ConnectHeadReader(limits, anyMethod);
}

/** The state of one head being read: the bytes kept so far and what was parsed of them. */
class ConnectHeadReader implements HeadReader {
  readonly #limits: HeadLimits;
  /** An unfinished head, kept across chunks; undefined while nothing needs keeping. */
  #buf: Buffer | undefined;
  #len = 0;
  /** Where the next unparsed line starts. */
  #line = 0;
  #target = '';
  #version: '1.0' | '1.1' = '1.1';
  readonly #raw: string[] = [];
  #done: HeadParse | undefined;

  readonly #anyMethod: boolean;

  constructor(limits: HeadLimits, anyMethod: boolean) {
    this.#limits = limits;
    this.#anyMethod = anyMethod;
  }

  push(chunk: Buffer): HeadParse {
    if (this.#done !== undefined) return this.#done;
    let data = chunk;
    let total = chunk.length;
    let buf = this.#buf;
    if (buf !== undefined) {
      if (this.#len + chunk.length > buf.length) {
        const grown = Buffer.allocUnsafe((this.#len + chunk.length) * 2);
        buf.copy(grown, 0, 0, this.#len);
        buf = this.#buf = grown;
      }
      chunk.copy(buf, this.#len);
      this.#len += chunk.length;
      data = buf;
      total = this.#len;
    }
    const result = this.#scan(data, total);
    if (result.kind !== 'incomplete') {
      this.#done = result;
    } else if (buf === undefined) {
      // An unfinished head is kept in a buffer of our own (offsets stay the same), grown by
      // doubling: a client sending one byte at a time costs linear, not quadratic, copying.
      buf = this.#buf = Buffer.allocUnsafe(Math.max(256, chunk.length * 2));
      chunk.copy(buf);
      this.#len = chunk.length;
    }
    return result;
  }

  /** The request line: `CONNECT SP target SP HTTP/1.x`, exactly one space each, a visible-ASCII target. */
  #requestLine(data: Buffer, end: number): HeadParse | undefined {
    let start = PREFIX.length;
    if (this.#anyMethod) {
      start = 0;
      while (start < end && TCHAR[data[start] ?? 0] === 1) start++;
      if (start === 0 || data[start] !== SP) return bad('Malformed method.');
      start++;
    } else if (sniffConnect(data) !== 'connect') return bad('Not a CONNECT request line.');
    const sp = data.indexOf(SP, start);
    if (sp < 0 || sp >= end || sp === start) return bad('Malformed request line.');
    for (let i = start; i < sp; i++) {
      const b = data[i] ?? 0;
      if (b <= SP || b >= 0x7f) return bad('Malformed request target.');
    }
    const v = data.toString('latin1', sp + 1, end);
    if (v !== 'HTTP/1.1' && v !== 'HTTP/1.0') return bad('Unsupported HTTP version in the request line.');
    this.#target = data.toString('latin1', start, sp);
    this.#version = v === 'HTTP/1.1' ? '1.1' : '1.0';
    return undefined;
  }

  /** A header field line from `start` to `end` (its CRLF excluded). */
  #fieldLine(data: Buffer, start: number, end: number): HeadParse | undefined {
    const first = data[start] ?? 0;
    if (first === SP || first === HTAB) return bad('Obsolete line folding (obs-fold) is not accepted.');
    let colon = start;
    while (colon < end && TCHAR[data[colon] ?? 0] === 1) colon++;
    if (colon === start || colon >= end || data[colon] !== COLON) return bad('Malformed header field name.');
    let a = colon + 1;
    let b = end;
    while (a < b && (data[a] === SP || data[a] === HTAB)) a++;
    while (b > a && (data[b - 1] === SP || data[b - 1] === HTAB)) b--;
    for (let i = a; i < b; i++) if (VALUE[data[i] ?? 0] !== 1) return bad('Invalid byte in a header value.');
    const raw = this.#raw;
    if (raw.length / 2 >= this.#limits.maxHeadersCount) {
      return {
        kind: 'bad',
        status: 431,
        reason: 'too-many-headers',
        text: `More than ${this.#limits.maxHeadersCount} header fields.`,
      };
    }
    raw.push(data.toString('latin1', start, colon), data.toString('latin1', a, b));
    return undefined;
  }

  /**
   * Whether the line at `#line` holds a bare CR (one not followed by LF) before `limit`. The
   * same rule serves a finished line and the unfinished one, so the answer does not depend on
   * how the bytes were split into reads (a property test feeds every head in random pieces).
   */
  #bareCr(data: Buffer, limit: number): boolean {
    const cr = data.indexOf(CR, this.#line);
    return cr >= 0 && cr + 1 < limit && data[cr + 1] !== LF;
  }

  #scan(data: Buffer, total: number): HeadParse {
    const limits = this.#limits;
    for (;;) {
      const line = this.#line;
      const lf = data.indexOf(LF, line);
      if (lf < 0 || lf >= total) break;
      if (lf + 1 > limits.maxHeaderSize) break;
      // Only CRLF ends a line; a bare LF, or a CR anywhere else, is refused (the bare CR named
      // first, as in an unfinished line below).
      if (this.#bareCr(data, lf)) return bad('Bare CR in the request head.');
      if (lf === line || data[lf - 1] !== CR) return bad('Line not ended by CRLF (bare LF).');
      if (lf - 1 === line) {
        if (line === 0) return bad('Empty request line.');
        return {
          kind: 'head',
          target: this.#target,
          version: this.#version,
          rawHeaders: this.#raw,
          rest: data.subarray(lf + 1, total),
        };
      }
      const problem = line === 0 ? this.#requestLine(data, lf - 1) : this.#fieldLine(data, line, lf - 1);
      if (problem !== undefined) return problem;
      this.#line = lf + 1;
    }
    // No blank line yet: everything so far is head. A bare CR already seen in the unfinished
    // line need not wait for the rest of it; only bytes within the size limit are looked at,
    // and before the size is judged.
    if (this.#bareCr(data, Math.min(total, limits.maxHeaderSize))) return bad('Bare CR in the request head.');
    if (total > limits.maxHeaderSize) {
      return {
        kind: 'bad',
        status: 431,
        reason: 'header-too-large',
        text: `The request head is larger than ${limits.maxHeaderSize} bytes.`,
      };
    }
    return { kind: 'incomplete' };
  }
}

/** Fields whose repeats Node drops (first wins), so the gateway reads a head as Node would. */
const SINGLE = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** `rawHeaders` as Node's `req.headers`: lower-cased names, repeats dropped or joined as Node does. */
export function headersOf(raw: readonly string[]): Record<string, string | string[]> {
  // No prototype: a field named `__proto__` is just a field.
  const out = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    const had = out[name];
    if (had === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(had)) had.push(value);
    else if (!SINGLE.has(name)) out[name] = `${had}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}
