/**
 * Mailbox leases (PostgreSQL, several nodes): one row per email account naming the node that reads
 * its mailbox, until when, and a fencing epoch that every claim increments. A node claims free or
 * expired rows with `FOR UPDATE SKIP LOCKED` (two nodes claiming at once never wait on each other
 * nor take the same row), renews what it holds, and releases on a clean stop. The ingest's writes
 * check the epoch in their own transaction ({@link holdsMailboxLease}): a node whose lease another
 * one took can no longer commit for that mailbox, however late its transaction runs.
 *
 * @see https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE
 */
import type { Database } from './database.js';
import { toDbTime } from './time.js';

/** A lease this node holds: the account and the epoch its writes must carry. */
export interface HeldLease {
  readonly accountId: number;
  readonly epoch: number;
}

/** Who holds an account's lease (tests, the nodes view). */
export interface LeaseHolder {
  readonly accountId: number;
  readonly nodeId: string | null;
  readonly epoch: number;
  readonly expiresAt: string | null;
}

/** Gives every active account a lease row (free), so that it can be claimed. */
export async function ensureMailboxLeaseRows(db: Database): Promise<void> {
  await db.kysely
    .insertInto('mailbox_leases')
    .columns(['account_id'])
    .expression((eb) =>
      eb
        .selectFrom('email_accounts')
        .select('email_accounts.id')
        .where('email_accounts.active', '=', 1)
        .where((inner) =>
          inner.not(
            inner.exists(
              inner
                .selectFrom('mailbox_leases')
                .select('mailbox_leases.account_id')
                .whereRef('mailbox_leases.account_id', '=', 'email_accounts.id'),
            ),
          ),
        ),
    )
    .onConflict((conflict) => conflict.column('account_id').doNothing())
    .execute();
}

/** The number of active accounts: the mailboxes the nodes share. */
export async function countActiveAccounts(db: Database): Promise<number> {
  const row = await db.kysely
    .selectFrom('email_accounts')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('active', '=', 1)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Extends to `until` the leases `nodeId` holds on active accounts, and lets go of those on
 * accounts no longer active; returns the leases held afterwards.
 */
export async function renewMailboxLeases(db: Database, nodeId: string, until: Date): Promise<HeldLease[]> {
  const active = db.kysely.selectFrom('email_accounts').select('id').where('active', '=', 1);
  await db.kysely
    .updateTable('mailbox_leases')
    .set({ node_id: null, expires_at: null })
    .where('node_id', '=', nodeId)
    .where('account_id', 'not in', active)
    .execute();
  const rows = await db.kysely
    .updateTable('mailbox_leases')
    .set({ expires_at: toDbTime(until) })
    .where('node_id', '=', nodeId)
    .returning(['account_id', 'epoch'])
    .execute();
  return rows.map((row) => ({ accountId: row.account_id, epoch: row.epoch })).sort((a, b) => a.accountId - b.accountId);
}

/**
 * Claims up to `limit` free or expired leases of active accounts for `nodeId` until `until`, each
 * with its epoch incremented. Rows another transaction has locked (being claimed, or being
 * written under their lease) are skipped, not waited for.
 */
export async function claimMailboxLeases(
  db: Database,
  nodeId: string,
  until: Date,
  limit: number,
): Promise<HeldLease[]> {
  if (limit <= 0) return [];
  const now = toDbTime(db.now());
  return db.transaction(async (tx) => {
    let query = tx.kysely
      .selectFrom('mailbox_leases')
      .select('mailbox_leases.account_id')
      .where(
        'mailbox_leases.account_id',
        'in',
        tx.kysely.selectFrom('email_accounts').select('id').where('active', '=', 1),
      )
      .where((eb) => eb.or([eb('node_id', 'is', null), eb('expires_at', 'is', null), eb('expires_at', '<=', now)]))
      .orderBy('mailbox_leases.account_id')
      .limit(limit);
    if (tx.engine === 'postgres') query = query.forUpdate().skipLocked();
    const free = await query.execute();
    if (free.length === 0) return [];
    const rows = await tx.kysely
      .updateTable('mailbox_leases')
      .set((eb) => ({
        node_id: nodeId,
        epoch: eb('epoch', '+', 1),
        acquired_at: now,
        expires_at: toDbTime(until),
      }))
      .where(
        'account_id',
        'in',
        free.map((row) => row.account_id),
      )
      .returning(['account_id', 'epoch'])
      .execute();
    return rows
      .map((row) => ({ accountId: row.account_id, epoch: row.epoch }))
      .sort((a, b) => a.accountId - b.accountId);
  });
}

/** Lets go of `nodeId`'s leases: these accounts', or all of them. Returns how many. */
export async function releaseMailboxLeases(
  db: Database,
  nodeId: string,
  accountIds?: readonly number[],
): Promise<number> {
  if (accountIds !== undefined && accountIds.length === 0) return 0;
  let query = db.kysely
    .updateTable('mailbox_leases')
    .set({ node_id: null, expires_at: null })
    .where('node_id', '=', nodeId);
  if (accountIds !== undefined) query = query.where('account_id', 'in', [...accountIds]);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Whether `nodeId` still holds the account's lease at `epoch`. Called inside the transaction that
 * writes for the mailbox: on PostgreSQL the row is share-locked until that transaction ends, so
 * no claim can take the lease between this check and the commit (a claim skips the row instead).
 */
export async function holdsMailboxLease(
  db: Database,
  accountId: number,
  nodeId: string,
  epoch: number,
): Promise<boolean> {
  let query = db.kysely.selectFrom('mailbox_leases').select(['node_id', 'epoch']).where('account_id', '=', accountId);
  if (db.engine === 'postgres') query = query.forShare();
  const row = await query.executeTakeFirst();
  return row !== undefined && row.node_id === nodeId && row.epoch === epoch;
}

/** Every lease row, by account. */
export async function listMailboxLeases(db: Database): Promise<LeaseHolder[]> {
  const rows = await db.kysely.selectFrom('mailbox_leases').selectAll().orderBy('account_id').execute();
  return rows.map((row) => ({
    accountId: row.account_id,
    nodeId: row.node_id,
    epoch: row.epoch,
    expiresAt: row.expires_at,
  }));
}

/** Ends a lease at once, as if its holder had gone silent (tests and operators' last resort). */
export async function expireMailboxLease(db: Database, accountId: number): Promise<void> {
  await db.kysely
    .updateTable('mailbox_leases')
    .set({ expires_at: toDbTime(new Date(0)) })
    .where('account_id', '=', accountId)
    .execute();
}
