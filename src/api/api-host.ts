/**
 * @module api/api-host — `--api-host NAME,…`: the host names this API answers to, and the check
 * that a request was signed for one of them. SigV4 signs the `Host` header, so the check binds a
 * signature to this server: a request signed for another endpoint that trusts the same key
 * (another Weir, a staging server, a name an attacker points here) is refused, not replayed.
 */
import { Ec2Error } from '../model/index.js';

/** One `--api-host` entry: a name (or address), and the port when the entry names one. */
export interface ApiHost {
  /** Lower-cased host name or IP address (IPv6 without brackets). */
  readonly name: string;
  readonly port?: number;
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9a-f:.]{2,45}$/;

/**
 * Splits a host as `Host` carries it (`name`, `name:port`, `[v6]`, `[v6]:port`), lower-cased;
 * undefined when it is not one.
 */
export function splitHost(value: string): ApiHost | undefined {
  const v = value.trim().toLowerCase();
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const name = (m[1] ?? m[2]) as string;
  if (m[1] !== undefined ? !IPV6.test(name) : !HOST_NAME.test(name)) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return port === undefined ? { name } : { name, port };
}

/**
 * Parses the `--api-host` list.
 * @throws Error naming the entry that is not a host name, address or `name:port`.
 */
export function parseApiHosts(list: readonly string[]): readonly ApiHost[] {
  return list.map((entry) => {
    const host = splitHost(entry);
    if (host === undefined) {
      throw new Error(
        `'${entry.slice(0, 100)}' is not a host name or address, optionally with :PORT (e.g. weir.example.com, 127.0.0.1:8484, [::1])`,
      );
    }
    return host;
  });
}

/**
 * Checks that the signed `Host` of a request is one of `hosts` (a name without a port matches
 * any port). An empty list checks nothing: without `--api-host` any host is accepted, as before.
 * @throws Ec2Error `AuthFailure` naming the host the request was signed for.
 */
export function checkSignedHost(host: string | undefined, hosts: readonly ApiHost[]): void {
  if (hosts.length === 0) return;
  const got = host === undefined ? undefined : splitHost(host);
  const ok =
    got !== undefined &&
    hosts.some((h) => h.name === got.name && (h.port === undefined || h.port === got.port));
  if (!ok) {
    const shown = (host ?? '').slice(0, 100);
    throw new Ec2Error(
      'AuthFailure',
      `The request was signed for host '${shown}', which this server does not answer to; ` +
        'sign it for the endpoint URL the server gave (see --api-host).',
    );
  }
}
