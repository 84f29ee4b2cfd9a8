/**
 * @module test/helpers/dns-server — a tiny UDP DNS server on 127.0.0.1 for resolver tests: answers
 * A and AAAA queries from a mutable map (name → addresses), NODATA for a known name without
 * records of the asked type, NXDOMAIN for anything else. Every query is recorded, so a test can
 * count lookups.
 */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, for `dnsServerResolve` / `--dns-server`. */
  readonly address: string;
  /** Lower-case name → addresses (IPv4 and IPv6 text); edit it between queries. */
  readonly records: Map<string, string[]>;
  /** Each query as `NAME TYPE` (`A`, `AAAA`, or the type number). */
  readonly queries: string[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

/** Reads the question name at `offset` (no compression in questions); returns it and the end. */
function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  for (let len = msg[i] ?? 0; len > 0; len = msg[i] ?? 0) {
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function rdata(type: number, ip: string): Buffer | undefined {
  if (type === TYPE_A && isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (type === TYPE_AAAA && isIPv6(ip)) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    const out = Buffer.alloc(16);
    groups.forEach((g, k) => out.writeUInt16BE(parseInt(g, 16), k * 2));
    return out;
  }
  return undefined;
}

/** Builds the answer to one query message. */
function answer(query: Buffer, records: ReadonlyMap<string, readonly string[]>, log: string[]): Buffer {
  const { name, end } = readName(query, 12);
  const type = query.readUInt16BE(end);
  log.push(`${name} ${type === TYPE_A ? 'A' : type === TYPE_AAAA ? 'AAAA' : String(type)}`);
  const known = records.get(name);
  const datas = (known ?? []).map((ip) => rdata(type, ip)).filter((d): d is Buffer => d !== undefined);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // id
  // QR=1, opcode copied, AA=1, RD copied, RA=1; rcode 3 (NXDOMAIN) for an unknown name.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x7900) | 0x80 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(datas.length, 6);
  const question = query.subarray(12, end + 4);
  const answers = datas.map((d) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4); // class IN
    rr.writeUInt32BE(0, 6); // TTL 0: every lookup asks again
    rr.writeUInt16BE(d.length, 10);
    return Buffer.concat([rr, d]);
  });
  return Buffer.concat([header, question, ...answers]);
}

/** Starts the server on 127.0.0.1 (a free UDP port). */
export async function startDnsServer(initial: Record<string, string[]> = {}): Promise<TestDnsServer> {
  const records = new Map(Object.entries(initial));
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 17) return;
    socket.send(answer(msg, records, queries), rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', res));
  const { port } = socket.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    records,
    queries,
    close: () => new Promise((res) => socket.close(() => res())),
  };
}
