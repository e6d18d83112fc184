/**
 * Sweep claims: one node at a time runs a sweep of the whole database (the retention of originals),
 * however many nodes have the worker role. The claim is a `meta` row, `sweep:<name>`, whose value
 * is the holder's node id and whose `updated_at` is when the holder last claimed or renewed it. A
 * node takes the row when it is missing, already its own, or older than the lease (`staleBefore`):
 * one upsert, so two nodes claiming at once cannot both win (SQLite has one writer; on PostgreSQL
 * the second insert waits on the first's key and then finds the row taken). The holder renews it as
 * it works and deletes it on a clean stop; a holder that dies lets go when the lease runs out.
 *
 * @see https://www.sqlite.org/lang_upsert.html
 * @see https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
 */
import type { Database } from './database.js';
import { toDbTime } from './time.js';

/** The `meta` key of a sweep's claim. */
export function sweepClaimKey(name: string): string {
  return `sweep:${name}`;
}

/**
 * Claims (or renews) the sweep `name` for `nodeId` at `now`. Returns true when this node holds
 * it: the row was missing, this node's already, or last renewed before `staleBefore`.
 */
export async function claimSweep(
  db: Database,
  name: string,
  nodeId: string,
  now: Date,
  staleBefore: Date,
): Promise<boolean> {
  const stamp = toDbTime(now);
  const result = await db.kysely
    .insertInto('meta')
    .values({ key: sweepClaimKey(name), value: nodeId, updated_at: stamp })
    .onConflict((conflict) =>
      conflict
        .column('key')
        .doUpdateSet({ value: nodeId, updated_at: stamp })
        .where((eb) => eb.or([eb('meta.value', '=', nodeId), eb('meta.updated_at', '<', toDbTime(staleBefore))])),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Lets go of the sweep `name` if `nodeId` holds it. */
export async function releaseSweep(db: Database, name: string, nodeId: string): Promise<void> {
  await db.kysely.deleteFrom('meta').where('key', '=', sweepClaimKey(name)).where('value', '=', nodeId).execute();
}

/** Who holds the sweep `name` and since when it was last renewed; undefined when nobody does. */
export async function sweepHolder(
  db: Database,
  name: string,
): Promise<{ readonly nodeId: string; readonly renewedAt: string } | undefined> {
  const row = await db.kysely
    .selectFrom('meta')
    .select(['value', 'updated_at'])
    .where('key', '=', sweepClaimKey(name))
    .executeTakeFirst();
  return row === undefined ? undefined : { nodeId: row.value, renewedAt: row.updated_at };
}
