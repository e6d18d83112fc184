/** Prometheus metrics: the registry, the instrumented adapters, and the separate listener. */
export { PosternMetrics, type IngestOutcome, type MetricsOptions, type WebhookAttemptResult } from './metrics.js';
export { MeteredIdentity, failureLabels, type TokenGrantType } from './metered-identity.js';
export { meterDeliverer, type DelivererLike, type DeliveryOutcomeLike } from './metered-deliverer.js';
export { parseListenAddress, startMetricsServer, type MetricsServer } from './metrics-server.js';
