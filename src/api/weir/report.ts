/**
 * @module api/weir/report — `GET /weir/v1/report?since=30d` (`GetReport`, any role of the gateway
 * account): the evidence report (report/, `weir.report/v1`) of the period, computed from this
 * server's store and the policy it enforces. A report reads the whole audit chain to verify it,
 * so at most `MAX_CONCURRENT_REPORTS` run at once; the period is at most 366 days.
 */
import { buildReport, DEFAULT_SINCE, reportSince } from '../../report/index.js';
import { DEFAULT_ACCOUNT_ID } from '../credentials.js';
import { WeirApiError } from './errors.js';
import type { OperationContext } from './operations.js';
import type { RouteTable } from './route.js';

/** Reports built at once, per process: more answer 503 (retry), so reports cannot pile up. */
export const MAX_CONCURRENT_REPORTS = 2;
let running = 0;

/** `GET report`: the report as JSON. */
export async function getReportOp(
  ctx: OperationContext,
  query: Readonly<Record<string, string>>,
): Promise<Record<string, unknown>> {
  const op = 'GetReport';
  const now = ctx.now();
  const period = reportSince(query.since ?? DEFAULT_SINCE, now);
  if (!period.ok) throw new WeirApiError('InvalidParameterValue', `${op}: 'since' ${period.problem}`);
  if (running >= MAX_CONCURRENT_REPORTS) {
    throw new WeirApiError(
      'ServiceUnavailable',
      `${op}: ${MAX_CONCURRENT_REPORTS} reports are being built already; retry in a moment`,
    );
  }
  running++;
  try {
    const info = ctx.options.explainContext?.() ?? {};
    const report = await buildReport({
      store: ctx.store,
      account: ctx.options.account ?? DEFAULT_ACCOUNT_ID,
      set: info.set,
      policySource: info.source ?? 'no policy loaded (every request is denied)',
      source: { kind: 'server' },
      since: period.since,
      now,
      ...(ctx.options.auditPublicKey !== undefined ? { auditPublicKey: ctx.options.auditPublicKey } : {}),
      region: ctx.scope.region,
      ...(ctx.options.enforcementSamples !== undefined
        ? { enforcement: ctx.options.enforcementSamples }
        : {}),
    });
    return { ...report };
  } finally {
    running--;
  }
}

/** The report's route, spread into the handler's table. */
export const REPORT_ROUTES: RouteTable = {
  report: [
    {
      method: 'GET',
      name: 'GetReport',
      read: true,
      query: ['since'],
      run: (c, i) => getReportOp(c, i.query),
    },
  ],
};
