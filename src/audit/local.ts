/**
 * @module audit/local — the audit of a CLI command that writes the data dir's store directly
 * (`weir token issue|revoke --data-dir`): the same records as an API call, the actor being the
 * local user who holds the data dir (no access key is used). Each write transaction appends
 * the record before its COMMIT; a failure is recorded in a transaction of its own.
 */
import { userInfo } from 'node:os';
import type { Store } from '../store/index.js';
import { appendAudit, auditEvent, redact, WEIR_EVENT_SOURCE } from './record.js';
import type { AuditCall, AuditOutcome } from './record.js';

/** Who acts in the data dir: the OS user (the `weir_principal` of an API key does not apply). */
function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The call a CLI data-dir write is recorded as. */
export function localAuditCall(eventName: string, accountId: string, parameters: unknown): AuditCall {
  const user = localUser();
  return {
    eventSource: WEIR_EVENT_SOURCE,
    eventName,
    region: '',
    actor: { principal: `local:${user}`, role: 'admin', accountId, userName: user },
    sourceIPAddress: 'localhost',
    userAgent: 'weir-cli (--data-dir)',
    requestParameters: redact(parameters),
    requestId: `local-${process.pid}-${Date.now()}`,
    readOnly: false,
  };
}

/**
 * Runs `run` on `store` so that each of its write transactions appends `call`'s record, and a
 * failure (rethrown) leaves a failure record; a run that wrote nothing is recorded too.
 */
export async function auditLocalWrite<T>(
  store: Store,
  call: AuditCall,
  run: (store: Store) => Promise<T>,
  now: () => Date = () => new Date(),
): Promise<T> {
  let committed = 0;
  const wrapped: Store = {
    transaction: async (scope, fn, opts) => {
      if (opts?.readOnly === true) return store.transaction(scope, fn, opts);
      const out = await store.transaction(
        scope,
        async (tx) => {
          const result = await fn(tx);
          await appendAudit(tx, auditEvent(call, {}, now()));
          return result;
        },
        opts,
      );
      committed++;
      return out;
    },
    subscribe: (listener) => store.subscribe(listener),
    close: () => store.close(),
  };
  const record = (outcome: AuditOutcome) =>
    store.transaction(undefined, (tx) => appendAudit(tx, auditEvent(call, outcome, now())));
  let result: T;
  try {
    result = await run(wrapped);
  } catch (err) {
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'Error';
    await record({ errorCode: code, errorMessage: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  if (committed === 0) await record({});
  return result;
}
