/**
 * The key check value (a known text sealed with the key, kept in `meta`) that makes a wrong key
 * fail at start rather than at the first refresh, the rotation that moves every encrypted column
 * to a new key in one transaction, and the verification that every stored value opens.
 */
import { sql } from 'kysely';
import { PosternError, isPosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { ENCRYPTED_COLUMNS, KEY_CHECK_CONTEXT, type EncryptedColumn } from './encrypted-columns.js';
import { sealedFormat, type RowKey, type SecretBox } from './secret-box.js';
import { toDbTime } from './time.js';

/** The `meta` key of the key check value; also the row its seal is bound to. */
export const KEY_CHECK_META_KEY = 'secret_key_check';
/** The known text the key check value holds. */
export const KEY_CHECK_PLAINTEXT = 'postern-secret-key-check';

/** What `ensureKeyCheck` found. */
export type KeyCheckOutcome = 'created' | 'verified';

/**
 * Verifies that `box` holds the key the database was written with, recording the check value on
 * first use. Several nodes may call it at once: the first insert wins, the others verify it.
 *
 * @throws PosternError SECRET_KEY_INVALID when the configured key is not the database's key.
 */
export async function ensureKeyCheck(db: Database, box: SecretBox): Promise<KeyCheckOutcome> {
  const inserted = await db.kysely
    .insertInto('meta')
    .values({
      key: KEY_CHECK_META_KEY,
      value: box.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT, KEY_CHECK_META_KEY),
      updated_at: toDbTime(db.now()),
    })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return 'created';
  await verifyKeyCheck(db, box);
  return 'verified';
}

/** How many values of one encrypted column were re-encrypted. */
export interface RotatedColumn {
  readonly table: EncryptedColumn['table'];
  readonly column: EncryptedColumn['column'];
  readonly context: EncryptedColumn['context'];
  readonly count: number;
}

/**
 * Re-encrypts every registered encrypted column from `oldBox`'s key to `newBox`'s, each value
 * bound to its row, and the key check value, in one transaction: either everything moves to the
 * new key or nothing does.
 * The caller then stores the new key (environment or key file) before restarting.
 *
 * @throws PosternError SECRET_KEY_INVALID when `oldBox` is not the database's current key;
 *   SECRET_VALUE_CORRUPT naming the row when a stored value is damaged (nothing is changed).
 */
export async function rotateSecretKey(db: Database, oldBox: SecretBox, newBox: SecretBox): Promise<RotatedColumn[]> {
  return db.transaction(async (tx) => {
    await verifyKeyCheck(tx, oldBox);
    const counts: RotatedColumn[] = [];
    for (const spec of ENCRYPTED_COLUMNS) {
      const count = await reencryptColumn(tx, spec, oldBox, newBox);
      counts.push({ table: spec.table, column: spec.column, context: spec.context, count });
    }
    await tx.kysely
      .updateTable('meta')
      .set({
        value: newBox.seal(KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT, KEY_CHECK_META_KEY),
        updated_at: toDbTime(tx.now()),
      })
      .where('key', '=', KEY_CHECK_META_KEY)
      .execute();
    return counts;
  });
}

/**
 * Opens every value of every registered encrypted column with `box`, each for its own row: after a
 * rotation, the proof that the new key opens everything before the old one is discarded.
 *
 * @returns how many values were opened.
 * @throws PosternError SECRET_KEY_INVALID or SECRET_VALUE_CORRUPT naming the first row that does not open.
 */
export async function verifySealedColumns(db: Database, box: SecretBox): Promise<number> {
  let opened = 0;
  for (const spec of ENCRYPTED_COLUMNS) {
    for (const row of await readSealedColumn(db, spec)) {
      box.open(row.sealed, spec.context, row.row_key);
      opened += 1;
    }
  }
  return opened;
}

/** The non-null values of one encrypted column, with their rows' keys. */
export async function readSealedColumn(
  db: Database,
  spec: EncryptedColumn,
): Promise<{ row_key: RowKey; sealed: string }[]> {
  const { table, column, key } = spec;
  const result = await sql<{ row_key: RowKey; sealed: string }>`
    select ${sql.ref(key)} as row_key, ${sql.ref(column)} as sealed
    from ${sql.table(table)} where ${sql.ref(column)} is not null order by ${sql.ref(key)}`.execute(db.kysely);
  return result.rows;
}

/**
 * Checks the key check value. A value still in the v1 format (a database not yet upgraded, see
 * sealed-upgrade.ts) is read as v1: it holds a known text, no secret, so its binding to a row
 * protects nothing.
 */
export async function verifyKeyCheck(db: Database, box: SecretBox): Promise<void> {
  const row = await db.kysely
    .selectFrom('meta')
    .select('value')
    .where('key', '=', KEY_CHECK_META_KEY)
    .executeTakeFirst();
  if (row === undefined) return;
  let opened: string;
  try {
    opened =
      sealedFormat(row.value)?.version === 'v1'
        ? box.openV1(row.value, KEY_CHECK_CONTEXT, KEY_CHECK_META_KEY)
        : box.open(row.value, KEY_CHECK_CONTEXT, KEY_CHECK_META_KEY);
  } catch (error) {
    if (isPosternError(error, 'SECRET_KEY_INVALID')) throw error;
    throw new PosternError('SECRET_KEY_INVALID', {
      message: `The configured secret key (${box.keyId}) does not open the database's key check value.`,
      cause: error,
    });
  }
  if (opened !== KEY_CHECK_PLAINTEXT) {
    throw new PosternError('SECRET_KEY_INVALID', { message: "The key check value of the database is not Postern's." });
  }
}

async function reencryptColumn(
  db: Database,
  spec: EncryptedColumn,
  oldBox: SecretBox,
  newBox: SecretBox,
): Promise<number> {
  const { table, column, key, context } = spec;
  const rows = await readSealedColumn(db, spec);
  for (const row of rows) {
    const plaintext = openForRotation(oldBox, row.sealed, spec, row.row_key);
    await sql`update ${sql.table(table)} set ${sql.ref(column)} = ${newBox.seal(plaintext, context, row.row_key)}
      where ${sql.ref(key)} = ${row.row_key}`.execute(db.kysely);
  }
  return rows.length;
}

function openForRotation(box: SecretBox, sealed: string, spec: EncryptedColumn, rowKey: RowKey): string {
  try {
    return box.open(sealed, spec.context, rowKey);
  } catch (error) {
    if (!isPosternError(error)) throw error;
    throw new PosternError(error.code, {
      message: `${error.message} (row ${spec.key}=${rowKey}; nothing was rotated)`,
      details: { ...error.details, table: spec.table, column: spec.column, rowKey },
      cause: error,
    });
  }
}
