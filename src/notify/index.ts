/**
 * @module notify — notifications to webhooks (`weir serve --notify-webhook`): the outbox the
 * store keeps, delivered at least once with backoff by a background loop (`NotificationDeliverer`),
 * and scanners queuing notices nobody's write causes (rules and exceptions about to expire).
 */
export { DEFAULT_RETRY, afterFailure, retryDelay } from './backoff.js';
export type { RetryPolicy } from './backoff.js';
export { NotificationDeliverer } from './deliverer.js';
export type { DelivererOptions, NotifyLog } from './deliverer.js';
export { createNotifyMetrics } from './metrics.js';
export type { NotifyMetrics } from './metrics.js';
export { NoticeScanner, ruleExpiryNotices } from './scanner.js';
export type { NoticeSource, ScannerOptions } from './scanner.js';
export { createWebhookPoster, notificationBody, parseWebhookUrls, redactedUrl } from './webhook.js';
export type { PostOptions, PostResult, Webhook, WebhookPoster } from './webhook.js';
