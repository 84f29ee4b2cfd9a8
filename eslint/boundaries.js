// @ts-check
/**
 * @module eslint/boundaries — Weir's component boundaries as an ESLint rule: which component may
 * import which (the layer table of docs/architecture.md), and that a component is entered only
 * through its `index.ts`. `npm run lint` (part of `npm test`) runs it on every file under src/.
 *
 * Why a rule of our own and not dependency-cruiser or `no-restricted-imports`: our imports are
 * all relative `.js` specifiers (NodeNext, no path aliases), so resolving one is `path.resolve`;
 * `no-restricted-imports` matches the specifier text, which for a relative path depends on where
 * the importing file sits (`../store/` from src/engine, `../../store/` from src/api/weir), so it
 * cannot say "src/store, except its index.ts" precisely; dependency-cruiser can, but is a second
 * tool with its own config, run and dependency tree for what these ~100 lines do inside the
 * ESLint pass we already run (and editors already show).
 */
import { dirname, relative, resolve, sep } from 'node:path';

/** Every component `weir serve` wires together (all but `server` and the CLI). */
const SERVED = [
  'model',
  'policy-types',
  'ec2-model',
  'engine',
  'policy',
  'explain',
  'identity',
  'store',
  'dns',
  'gateway',
  'snapshot',
  'api',
  'notify',
  'onramp',
  'audit',
  'outcomes',
  'console',
];

/**
 * What each component may import (besides itself), bottom to top. A component is a folder under
 * src/; `cli/ec2` (a port of the AWS CLI) is a component of its own inside `cli`. The engine's
 * callers may also import `policy-types`: it is the engine's input.
 * @type {Readonly<Record<string, readonly string[]>>}
 */
export const LAYERS = {
  // The EC2 domain model and errors, and the normalised policy set: nothing of Weir's.
  model: [],
  'policy-types': [],
  // botocore's EC2 model.
  'ec2-model': ['model'],
  // Compiles a policy set and decides: never policy, store, gateway, api or cli.
  engine: ['model', 'policy-types'],
  // Policy files: load, lint, plan, bundle (it may compile).
  policy: ['model', 'policy-types', 'engine'],
  // Runs the engine on a policy set and explains its decisions (`weir check`, `policy test`).
  explain: ['model', 'policy-types', 'engine', 'policy'],
  // Tokens, authenticators, identity maps.
  identity: ['model'],
  store: ['model'],
  // The DNS resolver the gateway and `weir check --resolve` share.
  dns: ['model'],
  // The egress gateway: never store, policy, snapshot, api or cli.
  gateway: ['model', 'policy-types', 'engine', 'identity', 'dns'],
  // What feeds the gateway snapshots: policy directory, bundle, control plane, identity map.
  snapshot: ['model', 'policy-types', 'engine', 'policy', 'store', 'identity', 'dns', 'gateway', 'onramp'],
  // The on-ramp: exceptions, break-glass, TOTP, and the grants their records give the engine.
  onramp: ['model', 'policy-types', 'engine', 'policy', 'store', 'identity'],
  // Webhook notifications: the outbox delivered, and scanners of what is about to expire.
  notify: ['model', 'policy-types', 'store'],
  // The audit trail: records, hash chain, signed digests, verification (over the store).
  audit: ['model', 'store'],
  // Outcome metrics over a period (the console's Overview), from the store and the policy in force.
  outcomes: ['model', 'policy-types', 'engine', 'store'],
  // The EC2 and Weir API: never gateway, snapshot, server or cli.
  api: [
    'model',
    'policy-types',
    'ec2-model',
    'store',
    'identity',
    'engine',
    'policy',
    'explain',
    'onramp',
    'audit',
    'outcomes',
  ],
  // The web console's server side: its files and sessions. Above the API (it signs keys of the
  // key ring in and records sign-ins in the audit trail); the API knows it only through the
  // interface api/console-front declares, and `server` wires the two.
  console: ['model', 'store', 'audit', 'api'],
  // The console's browser code (bundled by esbuild, never imported by server code): it talks to
  // the server only over HTTP (the Weir API), so it imports nothing of Weir.
  'console/ui': [],
  // `weir serve`: config and wiring of everything but the CLI.
  server: SERVED,
  // The command line: everything.
  cli: [...SERVED, 'server', 'cli/ec2'],
  // `weir ec2`, the AWS CLI port: botocore's model and the domain model only.
  'cli/ec2': ['model', 'ec2-model'],
};

/**
 * The component `file` (absolute) belongs to: the longest table key that is a folder above it
 * (`cli/ec2` before `cli`); undefined for a file outside src/ or at its top.
 * @param {string} root absolute path of src/
 * @param {readonly string[]} names the table's components
 * @param {string} file
 */
function componentOf(root, names, file) {
  const rel = relative(root, file).split(sep).join('/');
  if (rel.startsWith('../') || !rel.includes('/')) return undefined;
  const dir = rel.slice(0, rel.lastIndexOf('/'));
  let best;
  for (const name of names) {
    if ((dir === name || dir.startsWith(`${name}/`)) && (best === undefined || name.length > best.length))
      best = name;
  }
  return best ?? dir.split('/')[0];
}

/** @type {import('eslint').Rule.RuleModule} */
export const boundaries = {
  meta: {
    type: 'problem',
    docs: {
      description: "Components import only what the layer table allows, through the target's index.ts",
    },
    schema: [
      {
        type: 'object',
        properties: { root: { type: 'string' }, layers: { type: 'object' } },
        additionalProperties: false,
      },
    ],
    messages: {
      layer:
        '{{from}} may not import {{to}} ({{from}} imports only: {{allowed}}). The layer table is in eslint/boundaries.js and docs/architecture.md.',
      door: "'{{spec}}' reaches inside {{to}}: import it through src/{{to}}/index.ts (export it there if needed).",
      unknown:
        'src/{{component}} is not in the layer table (eslint/boundaries.js): add it with what it may import.',
    },
  },
  create(context) {
    const options = context.options[0] ?? {};
    const root = resolve(context.cwd, options.root ?? 'src');
    /** @type {Readonly<Record<string, readonly string[]>>} */
    const layers = options.layers ?? LAYERS;
    const names = Object.keys(layers);
    const from = componentOf(root, names, context.filename);
    if (from === undefined) return {};
    const isTest = /\.(test|suite)\.ts$/.test(context.filename);

    /** @param {import('estree').Node & { source?: unknown }} node */
    const check = (node) => {
      const source = /** @type {{ type: string, value: unknown } | null | undefined} */ (node.source);
      if (source?.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.'))
        return;
      const spec = source.value;
      const target = resolve(dirname(context.filename), spec);
      const to = componentOf(root, names, target);
      if (to === undefined || to === from) return;
      const allowed = layers[from];
      if (allowed === undefined) {
        context.report({ node, messageId: 'unknown', data: { component: from } });
        return;
      }
      if (!allowed.includes(to)) {
        const data = { from, to, allowed: allowed.length === 0 ? 'nothing of Weir' : allowed.join(', ') };
        context.report({ node, messageId: 'layer', data });
        return;
      }
      const door = relative(resolve(root, to), target).split(sep).join('/');
      if (door === 'index.js' || door === 'index.ts') return;
      // A component's shared test suite (`matcher.suite.ts`: the contract its implementations are
      // held to) is the door tests use; only tests may go through it.
      if (isTest && /\.suite\.[jt]s$/.test(door)) return;
      context.report({ node, messageId: 'door', data: { spec, to } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

/** The plugin `eslint.config.js` registers as `weir`. */
export default { rules: { boundaries } };
