/**
 * @module api/audit-hook — the audit trail of API calls, recorded at the handler level so that
 * every operation is covered without knowing of it (routes other code adds included). A call's
 * store is wrapped: each write transaction appends the call's audit record before its COMMIT,
 * so the change and its record commit together or not at all. A write that fails leaves a
 * failure record, in a transaction of its own since the change rolled back; a write that
 * changed nothing leaves a record too; reads leave one only with `weir serve --audit-reads`.
 * Only authenticated calls are recorded: an unsigned peer must not be able to write to the trail.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { appendAudit, auditEvent, redact } from '../audit/index.js';
import type { AuditCall, AuditOutcome, Json } from '../audit/index.js';
import type { Store, StoreTx } from '../store/index.js';
import type { AccessKey } from './credentials.js';

/** How the API records its calls (`weir serve --audit-reads`). */
export interface AuditOptions {
  /** Record reads too (each then costs a write transaction). Default false. */
  readonly reads?: boolean;
}

/** What is known of a call once its caller is authenticated. */
export interface AuditedOperation {
  readonly eventSource: string;
  readonly eventName: string;
  readonly region: string;
  readonly key: AccessKey;
  readonly readOnly: boolean;
}

/** Store methods that only read (by name, so methods added later are classed too). */
const READ_METHOD = /^(get|list|find|count|last|prefixListRefs)/;
/** Keys whose values name what a write touched (for `responseElements`). */
const ID_KEY = /^(id|identity|[a-z][A-Za-z]*Id)$/;
const NOT_AN_ID = new Set(['accountId', 'ownerId', 'groupOwnerId', 'userId']);
/** A resource ID given positionally (`sg-…`, `sgr-…`, `pl-…`): never a free-form string. */
const ID_TEXT = /^[a-z]{1,16}-[0-9A-Za-z]{1,64}$/;
const MAX_CHANGES = 20;
const MAX_IDS = 20;

/** The IDs in a write's arguments: positional IDs and `id`/`…Id`/`identity` fields, two levels deep. */
function idsOf(args: readonly unknown[]): string[] {
  const out = new Set<string>();
  const visit = (v: unknown, depth: number, key?: string): void => {
    if (out.size >= MAX_IDS) return;
    if (typeof v === 'string') {
      if (key !== undefined ? ID_KEY.test(key) && !NOT_AN_ID.has(key) : ID_TEXT.test(v))
        out.add(v.slice(0, 256));
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, depth, key);
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && depth < 2) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (typeof x === 'string' || Array.isArray(x)) visit(x, depth + 1, k);
        else visit(x, depth + 1);
      }
    }
  };
  for (const a of args) visit(a, 0);
  return [...out];
}

/**
 * The audit of one API call. Create it when the request arrives, `begin` it once the caller is
 * authenticated, hand operations `wrap(store)`, and `end` it before answering.
 */
export class RequestAudit {
  private op: AuditedOperation | undefined;
  private parameters: Json = null;
  /** Records committed by the call's own write transactions. */
  private committed = 0;

  constructor(
    private readonly deps: {
      readonly store: Store;
      readonly now: () => Date;
      readonly logger: Logger;
      readonly options: AuditOptions;
    },
    private readonly requestId: string,
    private readonly req: IncomingMessage,
  ) {}

  /** The caller is authenticated and the operation known: from here the call is recorded. */
  begin(op: AuditedOperation, parameters: unknown = {}): void {
    this.op = op;
    this.setParameters(parameters);
  }

  /** The call's parameters as parsed; secrets are hidden here ({@link redact}), never stored. */
  setParameters(parameters: unknown): void {
    this.parameters = redact(parameters);
  }

  private call(op: AuditedOperation): AuditCall {
    const k = op.key;
    return {
      eventSource: op.eventSource,
      eventName: op.eventName,
      region: op.region,
      actor: {
        principal: k.principal,
        role: k.role,
        accountId: k.accountId,
        accessKeyId: k.accessKeyId,
        userName: k.profile,
      },
      sourceIPAddress: sourceIp(this.req),
      userAgent: String(this.req.headers['user-agent'] ?? '').slice(0, 256),
      requestParameters: this.parameters,
      requestId: this.requestId,
      readOnly: op.readOnly,
    };
  }

  /**
   * `store` as the operation sees it: each write transaction records the call in itself, with
   * the IDs its writes named as `responseElements`.
   */
  wrap(store: Store): Store {
    return {
      transaction: async (scope, fn, opts) => {
        const op = this.op;
        if (op === undefined || op.readOnly || opts?.readOnly === true)
          return store.transaction(scope, fn, opts);
        const result = await store.transaction(
          scope,
          async (tx) => {
            const changes: Json[] = [];
            const out = await fn(capturing(tx, changes));
            const responseElements = changes.length > 0 ? { changes } : null;
            await appendAudit(tx, auditEvent(this.call(op), { responseElements }, this.deps.now()));
            return out;
          },
          opts,
        );
        this.committed++;
        return result;
      },
      subscribe: (listener) => store.subscribe(listener),
      close: () => store.close(),
    };
  }

  /**
   * Records how the call ended, where its own transactions did not: a failed write, a write
   * that wrote nothing, a read under `--audit-reads`. Never throws: a trail that cannot be
   * written is logged, and the caller's answer stands.
   */
  async end(error?: { readonly code: string; readonly message: string }): Promise<void> {
    const op = this.op;
    if (op === undefined) return;
    if (op.readOnly ? this.deps.options.reads !== true : error === undefined && this.committed > 0) return;
    const outcome: AuditOutcome =
      error !== undefined ? { errorCode: error.code, errorMessage: error.message } : {};
    try {
      await this.deps.store.transaction(undefined, (tx) =>
        appendAudit(tx, auditEvent(this.call(op), outcome, this.deps.now())),
      );
    } catch (err) {
      this.deps.logger.error(
        { err, requestId: this.requestId },
        'the audit record of a call could not be written',
      );
    }
  }
}

/** The peer's address, IPv4-mapped IPv6 shown as IPv4 (as CloudTrail shows it). */
function sourceIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** `tx`, noting the IDs each write names in `changes` (bounded). */
function capturing(tx: StoreTx, changes: Json[]): StoreTx {
  // One function per method for the transaction's life: an action calls the same few methods
  // many times (a rule batch), and a bind or closure per access showed in the API's profile.
  const made = new Map<string | symbol, unknown>();
  return new Proxy(tx, {
    get(target, prop) {
      const cached = made.get(prop);
      if (cached !== undefined) return cached;
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const method = v as (...args: unknown[]) => unknown;
      const fn =
        typeof prop !== 'string' ||
        READ_METHOD.test(prop) ||
        prop.startsWith('appendAudit') ||
        prop === 'enqueueNotification'
          ? method.bind(target)
          : (...args: unknown[]) => {
              if (changes.length < MAX_CHANGES) changes.push({ op: prop, ids: idsOf(args) });
              return method.apply(target, args);
            };
      made.set(prop, fn);
      return fn;
    },
  });
}
