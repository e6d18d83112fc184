/**
 * The v1 sealed format of earlier releases (`v1.<keyId>.<iv>.<tag>.<ciphertext>`, associated data
 * `postern:v1:<keyId>:<context>`: bound to the column, not the row), written the way those
 * releases wrote it, so that tests can build a database as an older Postern left it.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../src/store/database.js';
import { ENCRYPTED_COLUMNS, KEY_CHECK_CONTEXT } from '../../src/store/encrypted-columns.js';
import { KEY_CHECK_META_KEY, KEY_CHECK_PLAINTEXT, readSealedColumn } from '../../src/store/key-rotation.js';
import { SEALED_FORMAT_META_KEY } from '../../src/store/sealed-upgrade.js';
import { SecretBox, keyIdOf } from '../../src/store/secret-box.js';

/** Seals `plaintext` for `context` in the v1 format with the raw 32-byte `key`. */
export function sealV1(key: Uint8Array, plaintext: string, context: string): string {
  const keyId = keyIdOf(key);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`postern:v1:${keyId}:${context}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', keyId, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/**
 * Rewrites every sealed value of `db` (the registered columns and the key check) in the v1 format,
 * and forgets that the database was upgraded: the database as a release before v2 left it.
 */
export async function rewriteAsV1(db: Database, key: Uint8Array): Promise<number> {
  const box = new SecretBox(key);
  let count = 0;
  for (const spec of ENCRYPTED_COLUMNS) {
    for (const row of await readSealedColumn(db, spec)) {
      const v1 = sealV1(key, box.open(row.sealed, spec.context, row.row_key), spec.context);
      await sql`update ${sql.table(spec.table)} set ${sql.ref(spec.column)} = ${v1}
        where ${sql.ref(spec.key)} = ${row.row_key}`.execute(db.kysely);
      count += 1;
    }
  }
  await db.kysely
    .updateTable('meta')
    .set({ value: sealV1(key, KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT) })
    .where('key', '=', KEY_CHECK_META_KEY)
    .execute();
  await db.kysely.deleteFrom('meta').where('key', '=', SEALED_FORMAT_META_KEY).execute();
  return count;
}
