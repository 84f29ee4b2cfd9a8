/**
 * @module test/security/tunnel-host-smuggling — red team: a CONNECT to a destination allowed by
 * name, then bytes that make the upstream (a shared front end, virtual hosting) serve another
 * name: plain HTTP with a foreign `Host` (or a foreign absolute-form target), a TLS ClientHello
 * without SNI, or bytes that are neither (whatever the front end makes of them). Each is cut
 * before a byte reaches the upstream. Where the rule allows the destination by address (CIDR),
 * the name never mattered: other bytes and a hello without SNI pass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadTokenKey } from '../../src/identity/index.js';
import { connectVia, echo } from '../helpers/gateway-client.js';
import { closeOf, poll, startTunnelFixture } from '../helpers/tunnel-fixture.js';
import type { TunnelFixture } from '../helpers/tunnel-fixture.js';

describe('smuggling another host through a CONNECT tunnel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-redteam-smuggle-'));
  let f: TunnelFixture;

  beforeAll(async () => {
    f = await startTunnelFixture(loadTokenKey(dir));
  });

  afterAll(async () => {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a tunnel to `target`, sends `bytes`, and waits for the gateway to cut it. */
  async function cutAfter(
    target: string,
    bytes: string | Buffer,
  ): Promise<{ close: unknown; upstream: number }> {
    const r = await connectVia(f.proxyPort, target, { token: f.token() });
    expect(r.status).toBe(200);
    const src = srcOf(r.socket);
    const before = upstreamBytes();
    r.socket.write(bytes);
    await closeOf(r.socket);
    const id = f.lines.find(
      (l) => l.msg === 'decision' && l.decision === 'allow' && l.src === src,
    )?.decisionId;
    const closed = await poll(() => f.lines.find((l) => l.msg === 'tunnel closed' && l.decisionId === id));
    // The upstream was connected (the CONNECT was allowed) but received nothing.
    return { close: closed.close, upstream: upstreamBytes() - before };
  }

  const srcOf = (s: Socket): string => `${s.localAddress ?? ''}:${s.localPort ?? 0}`;
  const upstreamBytes = (): number => f.conns.reduce((n, c) => n + c.bytes.length, 0);

  test('plain HTTP naming another Host behind CONNECT name.test:80-style is cut (host-mismatch)', async () => {
    const target = `name.test:${f.upstreamPort}`;
    const r = await cutAfter(target, 'GET / HTTP/1.1\r\nHost: other.test\r\n\r\n');
    expect(r).toEqual({ close: 'host-mismatch', upstream: 0 });
    expect(f.lines.find((l) => l.msg === 'decision' && l.reason === 'host-mismatch')).toMatchObject({
      decision: 'deny',
      host: 'name.test',
    });
  });

  test('a foreign absolute-form target with a matching Host is cut too', async () => {
    const target = `name.test:${f.upstreamPort}`;
    const r = await cutAfter(target, `GET http://other.test/ HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    expect(r).toEqual({ close: 'host-mismatch', upstream: 0 });
  });

  test('the right host on another port, no Host at all, or two Hosts: cut', async () => {
    const target = `name.test:${f.upstreamPort}`;
    expect(await cutAfter(target, 'GET / HTTP/1.1\r\nHost: name.test\r\n\r\n')).toEqual({
      close: 'host-mismatch',
      upstream: 0,
    });
    expect(await cutAfter(target, 'GET / HTTP/1.0\r\n\r\n')).toEqual({ close: 'host-mismatch', upstream: 0 });
    expect(await cutAfter(target, `GET / HTTP/1.1\r\nHost: ${target}\r\nHost: other.test\r\n\r\n`)).toEqual({
      close: 'host-mismatch',
      upstream: 0,
    });
  });

  test('plain HTTP whose Host names the CONNECT host and port goes through', async () => {
    const target = `name.test:${f.upstreamPort}`;
    const r = await connectVia(f.proxyPort, target, { token: f.token() });
    expect(r.status).toBe(200);
    const req = `GET / HTTP/1.1\r\nHost: ${target}\r\n\r\n`;
    expect(await echo(r.socket, req)).toBe(req);
    r.socket.destroy();
  });

  test('bytes that are neither TLS nor HTTP, to a destination allowed by name: cut', async () => {
    const r = await cutAfter(`name.test:${f.upstreamPort}`, Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]));
    expect(r).toEqual({ close: 'not-tls-or-http', upstream: 0 });
    // A line of text that is not an HTTP request line (SMTP, Redis…) is the same.
    expect(await cutAfter(`name.test:${f.upstreamPort}`, 'EHLO other.test\r\n')).toEqual({
      close: 'not-tls-or-http',
      upstream: 0,
    });
  });

  test('a TLS ClientHello without SNI, to a destination allowed by name: cut', async () => {
    const r = await connectVia(f.proxyPort, `name.test:${f.upstreamPort}`, { token: f.token() });
    expect(r.status).toBe(200);
    const before = upstreamBytes();
    // An IP address as host: Node sends no server_name extension.
    const t = tlsConnect({ socket: r.socket, host: '127.0.0.1', rejectUnauthorized: false });
    t.on('error', () => undefined);
    await closeOf(r.socket);
    t.destroy();
    await poll(() => f.lines.find((l) => l.msg === 'tunnel closed' && l.close === 'sni-missing'));
    expect(upstreamBytes() - before).toBe(0);
  });

  describe('allowed by address (CIDR): the name never mattered', () => {
    test('bytes that are neither TLS nor HTTP pass', async () => {
      const r = await connectVia(f.proxyPort, `cidr.test:${f.upstreamPort}`, { token: f.token() });
      expect(r.status).toBe(200);
      expect(await echo(r.socket, '\u0000\u0001raw protocol bytes')).toBe('\u0000\u0001raw protocol bytes');
      r.socket.destroy();
    });

    test('to an IP literal as well', async () => {
      const r = await connectVia(f.proxyPort, `198.51.100.20:${f.upstreamPort}`, { token: f.token() });
      expect(r.status).toBe(200);
      expect(await echo(r.socket, 'EHLO x\r\n')).toBe('EHLO x\r\n');
      r.socket.destroy();
    });

    test('a TLS ClientHello without SNI passes (the upstream receives it)', async () => {
      const r = await connectVia(f.proxyPort, `cidr.test:${f.upstreamPort}`, { token: f.token() });
      expect(r.status).toBe(200);
      const before = f.conns.length;
      const t = tlsConnect({ socket: r.socket, host: '127.0.0.1', rejectUnauthorized: false });
      t.on('error', () => undefined);
      await poll(() => f.conns.slice(Math.max(0, before - 1)).find((c) => c.bytes[0] === 0x16));
      t.destroy();
    });

    test('plain HTTP is not read: any Host passes (the address is what was allowed)', async () => {
      const r = await connectVia(f.proxyPort, `cidr.test:${f.upstreamPort}`, { token: f.token() });
      expect(r.status).toBe(200);
      const req = 'GET / HTTP/1.1\r\nHost: other.test\r\n\r\n';
      expect(await echo(r.socket, req)).toBe(req);
      r.socket.destroy();
    });

    test('a short message that could still become a request line is not held back', async () => {
      const r = await connectVia(f.proxyPort, `cidr.test:${f.upstreamPort}`, { token: f.token() });
      expect(r.status).toBe(200);
      expect(await echo(r.socket, 'ping')).toBe('ping');
      r.socket.destroy();
    });
  });
});
