import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WeirError } from '../model/index.js';
import { createWebhookPoster, notificationBody, parseWebhookUrls } from './webhook.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A receiver on 127.0.0.1 answering with `handle`; resolves with its URL. */
async function receiver(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<URL> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handle(req, res, body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0/secret`);
}

const opts = { timeoutMs: 60_000, maxResponseBytes: 1024, concurrency: 2 };

describe('parseWebhookUrls', () => {
  it.each([
    ['not a url', /--notify-webhook \(#1\): not an absolute URL/],
    ['ftp://hooks.example.com/x', /--notify-webhook \(#1\): the scheme 'ftp' is not http or https/],
    ['file:///etc/passwd', /the scheme 'file' is not http or https/],
    ['https://hooks.example.com/x#frag', /a fragment/],
  ])('refuses %s, naming the flag', (url, message) => {
    expect(() => parseWebhookUrls([url])).toThrow(message);
    expect(() => parseWebhookUrls([url])).toThrow(WeirError);
  });

  it('never shows the path of a URL it refuses (the token is often there)', () => {
    expect(() => parseWebhookUrls(['https://ok.example/a', 'gopher://h/SECRET-TOKEN'])).toThrow(/#2/);
    try {
      parseWebhookUrls(['gopher://h/SECRET-TOKEN']);
    } catch (err) {
      expect(String(err)).not.toContain('SECRET');
    }
  });

  it('refuses the same URL twice, and keys each webhook by a digest, not its URL', () => {
    expect(() => parseWebhookUrls(['https://a.example/x', 'https://a.example/x'])).toThrow(
      /--notify-webhook \(#2\): the same URL as #1/,
    );
    const [a, b] = parseWebhookUrls(['https://a.example/x?token=s3cret', 'http://b.example/y']);
    expect([a!.index, b!.index]).toEqual([1, 2]);
    expect(a!.key).toMatch(/^[0-9a-f]{32}$/);
    expect(a!.key).not.toBe(b!.key);
  });
});

describe('notificationBody', () => {
  it('puts text, event, at and id first; fields beside them cannot replace them', () => {
    const body = notificationBody({
      seq: 7,
      event: 'breakglass.opened',
      text: 'break-glass opened',
      fields: { session: 'bg-1', text: 'x', id: 'y', at: 'z', event: 'w' },
      at: new Date('2026-12-06T00:00:00.000Z'),
      attempts: 0,
    });
    expect(body).toBe(
      '{"text":"break-glass opened","event":"breakglass.opened","at":"2026-12-06T00:00:00.000Z","id":7,"session":"bg-1"}',
    );
  });
});

describe('createWebhookPoster', () => {
  it('POSTs the JSON body and takes a 2xx as delivered', async () => {
    let got: Record<string, string | undefined> = {};
    const url = await receiver((req, res, body) => {
      got = { method: req.method, type: req.headers['content-type'], body, path: req.url };
      res.end('ok');
    });
    const poster = createWebhookPoster(url, opts);
    expect(await poster.post('{"text":"hi"}')).toEqual({ ok: true, status: 200 });
    expect(got).toEqual({
      method: 'POST',
      type: 'application/json',
      body: '{"text":"hi"}',
      path: '/hooks/T0/secret',
    });
    poster.close();
  });

  it('takes any other status as a failure, with Retry-After in seconds, and follows no redirect', async () => {
    let n = 0;
    const url = await receiver((_req, res) => {
      n++;
      if (n === 1) res.writeHead(503, { 'retry-after': '30' }).end();
      else res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere' }).end();
    });
    const poster = createWebhookPoster(url, opts);
    expect(await poster.post('{}')).toEqual({ ok: false, error: 'HTTP 503', retryAfterMs: 30_000 });
    expect(await poster.post('{}')).toEqual({ ok: false, error: 'HTTP 302' });
    poster.close();
  });

  it('reads no more than the bound of a huge response body', async () => {
    let written = 0;
    const url = await receiver((_req, res) => {
      res.writeHead(200);
      // Endless: the poster must cut it rather than read on.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const poster = createWebhookPoster(url, opts);
    expect(await poster.post('{}')).toEqual({ ok: true, status: 200 });
    poster.close();
    expect(written).toBeGreaterThan(0);
  });

  it('a receiver that never answers is cut at the timeout; close() cuts what is in flight', async () => {
    const url = await receiver(() => undefined);
    const quick = createWebhookPoster(url, { ...opts, timeoutMs: 50 });
    expect(await quick.post('{}')).toEqual({ ok: false, error: 'no answer within 50 ms' });
    quick.close();
    const slow = createWebhookPoster(url, opts);
    const pending = slow.post('{}');
    slow.close();
    expect(await pending).toEqual({ ok: false, error: 'aborted: the server is shutting down' });
  });

  it('a closed port is a failure naming the error code', async () => {
    const url = await receiver(() => undefined);
    const server = servers.pop()!;
    await new Promise((r) => server.close(r));
    const poster = createWebhookPoster(url, opts);
    expect(await poster.post('{}')).toEqual({ ok: false, error: 'ECONNREFUSED' });
    poster.close();
  });
});
