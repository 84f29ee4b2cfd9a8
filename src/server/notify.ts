/**
 * @module server/notify — wires webhook notifications into `weir serve`: the deliverer of the
 * outbox and the notice scanners, both in the background, with their metrics on the API's
 * registry and both on the cleanup stack (stopped before the store closes). Without
 * `--notify-webhook` nothing runs: notices still queue in the outbox, for no one.
 */
import type { Logger } from 'pino';
import type { ApiMetrics } from '../api/index.js';
import {
  NoticeScanner,
  NotificationDeliverer,
  createNotifyMetrics,
  ruleExpiryNotices,
} from '../notify/index.js';
import type { NoticeSource } from '../notify/index.js';
import type { PolicySet } from '../policy-types/index.js';
import type { Store } from '../store/index.js';
import type { CleanupStack } from './cleanup.js';
import type { NotifyConfig } from './config.js';

/** What notifications are built with besides their config. */
export interface NotifyDeps {
  readonly store: Store;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  /** The policy set the gateway enforces, for rules about to expire; absent without a gateway. */
  readonly policySet?: () => PolicySet;
}

/**
 * The sources the scanner runs each minute: rules of the enforced policy set expiring within
 * `--notify-expiring`, then `extra` (exceptions expiring within 48 h …).
 */
export function noticeSources(
  config: NotifyConfig,
  policySet: (() => PolicySet) | undefined,
  extra: readonly NoticeSource[],
): NoticeSource[] {
  return [...(policySet !== undefined ? [ruleExpiryNotices(policySet, config.expiringMs)] : []), ...extra];
}

/**
 * Starts delivery (webhooks registered first, so notices the first scan queues are theirs), then
 * the scanners with `extraSources` beside the rule-expiry one. Both stop on `cleanup`.
 */
export async function startNotifications(
  config: NotifyConfig,
  deps: NotifyDeps,
  extraSources: readonly NoticeSource[],
  cleanup: CleanupStack,
): Promise<void> {
  if (config.webhooks.length === 0) return;
  const log = deps.logger.child({ component: 'notify' });
  const deliverer = new NotificationDeliverer({
    store: deps.store,
    webhooks: config.webhooks,
    log,
    metrics: createNotifyMetrics(deps.metrics.registry, Date.now),
  });
  cleanup.defer('the notification deliverer', () => deliverer.close());
  await deliverer.start();
  const scanner = new NoticeScanner({
    store: deps.store,
    sources: noticeSources(config, deps.policySet, extraSources),
    log,
  });
  cleanup.defer('the notice scanner', () => scanner.close());
  scanner.start();
  log.info({ webhooks: config.webhooks.length }, 'notify: delivering to webhooks');
}
