/**
 * @module model/denial-template — what a denial tells the person who hit it to do next: the exact
 * `weir exception request …` command for that identity and destination and a policy rule to paste
 * (when an exception could fix the denial), or, for a guarded range, that only a reviewed policy
 * rule naming the range can open it. One function builds the lines, so the gateway's 403 body and
 * `weir check` print the same text to the character.
 */
import { parseAddressInto } from './address.js';
import { guardrailIndex } from './guardrails.js';
import { exceptionRequestCommand, printable, renderRuleYaml } from './rule-template.js';

/** A denied destination as a decision request names it. */
export interface DeniedTarget {
  /** The destination name (FQDN, normalised), when one was asked for. */
  readonly host?: string;
  /** The address (canonical text; IPv6 without brackets), when no name was asked for. */
  readonly ip?: string;
  /** 0 for protocols without ports. */
  readonly port: number;
  /** `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number. */
  readonly protocol: string;
}

/** The template of a denial an exception could fix: the command and the rule (YAML). */
export interface DenialTemplate {
  readonly command: string;
  readonly rule: string;
}

/** What a denial advises: its lines of text, and the same as fields for JSON. */
export type DenialAdvice =
  | { readonly kind: 'template'; readonly template: DenialTemplate; readonly lines: readonly string[] }
  | { readonly kind: 'guardrail' | 'unprintable'; readonly note: string; readonly lines: readonly string[] };

/** Denial reasons an exception (or a new rule) can fix. `error` and `guardrail` are not. */
export const TEMPLATE_REASONS: readonly string[] = ['no-match', 'expired', 'unknown-identity'];

/**
 * The longest identity written into a template. Identities are authenticated, but a token or an
 * identity map can carry long ones; a longer one gets a note instead of a command, so a denial's
 * body stays bounded (and a truncated identity is never printed as if it were the real one).
 */
export const MAX_TEMPLATE_IDENTITY = 512;

const hasPort = (protocol: string): boolean => protocol === 'tcp' || protocol === 'udp';

/**
 * The destination as `weir check --to` and `weir exception request --to` read it: `host:port`
 * for a name, `ip:port` or `[v6]:port` for an address, `/proto` added unless tcp; a protocol
 * without ports names the host or bare address alone (`10.0.0.1/icmp`).
 */
export function destinationText(t: DeniedTarget): string {
  const where = t.host ?? t.ip ?? '';
  const proto = t.protocol === 'tcp' ? '' : `/${t.protocol}`;
  if (!hasPort(t.protocol)) return `${where}${proto}`;
  const shown = t.host === undefined && where.includes(':') ? `[${where}]` : where;
  return `${shown}:${t.port}${proto}`;
}

const MAX_RULE_ID = 64;

/**
 * A rule ID derived from the destination (`api-example-com-443`, `10-0-0-1-443`,
 * `2001-db8-1-53-udp`): every run of other characters becomes one `-`. A long name keeps its
 * end (the registrable domain says more than the first labels), so the ID fits the 64 characters
 * a rule ID may have.
 */
export function templateRuleId(t: DeniedTarget): string {
  const slug = (s: string): string =>
    s
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((p) => p !== '')
      .join('-');
  const suffix = [hasPort(t.protocol) ? `${t.port}` : '', t.protocol === 'tcp' ? '' : slug(t.protocol)]
    .filter((p) => p !== '')
    .join('-');
  let base = slug(t.host ?? t.ip ?? '');
  const room = MAX_RULE_ID - (suffix === '' ? 0 : suffix.length + 1);
  if (base.length > room) base = base.slice(base.length - room).replace(/^-+/, '');
  const id = [base, suffix].filter((p) => p !== '').join('-');
  return id === '' ? 'rule' : id;
}

/** The command and the rule for `identity` reaching `t`. */
export function denialTemplate(identity: string, t: DeniedTarget): DenialTemplate {
  const to =
    t.host !== undefined
      ? { fqdn: t.host }
      : { cidr: `${t.ip ?? ''}/${(t.ip ?? '').includes(':') ? 128 : 32}` };
  return {
    command: exceptionRequestCommand(identity, destinationText(t)),
    rule: renderRuleYaml({
      id: templateRuleId(t),
      identity,
      to: [to],
      ...(hasPort(t.protocol) ? { ports: [`${t.port}`] } : {}),
      protocol: t.protocol,
    }),
  };
}

const WORDS = new Uint32Array(4);
/** Whether a guardrail blocks `ip`: the engine's own allocation-free check (a denial flood is cheap). */
function guarded(ip: string): boolean {
  const family = parseAddressInto(ip, WORDS);
  return family !== 0 && guardrailIndex(family, WORDS) >= 0;
}

/**
 * What a denial with `reason` advises `identity` reaching `t`: the template for a reason an
 * exception can fix, the guarded-range note for a guardrail, nothing for the rest (an error, an
 * allow). `address` is the address decided (for a name, the one resolved): a guarded one
 * gets the guardrail's note, whatever the reason.
 */
export function denialAdvice(
  reason: string,
  identity: string,
  t: DeniedTarget,
  address?: string,
): DenialAdvice | undefined {
  const ip = address ?? t.ip;
  // A guarded address is closed to exceptions whatever the engine named first (`unknown-identity`
  // is decided before the guardrails): a command the exception service must refuse, or a grant
  // the guardrail then blocks, would only send the person round in a circle.
  if (reason === 'guardrail' || (TEMPLATE_REASONS.includes(reason) && ip !== undefined && guarded(ip))) {
    const cidr = ip === undefined ? 'the range' : `${ip}/${ip.includes(':') ? 128 : 32}`;
    const note =
      'No exception can open this: exceptions refuse guarded ranges. Only a reviewed policy rule ' +
      `that names the range itself (to: [{ cidr: ${cidr} }]) can open it.`;
    return { kind: 'guardrail', note, lines: [note] };
  }
  if (!TEMPLATE_REASONS.includes(reason)) return undefined;
  if (identity.length > MAX_TEMPLATE_IDENTITY || printable(identity) !== identity) {
    const note =
      `The identity is longer than ${MAX_TEMPLATE_IDENTITY} characters or holds control characters, ` +
      'so no command is printed for it: ask an administrator for an exception.';
    return { kind: 'unprintable', note, lines: [note] };
  }
  const template = denialTemplate(identity, t);
  const ruleHead =
    reason === 'unknown-identity'
      ? 'Or propose a reviewed rule, in a policy whose spec.workloads select this identity (none does yet; '
      : 'Or propose a reviewed policy rule (';
  return {
    kind: 'template',
    template,
    lines: [
      'Ask for access with an exception (replace the reason; another person approves it):',
      `  ${template.command}`,
      `${ruleHead}fill in the <fill in: …> fields, then run weir policy lint):`,
      ...template.rule.replace(/\n$/, '').split('\n'),
    ],
  };
}

/** The advice as JSON: `{ command, rule }`, or `{ note }` when there is no command to give. */
export function adviceJson(a: DenialAdvice): { command: string; rule: string } | { note: string } {
  return a.kind === 'template' ? { command: a.template.command, rule: a.template.rule } : { note: a.note };
}
