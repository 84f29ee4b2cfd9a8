/**
 * @module gateway/tunnel-head — reads plain HTTP at the start of a CONNECT tunnel: whether the
 * client's first bytes can still be an HTTP/1.x request line (`RequestLineSniffer`, one pass over
 * each byte however the bytes are split), and whether a request head names the CONNECT host
 * (`tunnelHeadProblem`: its `Host` and an absolute-form target, with the port rules of plain
 * HTTP). Without this, `CONNECT allowed.example:80` followed by `GET /` with `Host:
 * denied.example` is served by a shared front end as the denied name.
 */
import { parseAuthority, sameHost } from './host.js';
import type { Authority } from './host.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
/** The longest method we take for HTTP (`PROPPATCH`, `MKCALENDAR`, `UPDATEREDIRECTREF`…). */
const MAX_METHOD = 20;
const VERSION = 'HTTP/1.';

/** RFC 9110 `tchar`: the bytes a method may contain. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** What the bytes so far are: not a request line, maybe one (more bytes needed), or one. */
export type LineSniff = 'other' | 'undecided' | 'request-line';

const enum Phase {
  Method,
  Target,
  Version,
  Cr,
  Done,
  Other,
}

/**
 * Follows the first line of a tunnel byte by byte: `METHOD SP target SP HTTP/1.x CRLF`, strictly
 * (one space each, a visible-ASCII target, CRLF). Anything else is `other` as soon as it cannot
 * be such a line, so a binary protocol's first message is judged at once, not after a timeout.
 */
export class RequestLineSniffer {
  #phase = Phase.Method;
  /** Bytes seen in the current phase. */
  #n = 0;
  #total = 0;

  constructor(private readonly maxLine: number) {}

  /** Takes the next bytes; the answer is final once it is not `undecided`. */
  push(chunk: Buffer): LineSniff {
    for (let i = 0; i < chunk.length && this.#phase < Phase.Done; i++) this.#step(chunk[i] ?? 0);
    this.#total += chunk.length;
    if (this.#phase === Phase.Done) return 'request-line';
    if (this.#phase === Phase.Other || this.#total > this.maxLine) return 'other';
    return 'undecided';
  }

  #step(b: number): void {
    const n = this.#n++;
    switch (this.#phase) {
      case Phase.Method:
        if (b === SP && n > 0) return this.#next(Phase.Target);
        if (TCHAR[b] !== 1 || n >= MAX_METHOD) this.#phase = Phase.Other;
        return;
      case Phase.Target:
        if (b === SP && n > 0) return this.#next(Phase.Version);
        if (b <= SP || b >= 0x7f) this.#phase = Phase.Other;
        return;
      case Phase.Version:
        if (n < VERSION.length ? b !== VERSION.charCodeAt(n) : b !== 0x30 && b !== 0x31) {
          this.#phase = Phase.Other;
        } else if (n === VERSION.length) this.#next(Phase.Cr);
        return;
      case Phase.Cr:
        if (n === 0 && b === CR) return;
        this.#phase = n === 1 && b === LF ? Phase.Done : Phase.Other;
        return;
      default:
        return;
    }
  }

  #next(phase: Phase): void {
    this.#phase = phase;
    this.#n = 0;
  }
}

/**
 * Why a request head at the start of a tunnel to `connect` is refused, or undefined when it names
 * that host: exactly one `Host` field, naming the CONNECT host and port (without a port, 80, as
 * for plain HTTP); a request target in origin form (`/path`, `*`), or in absolute form naming the
 * same host and port (a server takes the host from an absolute target over `Host`).
 */
export function tunnelHeadProblem(
  target: string,
  rawHeaders: readonly string[],
  connect: Authority,
): string | undefined {
  const hosts: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] ?? '').toLowerCase() === 'host') hosts.push(rawHeaders[i + 1] ?? '');
  }
  // None: the front end picks its default site; two: front ends disagree about which one counts.
  if (hosts.length !== 1)
    return `${hosts.length} Host header fields (exactly one must name the CONNECT host)`;
  const host = hosts[0] ?? '';
  if (!sameAuthority(parseAuthority(host, 80), connect)) {
    return `Host header '${host}' does not name the CONNECT host and port`;
  }
  if (target.startsWith('/') || target === '*') return undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(target);
  if (m === null) return `request target '${target.slice(0, 100)}' is neither a path nor an absolute URI`;
  const authority = m[2] ?? '';
  if (authority.includes('@')) return 'userinfo (user@host) is not allowed in the request target';
  const scheme = (m[1] ?? '').toLowerCase();
  const defaultPort =
    scheme === 'http' || scheme === 'ws' ? 80 : scheme === 'https' || scheme === 'wss' ? 443 : undefined;
  if (!sameAuthority(parseAuthority(authority, defaultPort), connect)) {
    return `request target '${target.slice(0, 100)}' does not name the CONNECT host and port`;
  }
  return undefined;
}

function sameAuthority(a: ReturnType<typeof parseAuthority>, b: Authority): boolean {
  return a.ok && sameHost(a.value.host, b.host) && a.value.port === b.port;
}
