/**
 * @module model/hostname — the one check of a host name (no wildcards) that policy files and the
 * gateway share: IDNA, DNS labels, no IP address posing as a name, length. Policy adds its
 * wildcard grammar on top (`policy/normalize`); the gateway applies it to every name a client
 * sends, so a name that a policy could never have written is refused before any lookup.
 */
import { domainToASCII } from 'node:url';
import { parseIpv4, parseIpv6 } from './cidr.js';

/** A checked host name (ASCII, lower case), or what is wrong with it and how to write it. */
export type HostNameCheck =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly message: string; readonly hint?: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function refuse(message: string, hint?: string): HostNameCheck {
  return hint === undefined ? { ok: false, message } : { ok: false, message, hint };
}

/**
 * Checks a host name already in lower case with its trailing dot removed, and returns its ASCII
 * (IDNA) form: `bücher.example` → `xn--bcher-kva.example`.
 */
export function checkHostName(name: string): HostNameCheck {
  if (name.includes('*')) return refuse('a host name cannot contain "*"');
  if (parseIpv4(name) !== undefined || parseIpv6(name) !== undefined || /^\[.*\]$/.test(name)) {
    const host = name.replace(/^\[|\]$/g, '');
    return refuse(
      'an IP address is not a host name',
      `use { cidr: ${host}/${parseIpv4(host) !== undefined ? 32 : 128} }`,
    );
  }
  const ascii = domainToASCII(name);
  if (ascii === '') return refuse('not a valid (internationalised) host name');
  const labels = ascii.split('.');
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return refuse(
      bad === '' ? 'empty label (two dots in a row, or a leading dot)' : `label "${bad}" is not a DNS label`,
      'labels are 1-63 letters, digits, "-" or "_", not starting or ending with "-"',
    );
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return refuse('the last label of a host name cannot be all digits');
  }
  if (ascii.length > 253) return refuse(`host name is ${ascii.length} characters; at most 253`);
  return { ok: true, name: ascii };
}
