/**
 * @module report/outcomes — the outcome metrics of the report's period, exactly as the console's
 * Overview and `GET /weir/v1/overview` compute them (outcomes/`readOverview`, one bucket per day):
 * the report computes none of them a second time, it prints them.
 */
import { periodOf, readOverview, storedDecisionFacts } from '../outcomes/index.js';
import type { EnforcementSamples } from '../outcomes/index.js';
import type { PolicySet } from '../policy-types/index.js';
import type { Store } from '../store/index.js';

const DAY_MS = 86_400_000;

/** Where the outcome metrics are read. */
export interface OutcomesInput {
  readonly store: Store;
  /** The namespace whose attached groups the gateway enforces. */
  readonly scope: { readonly accountId: string; readonly region: string };
  readonly set: PolicySet | undefined;
  readonly since: Date;
  readonly now: Date;
  /** The server's policy-change-to-enforcement samples (kept in its memory); absent from a data dir. */
  readonly enforcement?: EnforcementSamples;
}

/**
 * The Overview's document for [since, now) by day; undefined when the store lacks the tables it
 * reads (a data dir last opened by an older server: a read-only report never migrates it).
 */
export async function readOutcomes(input: OutcomesInput): Promise<Record<string, unknown> | undefined> {
  const now = input.now.getTime();
  const period = periodOf(now, now - input.since.getTime(), DAY_MS);
  try {
    return await readOverview(input.store, period, {
      scope: input.scope,
      ...(input.set !== undefined ? { set: input.set } : {}),
      ...(input.enforcement !== undefined ? { enforcement: input.enforcement } : {}),
      decisions: storedDecisionFacts,
    });
  } catch (err) {
    if (err instanceof Error && /no such table/.test(err.message)) return undefined;
    throw err;
  }
}
