/**
 * Postern's Prometheus metrics, on a prom-client registry of their own (one per runtime, so tests
 * can run several). Two kinds:
 *
 * - **Counters and histograms of this process** (`*_total`, `*_seconds`): work this node did
 *   since it started — messages ingested, sent and failed, token requests and their failures by
 *   AADSTS code, webhook attempts, HTTP latency. Sum them across nodes.
 * - **Gauges of the database** (`postern_accounts`, `postern_outbox_messages`, …): read at scrape
 *   time, the same on every node of a cluster. Use `max` across nodes, not `sum`.
 *
 * Plus prom-client's default process metrics (CPU, memory, event loop lag, handles). The composition
 * root labels every series with the node's id (`labels: { node }`), so that several nodes' scrapes
 * can be told apart.
 *
 * @see https://prometheus.io/docs/practices/naming/
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import v8 from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LimiterStats } from '../providers/microsoft/token-request-limiter.js';
import { readOperationalCounts, type Database, type OperationalCounts } from '../store/index.js';

/** A token keeper run's counts of grants, as the keeper reports them (workers/token-keeper.ts). */
export interface KeeperProgress {
  readonly due: number;
  readonly refreshed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly waiting: number;
}

/** Options of {@link PosternMetrics}. */
export interface MetricsOptions {
  /** Where the gauges are read from; without it only process metrics are reported. */
  readonly db?: Database;
  /** Include prom-client's default process metrics. Default true. */
  readonly defaultMetrics?: boolean;
  /** Labels added to every series (e.g. `{ node: 'a' }`). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** How an ingested message ended: stored, or recognised as already stored. */
export type IngestOutcome = 'stored' | 'duplicate';
/** What a webhook attempt did. */
export type WebhookAttemptResult = 'delivered' | 'retry' | 'failed';

/** Scrapes closer together than this share one reading of the database. */
const SNAPSHOT_TTL_MS = 1000;
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The registry and every instrument of Postern. */
export class PosternMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly messagesIngested: Counter<'outcome'>;
  readonly messagesSent: Counter;
  readonly messagesFailed: Counter<'code'>;
  readonly messageRetries: Counter<'code'>;
  readonly tokenRefreshes: Counter<'grant_type'>;
  readonly tokenFailures: Counter<'grant_type' | 'code' | 'aadsts'>;
  readonly webhookAttempts: Counter<'result'>;
  readonly webhookDuration: Histogram;
  private mailboxWorkers: (() => number) | undefined;
  private tokenRequests: (() => LimiterStats) | undefined;
  private keeperProgress: (() => KeeperProgress | undefined) | undefined;
  private logDrops: (() => number) | undefined;
  private snapshot: { at: number; reading: Promise<OperationalCounts | null> } | undefined;

