/**
 * The one-time upgrade of sealed values from the v1 format (bound to their column) to v2 (bound to
 * their column and row, see secret-box.ts). Schema migrations run without the secret key (`postern
 * migrate` needs none), so this is a step of its own, run at every start right after the key check
 * and before any service: it re-seals every v1 value of the registered encrypted columns, and the
 * key check value, in one transaction, and records `sealed_format = v2` in `meta` in the same
 * transaction. Once that row exists the step does nothing, and v1 values are never opened again:
 * a v1 value kept from before the upgrade (a backup) cannot be pasted into another row later.
 * Without that row, the step still does nothing when the key check is already v2 (a database
 * created by this release, or one whose row was deleted).
 *
 * Several nodes may start at once: the transaction's first statement inserts the `meta` row, so on
 * SQLite it takes the write lock before reading anything, and on PostgreSQL a second node's insert
 * waits on the first's unique key and then finds it; the loser does nothing. Each value is also
 * rewritten only `WHERE` it still holds the value read.
 */
import { sql } from 'kysely';
import { isPosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { ENCRYPTED_COLUMNS, KEY_CHECK_CONTEXT, type EncryptedColumn } from './encrypted-columns.js';
import { KEY_CHECK_META_KEY, KEY_CHECK_PLAINTEXT, readSealedColumn } from './key-rotation.js';
import { sealedFormat, type RowKey, type SecretBox } from './secret-box.js';
import { toDbTime } from './time.js';

/** The `meta` key recording that every sealed value is in the v2 format. */
export const SEALED_FORMAT_META_KEY = 'sealed_format';

/** A v1 value the configured key could not open: left as it was (it did not open before either). */
export interface UnreadableSealedValue {
  readonly table: EncryptedColumn['table'];
  readonly column: EncryptedColumn['column'];
  readonly row: RowKey;
  readonly code: string;
}

/** What `upgradeSealedValues` did. */
export interface SealedUpgrade {
  /** False when there was nothing of v1 to upgrade: a database upgraded before (or by another node just now), or created in v2. */
  readonly ran: boolean;
  /** Values re-sealed from v1 to v2. */
  readonly upgraded: number;
  /** v1 values that did not open; they keep failing with SECRET_VALUE_CORRUPT until entered again. */
  readonly unreadable: readonly UnreadableSealedValue[];
}

/**
 * Re-seals every v1 value in v2, bound to its row, once per database. Call it after
 * `ensureKeyCheck` has accepted `box`.
 */
export async function upgradeSealedValues(db: Database, box: SecretBox): Promise<SealedUpgrade> {
  const skipped: SealedUpgrade = { ran: false, upgraded: 0, unreadable: [] };
  if (await isUpgraded(db)) return skipped;
  return db.transaction(async (tx) => {
    const claimed = await tx.kysely
      .insertInto('meta')
      .values({ key: SEALED_FORMAT_META_KEY, value: 'v2', updated_at: toDbTime(tx.now()) })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) return skipped;
    // A v2 key check means this database was created or upgraded by a v2 release: nothing of v1
    // belongs in it, even if the meta row went missing (a database writer could delete it).
    const check = await tx.kysely
      .selectFrom('meta')
      .select('value')
      .where('key', '=', KEY_CHECK_META_KEY)
      .executeTakeFirst();
    if (check !== undefined && sealedFormat(check.value)?.version !== 'v1') return skipped;
    let upgraded = 0;
    const unreadable: UnreadableSealedValue[] = [];
    for (const spec of ENCRYPTED_COLUMNS) {
      for (const row of await readSealedColumn(tx, spec)) {
        if (sealedFormat(row.sealed)?.version === 'v2') continue;
        let plaintext: string;
        try {
          plaintext = box.openV1(row.sealed, spec.context, row.row_key);
        } catch (error) {
          if (!isPosternError(error)) throw error;
          unreadable.push({ table: spec.table, column: spec.column, row: row.row_key, code: error.code });
          continue;
        }
        const { table, column, key, context } = spec;
        await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${box.seal(plaintext, context, row.row_key)}
          where ${sql.ref(key)} = ${row.row_key} and ${sql.ref(column)} = ${row.sealed}`.execute(tx.kysely);
        upgraded += 1;
      }
    }
    await tx.kysely
      .updateTable('meta')
      .set({ value: box.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT, KEY_CHECK_META_KEY) })
      .where('key', '=', KEY_CHECK_META_KEY)
      .where('value', 'like', 'v1.%')
      .execute();
    return { ran: true, upgraded, unreadable };
  });
}

/** True once `upgradeSealedValues` has run on this database. */
export async function isUpgraded(db: Database): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('meta')
    .select('key')
    .where('key', '=', SEALED_FORMAT_META_KEY)
    .executeTakeFirst();
  return row !== undefined;
}
