/**
 * Counts of the operational state, read when Prometheus scrapes `/metrics`: accounts by status,
 * IMAP sessions, providers and grants by state, the outbox by state and the age of its oldest
 * queued row, webhook deliveries. Each is a small GROUP BY over an indexed or small table.
 */
import type { Database } from './database.js';
import type { AccountStatus, DeliveryAttemptState, GrantState, OutboxState } from './schema.js';
import { summarizeDeliveries } from './webhook-deliveries.js';
import { countWebhooks } from './webhooks.js';

/** Known values of each state, reported as 0 when absent so that alert rules see them. */
const ACCOUNT_STATUSES: readonly AccountStatus[] = ['connected', 'connecting', 'disconnected', 'error', 'disabled'];
const GRANT_STATES: readonly GrantState[] = ['active', 'reauth_required', 'revoked'];
const OUTBOX_STATES: readonly OutboxState[] = ['queued', 'sending', 'sent', 'failed', 'cancelled'];

/** One reading of the operational state. */
export interface OperationalCounts {
  readonly accountsByStatus: ReadonlyMap<string, number>;
  /** Connected accounts whose transport is IMAP: one IMAP session each. */
  readonly imapSessions: number;
  readonly providersByStatus: ReadonlyMap<string, number>;
  readonly grantsByState: ReadonlyMap<string, number>;
  readonly outboxByState: ReadonlyMap<string, number>;
  /** Seconds since the oldest message still queued was queued; 0 when none is. */
  readonly outboxOldestQueuedSeconds: number;
  readonly webhookDeliveriesByState: Readonly<Record<DeliveryAttemptState, number>>;
  readonly webhookOldestPendingSeconds: number;
  readonly webhooks: { readonly active: number; readonly disabled: number };
}

/** Reads every count. */
export async function readOperationalCounts(db: Database, now: Date): Promise<OperationalCounts> {
  const accounts = await db.kysely
    .selectFrom('email_accounts')
    .select((eb) => ['status', 'transport', 'inbound_via', eb.fn.countAll<number | string>().as('total')])
    .groupBy(['status', 'transport', 'inbound_via'])
    .execute();
  const providers = await db.kysely
    .selectFrom('cloud_providers')
    .select((eb) => ['status', eb.fn.countAll<number | string>().as('total')])
    .groupBy('status')
    .execute();
  const grants = await db.kysely
    .selectFrom('grants')
    .select((eb) => ['state', eb.fn.countAll<number | string>().as('total')])
    .groupBy('state')
    .execute();
  const outbox = await db.kysely
    .selectFrom('outbox')
    .select((eb) => ['state', eb.fn.countAll<number | string>().as('total')])
    .groupBy('state')
    .execute();
  const oldestQueued = await db.kysely
    .selectFrom('outbox')
    .select((eb) => eb.fn.min('created_at').as('oldest'))
    .where('state', '=', 'queued')
    .executeTakeFirst();
  const deliveries = await summarizeDeliveries(db, now);

  const accountsByStatus = zeroed(ACCOUNT_STATUSES);
  let imapSessions = 0;
  for (const row of accounts) {
    accountsByStatus.set(row.status, (accountsByStatus.get(row.status) ?? 0) + Number(row.total));
    // An `auto` account reads over IMAP until it has switched its reading to Graph.
    const readsImap = row.transport === 'imap_smtp' || (row.transport === 'auto' && row.inbound_via !== 'graph');
    if (row.status === 'connected' && readsImap) imapSessions += Number(row.total);
  }
  const providersByStatus = zeroed(['ok', 'error']);
  for (const row of providers) providersByStatus.set(row.status, Number(row.total));
  const grantsByState = zeroed(GRANT_STATES);
  for (const row of grants) grantsByState.set(row.state, Number(row.total));
  const outboxByState = zeroed(OUTBOX_STATES);
  for (const row of outbox) outboxByState.set(row.state, Number(row.total));
  const oldest = oldestQueued?.oldest;
  return {
    accountsByStatus,
    imapSessions,
    providersByStatus,
    grantsByState,
    outboxByState,
    outboxOldestQueuedSeconds:
      typeof oldest === 'string' ? Math.max(0, (now.getTime() - Date.parse(oldest)) / 1000) : 0,
    webhookDeliveriesByState: deliveries.byState,
    webhookOldestPendingSeconds: deliveries.oldestPendingSeconds,
    webhooks: await countWebhooks(db),
  };
}

function zeroed(keys: readonly string[]): Map<string, number> {
  return new Map(keys.map((key) => [key, 0]));
}