  constructor(private readonly options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.labels !== undefined) this.registry.setDefaultLabels({ ...options.labels });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });

    this.httpDuration = new Histogram({
      name: 'postern_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status code, in seconds.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.messagesIngested = new Counter({
      name: 'postern_messages_ingested_total',
      help: 'Inbound messages fetched and stored (or recognised as already stored) by this process.',
      labelNames: ['outcome'],
      registers,
    });
    this.messagesSent = new Counter({
      name: 'postern_messages_sent_total',
      help: 'Outbound messages accepted by the submission server, sent by this process.',
      registers,
    });
    this.messagesFailed = new Counter({
      name: 'postern_messages_failed_total',
      help: 'Outbound messages that failed for good, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.messageRetries = new Counter({
      name: 'postern_message_send_retries_total',
      help: 'Temporary sending failures scheduled for another attempt, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.tokenRefreshes = new Counter({
      name: 'postern_token_refreshes_total',
      help: 'Tokens obtained from the Microsoft identity platform, by grant type.',
      labelNames: ['grant_type'],
      registers,
    });
    this.tokenFailures = new Counter({
      name: 'postern_token_refresh_failures_total',
      help: 'Failed token requests, by grant type, Postern error code and AADSTS code ("none" when Microsoft gave none).',
      labelNames: ['grant_type', 'code', 'aadsts'],
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'postern_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result: delivered, retry (failed, tried again later), failed (given up).',
      labelNames: ['result'],
      registers,
    });
    this.webhookDuration = new Histogram({
      name: 'postern_webhook_delivery_duration_seconds',
      help: 'Time receivers took to answer webhook deliveries, in seconds.',
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.registerGauges(registers);
  }

  /** The Content-Type of {@link render}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts one message handed to ingest (the mailbox workers' `onIngested`). */
  observeIngest(outcome: IngestOutcome): void {
    this.messagesIngested.inc({ outcome });
  }

  /** Counts one finished webhook attempt (the webhook dispatcher's observer). */
  observeWebhookAttempt(result: WebhookAttemptResult, seconds: number): void {
    this.webhookAttempts.inc({ result });
    this.webhookDuration.observe(seconds);
  }

  /** Reports how many mailbox workers this process runs. */
  trackMailboxWorkers(count: () => number): void {
    this.mailboxWorkers = count;
  }

  /** Reads, at each scrape, the token requests waiting for this node's limiter. */
  trackTokenRequests(stats: () => LimiterStats): void {
    this.tokenRequests = stats;
  }

  /** Reads, at each scrape, the token keeper's current (or last) run: due, done, waiting. */
  trackTokenKeeper(progress: () => KeeperProgress | undefined): void {
    this.keeperProgress = progress;
  }

  /** Reads, at each scrape, how many log lines this process could not write (a full disk). */
  trackLogDrops(count: () => number): void {
    this.logDrops = count;
  }

  private registerGauges(registers: Registry[]): void {
    const read = (): Promise<OperationalCounts | null> => this.read();
    const fromSnapshot = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (gauge: Gauge<L>, counts: OperationalCounts) => void,
    ): void => {
      const gauge: Gauge<L> = new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const counts = await read();
          gauge.reset();
          if (counts !== null) fill(gauge, counts);
        },
      });
    };
    const up = new Gauge({
      name: 'postern_database_up',
      help: "1 when the database answered the last scrape's queries, 0 otherwise.",
      registers,
      async collect() {
        up.set((await read()) === null ? 0 : 1);
      },
    });
    const workers = new Gauge({
      name: 'postern_mailbox_workers',
      help: 'Mailbox workers running in this process.',
      registers,
      collect: () => {
        workers.set(this.mailboxWorkers?.() ?? 0);
      },
    });
    const waiting = new Gauge({
      name: 'postern_token_requests_waiting',
      help: "Token requests waiting for this node's pace toward the identity platform (POSTERN_TOKEN_REQUESTS_PER_SECOND), by priority.",
      labelNames: ['priority'],
      registers,
      collect: () => {
        const stats = this.tokenRequests?.();
        waiting.reset();
        if (stats === undefined) return;
        for (const [priority, count] of Object.entries(stats.waiting)) waiting.set({ priority }, count);
      },
    });
    const keeper = new Gauge({
      name: 'postern_token_keeper_grants',
      help: "The token keeper's current or last run on this node: grants due, refreshed, found fresh or taken by another node (skipped), failed, and still waiting.",
      labelNames: ['state'],
      registers,
      collect: () => {
        const progress = this.keeperProgress?.();
        keeper.reset();
        if (progress === undefined) return;
        for (const state of ['due', 'refreshed', 'skipped', 'failed', 'waiting'] as const)
          keeper.set({ state }, progress[state]);
      },
    });
    const logDrops = new Gauge({
      name: 'postern_log_lines_dropped',
      help: 'Log lines this process could not write to its log files since it started (a full disk, a read-only file system).',
      registers,
      collect: () => {
        logDrops.set(this.logDrops?.() ?? 0);
      },
    });
    const heapLimit = new Gauge({
      name: 'postern_heap_limit_bytes',
      help: "The V8 heap limit this process runs with (heap_size_limit: the old generation's limit, POSTERN_MAX_HEAP_MB, plus the young generation's).",
      registers,
      collect: () => {
        heapLimit.set(v8.getHeapStatistics().heap_size_limit);
      },
    });
    fromSnapshot('postern_accounts', 'Email accounts by status.', ['status'], (gauge, counts) =>
      setAll(gauge, 'status', counts.accountsByStatus),
    );
    fromSnapshot(
      'postern_imap_connections',
      'Email accounts connected over IMAP (one IMAP session each), across the cluster.',
      [],
      (gauge, counts) => gauge.set(counts.imapSessions),
    );
    fromSnapshot(
      'postern_providers',
      'Cloud Providers by stored status (ok, or error: a misconfiguration to fix).',
      ['status'],
      (gauge, counts) => setAll(gauge, 'status', counts.providersByStatus),
    );
    fromSnapshot('postern_grants', 'Signed-in identities by state.', ['state'], (gauge, counts) =>
      setAll(gauge, 'state', counts.grantsByState),
    );
    fromSnapshot(
      'postern_outbox_messages',
      'Outbox rows by state; queued is the depth of the queue.',
      ['state'],
      (gauge, counts) => setAll(gauge, 'state', counts.outboxByState),
    );
    fromSnapshot(
      'postern_outbox_oldest_queued_seconds',
      'Age of the oldest message still queued, in seconds (0 when none is).',
      [],
      (gauge, counts) => gauge.set(counts.outboxOldestQueuedSeconds),
    );
    fromSnapshot('postern_webhook_queue', 'Webhook deliveries by state.', ['state'], (gauge, counts) =>
      setAll(gauge, 'state', new Map(Object.entries(counts.webhookDeliveriesByState))),
    );
    fromSnapshot(
      'postern_webhook_oldest_pending_seconds',
      'Age of the oldest webhook delivery still pending, in seconds.',
      [],
      (gauge, counts) => gauge.set(counts.webhookOldestPendingSeconds),
    );
    fromSnapshot('postern_webhooks', 'Registered webhooks by state.', ['state'], (gauge, counts) => {
      gauge.set({ state: 'active' }, counts.webhooks.active);
      gauge.set({ state: 'disabled' }, counts.webhooks.disabled);
    });
  }

  /** One reading of the database per scrape; null when it could not be read. */
  private read(): Promise<OperationalCounts | null> {
    const { db } = this.options;
    if (db === undefined) return Promise.resolve(null);
    const now = Date.now();
    if (this.snapshot === undefined || now - this.snapshot.at > SNAPSHOT_TTL_MS) {
      this.snapshot = { at: now, reading: readOperationalCounts(db, db.now()).catch(() => null) };
    }
    return this.snapshot.reading;
  }
}

function setAll<L extends string>(gauge: Gauge<L>, label: L, values: ReadonlyMap<string, number>): void {
  for (const [value, count] of values) {
    const labels: Partial<Record<L, string>> = {};
    labels[label] = value;
    gauge.set(labels, count);
  }
}
