/**
 * @module api/landing — what a browser gets at `GET /`: a small HTML page saying what this is and
 * where to go, instead of an EC2 `MissingParameter` XML document. SDK and CLI calls never get it:
 * they send an `Action` or a signature, and none asks for `text/html`.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Whether `req` is a browser's plain visit: `GET /` without a query or a signature, accepting
 * `text/html`.
 */
export function wantsLandingPage(req: IncomingMessage, path: string, query: string): boolean {
  if (req.method !== 'GET' || path !== '/' || query !== '') return false;
  if (req.headers['authorization'] !== undefined) return false;
  const accept = req.headers['accept'];
  return typeof accept === 'string' && accept.toLowerCase().includes('text/html');
}

/**
 * The page. Static text only: nothing from the request goes into it, so there is nothing to
 * inject; it is sent with a policy that allows no script, style or frame.
 */
export const LANDING_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Weir</title></head>
<body>
<h1>Weir</h1>
<p>This is the API of a <b>Weir</b> server: egress control with an EC2-compatible
security-group API. It is meant for the AWS CLI, the AWS SDKs and the <code>weir</code>
command, which sign their requests (SigV4); a browser gets this page.</p>
<p><a href="/console/"><b>Open the Weir Console</b></a>: decisions, exceptions, break-glass and the
audit trail in a browser (sign in with an access key from the credentials file).</p>
<ul>
<li><a href="/console/">/console/</a>: the Weir Console.</li>
<li><a href="/healthz">/healthz</a>: health check (JSON).</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics.</li>
<li><code>POST /</code>: the EC2 Query API (security groups, VPCs, prefix lists).</li>
<li><code>/weir/v1/…</code>: the Weir API (workloads, tokens, policy bundles, checks).</li>
</ul>
<p>Try: <code>weir ec2 describe-security-groups</code>, or
<code>aws --endpoint-url URL ec2 describe-security-groups</code> with the keys in the
server's data directory (<code>weir-data/credentials</code>).</p>
<p>Documentation: <code>README.md</code> and <code>docs/</code> in the Weir source
(<code>docs/api.md</code>, <code>docs/operations.md</code>, <code>docs/security.md</code>).</p>
</body>
</html>
`;

/** Headers of the page: HTML, never sniffed, no active content. */
export const LANDING_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'",
} as const;
