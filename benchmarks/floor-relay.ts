/**
 * The floor of the gateway benchmark: the least a CONNECT proxy written in Node.js can do per
 * tunnel on this machine. Reads the request head, connects to its target, answers 200 and relays
 * both ways with `pipe()`; no identity, no checks, no limits, no log, no metrics. What Weir costs
 * above this is Weir's own; what this costs above Squid is Node's per-socket machinery.
 *
 * Run by benchmarks/gateway.bench.ts as its own process; prints the port it listens on.
 */
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

const ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n');

function relayTunnel(client: Socket, head: Buffer, rest: Buffer): void {
  const target = /^CONNECT ([^ :]+):(\d+) /.exec(head.toString('latin1'));
  if (target === null) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  const upstream = connect({ host: target[1], port: Number(target[2]), noDelay: true }, () => {
    client.write(ESTABLISHED);
    if (rest.length > 0) upstream.write(rest);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
}

const server = createServer({ noDelay: true }, (client) => {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    client.off('data', onData);
    client.pause();
    relayTunnel(client, head.subarray(0, end), head.subarray(end + 4));
  };
  client.on('data', onData);
  client.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
// Exit normally on the bench's SIGTERM, so that `--cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
