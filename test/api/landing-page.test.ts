/**
 * @module test/api/landing-page — `GET /` in a browser (issue #15, item 22): a small HTML page
 * saying what the server is and where /healthz, /metrics and the docs are, instead of EC2's
 * `MissingParameter` XML; SDK-style requests keep EC2's answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('GET / in a browser', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('shows a small HTML page with the way to health, metrics and the docs', async () => {
    const res = await fetch(`${server.url}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('<title>Weir</title>');
    expect(html).toContain('href="/healthz"');
    expect(html).toContain('href="/metrics"');
    expect(html).toContain('docs/');
    expect(html.length).toBeLessThan(4096);
  });

  it('keeps EC2 answers for requests that are not a plain browser visit', async () => {
    // curl's and the SDKs' Accept, an Action in the query, a POST: EC2 XML as before.
    for (const [path, init] of [
      ['/', { headers: { accept: '*/*' } }],
      ['/?Action=DescribeVpcs', { headers: { accept: BROWSER_ACCEPT } }],
      ['/', { method: 'POST', headers: { accept: BROWSER_ACCEPT }, body: 'Action=DescribeVpcs' }],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, init);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('<Code>MissingParameter</Code>');
    }
  });
});
