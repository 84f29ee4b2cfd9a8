/**
 * @module model/rule-template — the two things a denial points people to, and what an exception
 * becomes when it is promoted: the `weir exception request …` command for an identity and a
 * destination, and a policy rule as YAML to paste under `spec.rules`. Written once here because
 * the gateway's 403 body, `weir check` and `weir exception promote` all print them, and they must
 * agree to the character.
 */

/** A destination as a rule names it (one list item of `to:`). */
export type TemplateDestination =
  { readonly fqdn: string } | { readonly cidr: string } | { readonly prefixList: string };

/** What a rule template is made of; absent fields are printed as placeholders to fill in. */
export interface RuleTemplate {
  /** The rule's `id` (unique within its policy). */
  readonly id: string;
  /** The workload the rule is for (said in the comment above the rule). */
  readonly identity: string;
  readonly to: readonly TemplateDestination[];
  /** Ports and ranges (`443`, `8000-8100`); empty or absent: all ports. */
  readonly ports?: readonly string[];
  /** `tcp` (default, then not printed), `udp`, `icmp`, `icmpv6`, `all` or a number. */
  readonly protocol?: string;
  readonly justification?: string;
  readonly owner?: string;
  readonly dataClass?: string;
  /** `YYYY-MM-DD` or an ISO 8601 timestamp. */
  readonly expires?: string;
}

// Every string goes out as a JSON string: a double-quoted JSON string is a valid YAML scalar, so a
// justification with `: `, `#` or a newline cannot break the document or smuggle a key into it.
const q = (s: string): string => JSON.stringify(s);

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
/** A value that YAML reads back as the same string when unquoted (no `:`, `#`, leading `*` …). */
const scalar = (s: string): string =>
  PLAIN.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : q(s);

function destinationYaml(d: TemplateDestination): string {
  if ('fqdn' in d) return `{ fqdn: ${scalar(d.fqdn)} }`;
  if ('cidr' in d) return `{ cidr: ${scalar(d.cidr)} }`;
  return `{ prefixList: ${scalar(d.prefixList)} }`;
}

/**
 * The rule as a YAML list item for `spec.rules`, with a comment line naming the workload. Fields
 * not known are printed as `<fill in: …>` placeholders in quotes, so the YAML still parses and
 * `weir policy lint` points at what is left to write.
 */
export function renderRuleYaml(t: RuleTemplate): string {
  const lines = [
    // A comment ends at a line break: an identity holding one would put its tail on a line of
    // its own, read as YAML (a smuggled key or rule). Escaped, it stays inside the comment.
    `# Add under spec.rules of the policy for ${printable(t.identity)}:`,
    `- id: ${scalar(t.id)}`,
    `  to: [${t.to.map(destinationYaml).join(', ')}]`,
  ];
  if (t.ports !== undefined && t.ports.length > 0) {
    lines.push(`  ports: [${t.ports.map((p) => (/^\d+$/.test(p) ? p : q(p))).join(', ')}]`);
  }
  if (t.protocol !== undefined && t.protocol !== 'tcp') lines.push(`  protocol: ${scalar(t.protocol)}`);
  lines.push(`  justification: ${q(t.justification ?? '<fill in: why this workload needs it>')}`);
  lines.push(`  owner: ${q(t.owner ?? '<fill in: owning team or person>')}`);
  lines.push(`  dataClass: ${q(t.dataClass ?? '<fill in: data class, e.g. internal>')}`);
  lines.push(`  expires: ${t.expires !== undefined ? scalar(t.expires) : q('<fill in: YYYY-MM-DD>')}`);
  return lines.join('\n') + '\n';
}

// C0 and C1 controls, DEL, and the invisible direction and line-separator characters: printed
// raw, they could end a line early, or make a terminal show a command other than the one the
// shell runs ("Trojan Source"). A plain class: no backtracking on attacker text.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `s` with every control or direction character written as `\uXXXX`, safe to print on a line. */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// A shell word that needs no quoting: letters, digits and the punctuation of names and addresses
// (not brackets: an IPv6 literal would be a glob, and zsh stops at a glob that matches nothing).
const SHELL_SAFE = /^[A-Za-z0-9@%+=:,./_-]+$/;

/**
 * `s` as one POSIX shell word (single-quoted unless it is plainly safe). A leading `=` is quoted
 * too: zsh expands `=name` to the path of the command `name`.
 */
export function shellWord(s: string): string {
  if (s !== '' && SHELL_SAFE.test(s) && !s.startsWith('=')) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The exact command that asks for an exception for `identity` to reach `to` (written as
 * `weir check` writes destinations: `host[:port][/proto]`, `CIDR:port`, `pl-…`). The reason is a
 * placeholder the person replaces; everything else runs as printed.
 */
export function exceptionRequestCommand(identity: string, to: string): string {
  return `weir exception request --identity ${shellWord(identity)} --to ${shellWord(to)} --reason '<why you need it>' --ttl 24h`;
}
