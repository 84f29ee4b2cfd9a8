/**
 * @module gateway/sni — reads the server name (SNI) from the first bytes a client sends through a
 * tunnel, without terminating TLS: the TLS records carrying the ClientHello are reassembled and
 * walked with bounds checks. The gateway compares the name with the CONNECT host.
 */

/** What the first bytes of a tunnel turned out to be. */
export type HelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'malformed'; readonly why: string }
  | { readonly kind: 'client-hello'; readonly sni: string | undefined };

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
/** A ClientHello larger than this is refused rather than buffered. */
export const MAX_HELLO_BYTES = 64 * 1024;

class Malformed extends Error {}

/** A bounds-checked reader: running off the end is a malformed hello, never a garbage read. */
class Reader {
  #pos = 0;
  constructor(readonly buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.#pos;
  }
  u8(): number {
    if (this.left < 1) throw new Malformed('truncated');
    return this.buf[this.#pos++] ?? 0;
  }
  u16(): number {
    return this.u8() * 256 + this.u8();
  }
  bytes(n: number): Buffer {
    if (this.left < n) throw new Malformed('truncated');
    const out = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
}

/**
 * Parses the ClientHello at the start of `data`. `incomplete` asks for more bytes; `not-tls`
 * when the first byte is not a TLS handshake record (the tunnel carries something else).
 */
export function parseClientHello(data: Buffer): HelloResult {
  if (data.length === 0) return { kind: 'incomplete' };
  if (data[0] !== HANDSHAKE) return { kind: 'not-tls' };
  // The handshake message may span several records; gather their fragments.
  const fragments: Buffer[] = [];
  let have = 0;
  let pos = 0;
  let need = -1;
  while (need < 0 || have < need) {
    if (data.length - pos < 5) return { kind: 'incomplete' };
    if (data[pos] !== HANDSHAKE)
      return { kind: 'malformed', why: 'ClientHello interrupted by another record' };
    if (data[pos + 1] !== 3) return { kind: 'malformed', why: 'not a TLS record version' };
    const len = data.readUInt16BE(pos + 3);
    if (len === 0 || len > 16384 + 2048) return { kind: 'malformed', why: `bad record length ${len}` };
    if (data.length - pos - 5 < len) return { kind: 'incomplete' };
    fragments.push(data.subarray(pos + 5, pos + 5 + len));
    have += len;
    pos += 5 + len;
    if (need < 0 && have >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO)
        return { kind: 'malformed', why: 'first handshake message is not a ClientHello' };
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_HELLO_BYTES) return { kind: 'malformed', why: 'ClientHello too large' };
    }
  }
  try {
    return { kind: 'client-hello', sni: readSni(Buffer.concat(fragments).subarray(4, need)) };
  } catch (err) {
    if (err instanceof Malformed) return { kind: 'malformed', why: err.message };
    throw err;
  }
}

function readSni(body: Buffer): string | undefined {
  const r = new Reader(body);
  r.bytes(2 + 32); // legacy_version, random
  r.bytes(r.u8()); // session id
  r.bytes(r.u16()); // cipher suites
  r.bytes(r.u8()); // compression methods
  if (r.left === 0) return undefined; // no extensions at all
  const ext = new Reader(r.bytes(r.u16()));
  let sni: string | undefined;
  let seen = false;
  while (ext.left > 0) {
    const type = ext.u16();
    const data = ext.bytes(ext.u16());
    if (type !== SERVER_NAME) continue;
    // Two server_name extensions, or two host names, could be read differently by us and by the
    // server (first vs last wins): refuse the ambiguity instead of picking one.
    if (seen) throw new Malformed('duplicate server_name extension');
    seen = true;
    const list = new Reader(data);
    const names = new Reader(list.bytes(list.u16()));
    while (names.left > 0) {
      const nameType = names.u8();
      const name = names.bytes(names.u16());
      if (nameType !== 0) continue;
      if (sni !== undefined) throw new Malformed('several host names in server_name');
      const text = name.toString('latin1');
      if (!/^[\x21-\x7e]+$/.test(text)) throw new Malformed('server name is not printable ASCII');
      sni = text.toLowerCase().replace(/\.$/, '');
    }
  }
  return sni;
}
