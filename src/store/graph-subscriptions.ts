/**
 * Graph change-notification subscriptions of the Graph inbound engine, one per account and folder.
 * Only the SHA-256 of a subscription's `clientState` is kept: a notification's `clientState` is
 * hashed and compared with it in constant time, and a copy of the database cannot forge one.
 *
 * @see https://learn.microsoft.com/graph/api/resources/subscription
 * @see https://learn.microsoft.com/graph/change-notifications-delivery-webhooks (clientState)
 */
import type { Database } from './database.js';
import type { Row } from './schema.js';
import { toDbTime } from './time.js';

/** A stored subscription. */
export interface GraphSubscriptionRecord {
  readonly accountId: number;
  readonly folder: string;
  readonly subscriptionId: string;
  /** Lower-case hex SHA-256 of the subscription's `clientState`. */
  readonly clientStateHash: string;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly renewedAt: Date | null;
}

function toRecord(row: Row<'graph_subscriptions'>): GraphSubscriptionRecord {
  return {
    accountId: row.account_id,
    folder: row.folder,
    subscriptionId: row.subscription_id,
    clientStateHash: row.client_state_hash,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    renewedAt: row.renewed_at === null ? null : new Date(row.renewed_at),
  };
}

/** The subscription of an account's folder, if one is stored. */
export async function getGraphSubscription(
  db: Database,
  accountId: number,
  folder: string,
): Promise<GraphSubscriptionRecord | undefined> {
  const row = await db.kysely
    .selectFrom('graph_subscriptions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('folder', '=', folder)
    .executeTakeFirst();
  return row === undefined ? undefined : toRecord(row);
}

/** A subscription by Graph's id (a notification names it). */
export async function findGraphSubscription(
  db: Database,
  subscriptionId: string,
): Promise<GraphSubscriptionRecord | undefined> {
  const row = await db.kysely
    .selectFrom('graph_subscriptions')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirst();
  return row === undefined ? undefined : toRecord(row);
}

/** Records a new subscription of an account's folder, replacing the one it had. */
export async function saveGraphSubscription(
  db: Database,
  input: {
    readonly accountId: number;
    readonly folder: string;
    readonly subscriptionId: string;
    readonly clientStateHash: string;
    readonly expiresAt: Date;
  },
): Promise<void> {
  const now = toDbTime(db.now());
  await db.kysely.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('graph_subscriptions')
      .where((eb) =>
        eb.or([
          eb.and([eb('account_id', '=', input.accountId), eb('folder', '=', input.folder)]),
          eb('subscription_id', '=', input.subscriptionId),
        ]),
      )
      .execute();
    await trx
      .insertInto('graph_subscriptions')
      .values({
        account_id: input.accountId,
        folder: input.folder,
        subscription_id: input.subscriptionId,
        client_state_hash: input.clientStateHash,
        expires_at: toDbTime(input.expiresAt),
        created_at: now,
        renewed_at: null,
      })
      .execute();
  });
}

/** Records a renewal: the subscription's new expiry. */
export async function renewGraphSubscription(db: Database, subscriptionId: string, expiresAt: Date): Promise<void> {
  await db.kysely
    .updateTable('graph_subscriptions')
    .set({ expires_at: toDbTime(expiresAt), renewed_at: toDbTime(db.now()) })
    .where('subscription_id', '=', subscriptionId)
    .execute();
}

/** Forgets a subscription (deleted in Graph, removed by Graph, or expired). */
export async function deleteGraphSubscription(db: Database, subscriptionId: string): Promise<void> {
  await db.kysely.deleteFrom('graph_subscriptions').where('subscription_id', '=', subscriptionId).execute();
}
