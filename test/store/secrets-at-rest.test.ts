import crypto from 'node:crypto';
import fs from 'node:fs';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPosternError, type PosternError } from '../../src/errors/index.js';
import { ENCRYPTED_COLUMNS, type EncryptedColumn } from '../../src/store/encrypted-columns.js';
import { openDatabase } from '../../src/store/database.js';
import {
  ensureKeyCheck,
  readSealedColumn,
  rotateSecretKey,
  verifySealedColumns,
} from '../../src/store/key-rotation.js';
import { isUpgraded, upgradeSealedValues } from '../../src/store/sealed-upgrade.js';
import { SecretBox } from '../../src/store/secret-box.js';
import {
  insertAccessToken,
  insertAccount,
  insertGrant,
  insertOauthState,
  insertProvider,
  insertWebhook,
} from '../helpers/store-factories.js';
import { rewriteAsV1, sealV1 } from '../helpers/seal-v1.js';
import { forEachEngine, type FreshDatabase } from '../helpers/store.js';

/** Distinctive secrets, one per encrypted column, easy to find in a byte dump. */
const SECRETS = {
  clientSecret: 'CLIENT-SECRET-q8~Zx.cleartext-marker-1',
  refreshToken: 'REFRESH-TOKEN-0.AVQA.cleartext-marker-2',
  ropcPassword: 'ROPC-PASSWORD-cleartext-marker-3',
  accessToken: 'ACCESS-TOKEN-eyJ0eXAi.cleartext-marker-4',
  imapPassword: 'IMAP-PASSWORD-cleartext-marker-5',
  webhookSecret: 'WEBHOOK-SECRET-cleartext-marker-6',
  pkceVerifier: 'PKCE-VERIFIER-cleartext-marker-7',
  clientKey: 'CLIENT-KEY-----BEGIN PRIVATE KEY-----cleartext-marker-8',
} as const;

async function failure(promise: Promise<unknown>): Promise<PosternError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPosternError(error)) throw new Error(`expected a PosternError, got ${String(error)}`);
  return error;
}

/** Writes one row per encrypted column, each holding one of SECRETS. */
async function writeEverySecret(db: FreshDatabase, box: SecretBox): Promise<void> {
  const providerId = await insertProvider(db, box, { clientSecret: SECRETS.clientSecret });
  await insertProvider(db, box, { clientKey: SECRETS.clientKey });
  const grantId = await insertGrant(db, box, {
    providerId,
    refreshToken: SECRETS.refreshToken,
    password: SECRETS.ropcPassword,
  });
  await insertAccessToken(db, box, { grantId, accessToken: SECRETS.accessToken });
  await insertAccount(db, box, { providerId, password: SECRETS.imapPassword });
  await insertWebhook(db, box, { secret: SECRETS.webhookSecret });
  await insertOauthState(db, box, { providerId, pkceVerifier: SECRETS.pkceVerifier });
}

/** Every non-null value of an encrypted column. */
async function sealedValues(db: FreshDatabase, spec: EncryptedColumn): Promise<string[]> {
  return (await readSealedColumn(db, spec)).map((row) => row.sealed);
}

/** The bytes of the SQLite database and its WAL and shared-memory files. */
function sqliteBytes(file: string): Buffer {
  return Buffer.concat(
    ['', '-wal', '-shm'].filter((s) => fs.existsSync(`${file}${s}`)).map((s) => fs.readFileSync(`${file}${s}`)),
  );
}

forEachEngine((engine, openFresh) => {
  const oldBox = new SecretBox(crypto.randomBytes(32));
  const newBox = new SecretBox(crypto.randomBytes(32));

  describe('key check', () => {
    it('records the key on first start, accepts it again, and refuses another key at start', async () => {
      const db = await openFresh();
      expect(await ensureKeyCheck(db, oldBox)).toBe('created');
      expect(await ensureKeyCheck(db, oldBox)).toBe('verified');
      const error = await failure(ensureKeyCheck(db, newBox));
      expect(error.code).toBe('SECRET_KEY_INVALID');
    });
  });

  describe('at rest', () => {
    let db: FreshDatabase;
    beforeAll(async () => {
      db = await openFresh();
      await ensureKeyCheck(db, oldBox);
      await writeEverySecret(db, oldBox);
    });

    it('stores every encrypted column as a sealed value that opens to the secret', async () => {
      const opened: string[] = [];
      for (const spec of ENCRYPTED_COLUMNS) {
        const rows = await readSealedColumn(db, spec);
        expect(rows.length, spec.context).toBeGreaterThan(0);
        for (const row of rows) {
          expect(row.sealed).toMatch(/^v2\.[0-9a-f]{8}\./);
          opened.push(oldBox.open(row.sealed, spec.context, row.row_key));
        }
      }
      expect(opened.sort()).toEqual(Object.values(SECRETS).sort());
    });

    if (engine === 'sqlite') {
      it('leaves no secret in clear anywhere in the SQLite file, its WAL or shared memory', async () => {
        const file = db.sqliteFile;
        if (file === undefined) throw new Error('no SQLite file');
        const bytes = sqliteBytes(file);
        expect(bytes.length).toBeGreaterThan(0);
        // The probe works: a plain column value is found in the same bytes.
        expect(bytes.includes(Buffer.from('contoso.onmicrosoft.com'))).toBe(true);
        for (const secret of Object.values(SECRETS)) {
          expect(bytes.includes(Buffer.from(secret, 'utf8')), secret).toBe(false);
          expect(bytes.includes(Buffer.from(secret, 'utf16le')), secret).toBe(false);
        }
      });
    } else {
      it('returns no secret in clear from any column of the tables that hold secrets', async () => {
        for (const table of new Set(ENCRYPTED_COLUMNS.map((c) => c.table))) {
          const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db.kysely);
          const dump = JSON.stringify(rows.rows);
          for (const secret of Object.values(SECRETS)) expect(dump.includes(secret), `${table}: ${secret}`).toBe(false);
        }
      });
    }
  });

  describe('v1 → v2 upgrade', () => {
    /** A database as a release before v2 left it: every secret, and the key check, sealed in v1. */
    async function v1Database(key: Buffer): Promise<FreshDatabase> {
      const db = await openFresh();
      const box = new SecretBox(key);
      await ensureKeyCheck(db, box);
      await writeEverySecret(db, box);
      expect(await rewriteAsV1(db, key)).toBe(ENCRYPTED_COLUMNS.length);
      return db;
    }

    /** Every sealed value of the database, by table, column and row. */
    async function snapshot(db: FreshDatabase): Promise<Record<string, string>> {
      const values: Record<string, string> = {};
      for (const spec of ENCRYPTED_COLUMNS) {
        for (const row of await readSealedColumn(db, spec)) values[`${spec.context}:${row.row_key}`] = row.sealed;
      }
      return values;
    }

    it('re-seals every v1 value in v2 bound to its row, once; every secret still opens; a second run changes nothing', async () => {
      const key = crypto.randomBytes(32);
      const box = new SecretBox(key);
      const db = await v1Database(key);
      expect(await ensureKeyCheck(db, box)).toBe('verified');
      const first = ENCRYPTED_COLUMNS[0];
      const [before] = await readSealedColumn(db, first);
      if (before === undefined) throw new Error('no value');
      expect(() => box.open(before.sealed, first.context, before.row_key)).toThrowError(
        expect.objectContaining({ code: 'SECRET_VALUE_CORRUPT' }),
      );

      expect(await upgradeSealedValues(db, box)).toEqual({
        ran: true,
        upgraded: ENCRYPTED_COLUMNS.length,
        unreadable: [],
      });
      const opened: string[] = [];
      for (const spec of ENCRYPTED_COLUMNS) {
        for (const row of await readSealedColumn(db, spec)) {
          expect(row.sealed).toMatch(/^v2\./);
          opened.push(box.open(row.sealed, spec.context, row.row_key));
        }
      }
      expect(opened.sort()).toEqual(Object.values(SECRETS).sort());
      expect(await verifySealedColumns(db, box)).toBe(ENCRYPTED_COLUMNS.length);
      const check = await db.kysely
        .selectFrom('meta')
        .select('value')
        .where('key', '=', 'secret_key_check')
        .executeTakeFirstOrThrow();
      expect(check.value).toMatch(/^v2\./);
      expect(await ensureKeyCheck(db, box)).toBe('verified');

      const after = await snapshot(db);
      expect(await upgradeSealedValues(db, box)).toEqual({ ran: false, upgraded: 0, unreadable: [] });
      expect(await snapshot(db)).toEqual(after);
    });

    it('leaves a v1 value that does not open as it was, naming its row, and upgrades the others', async () => {
      const key = crypto.randomBytes(32);
      const box = new SecretBox(key);
      const db = await v1Database(key);
      const spec = ENCRYPTED_COLUMNS.find((c) => c.context === 'webhooks.secret');
      if (spec === undefined) throw new Error('no webhooks.secret');
      const [row] = await readSealedColumn(db, spec);
      if (row === undefined) throw new Error('no webhook');
      const damaged = `${row.sealed}AA`;
      await sql`update webhooks set secret_enc = ${damaged}`.execute(db.kysely);

      const outcome = await upgradeSealedValues(db, box);
      expect(outcome.upgraded).toBe(ENCRYPTED_COLUMNS.length - 1);
      expect(outcome.unreadable).toEqual([
        { table: 'webhooks', column: 'secret_enc', row: row.row_key, code: 'SECRET_VALUE_CORRUPT' },
      ]);
      expect((await readSealedColumn(db, spec))[0]?.sealed).toBe(damaged);
    });

    it('never opens a v1 value written after the upgrade, nor upgrades it', async () => {
      const key = crypto.randomBytes(32);
      const box = new SecretBox(key);
      const db = await v1Database(key);
      await upgradeSealedValues(db, box);
      const v1 = sealV1(key, 'kept-from-an-old-backup', 'grants.refresh_token');
      await sql`update grants set refresh_token_enc = ${v1}`.execute(db.kysely);
      expect(await upgradeSealedValues(db, box)).toEqual({ ran: false, upgraded: 0, unreadable: [] });
      const error = await failure(verifySealedColumns(db, box));
      expect(error.code).toBe('SECRET_VALUE_CORRUPT');
      expect(error.message).toContain('v1 format');
    });

    it('does not upgrade v1 values when the key check is v2, even with its meta row deleted', async () => {
      const key = crypto.randomBytes(32);
      const box = new SecretBox(key);
      const db = await openFresh();
      await ensureKeyCheck(db, box);
      await writeEverySecret(db, box);
      expect(await upgradeSealedValues(db, box)).toEqual({ ran: false, upgraded: 0, unreadable: [] });
      expect(await isUpgraded(db)).toBe(true);
      // A database writer deletes the record of the upgrade and pastes a v1 value from an old backup.
      const v1 = sealV1(key, 'kept-from-an-old-backup', 'grants.refresh_token');
      await sql`update grants set refresh_token_enc = ${v1}`.execute(db.kysely);
      await db.kysely.deleteFrom('meta').where('key', '=', 'sealed_format').execute();
      expect(await upgradeSealedValues(db, box)).toEqual({ ran: false, upgraded: 0, unreadable: [] });
      const grants = ENCRYPTED_COLUMNS.find((c) => c.context === 'grants.refresh_token');
      if (grants === undefined) throw new Error('no grants.refresh_token');
      expect((await readSealedColumn(db, grants))[0]?.sealed).toBe(v1);
      expect((await failure(verifySealedColumns(db, box))).message).toContain('v1 format');
    });

    if (engine === 'postgres') {
      it('runs once when several nodes start at once', async () => {
        const key = crypto.randomBytes(32);
        const box = new SecretBox(key);
        const db = await v1Database(key);
        const others = await Promise.all([1, 2, 3].map(() => openDatabase(db.url)));
        try {
          const outcomes = await Promise.all([db, ...others].map((node) => upgradeSealedValues(node, box)));
          expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
          expect(outcomes.reduce((sum, o) => sum + o.upgraded, 0)).toBe(ENCRYPTED_COLUMNS.length);
          expect(await verifySealedColumns(db, box)).toBe(ENCRYPTED_COLUMNS.length);
        } finally {
          for (const other of others) await other.close();
        }
      });
    }
  });

  describe('rotation', () => {
    it('re-encrypts every encrypted column and the key check; the old key then fails', async () => {
      const db = await openFresh();
      await ensureKeyCheck(db, oldBox);
      await writeEverySecret(db, oldBox);
      const counts = await rotateSecretKey(db, oldBox, newBox);
      expect(counts.map((c) => c.context)).toEqual(ENCRYPTED_COLUMNS.map((c) => c.context));
      expect(counts.every((c) => c.count === 1)).toBe(true);

      for (const spec of ENCRYPTED_COLUMNS) {
        for (const { sealed: value, row_key: row } of await readSealedColumn(db, spec)) {
          expect(value.split('.')[1]).toBe(newBox.keyId);
          expect(Object.values(SECRETS)).toContain(newBox.open(value, spec.context, row));
          expect(() => oldBox.open(value, spec.context, row)).toThrowError(
            expect.objectContaining({ code: 'SECRET_KEY_INVALID' }),
          );
        }
      }
      expect((await failure(ensureKeyCheck(db, oldBox))).code).toBe('SECRET_KEY_INVALID');
      expect(await ensureKeyCheck(db, newBox)).toBe('verified');
      expect(await verifySealedColumns(db, newBox)).toBe(ENCRYPTED_COLUMNS.length);
      expect((await failure(verifySealedColumns(db, oldBox))).code).toBe('SECRET_KEY_INVALID');
    });

    it('refuses to rotate from a key that is not the database key, changing nothing', async () => {
      const db = await openFresh();
      await ensureKeyCheck(db, oldBox);
      await writeEverySecret(db, oldBox);
      const stranger = new SecretBox(crypto.randomBytes(32));
      expect((await failure(rotateSecretKey(db, stranger, newBox))).code).toBe('SECRET_KEY_INVALID');
      expect(await ensureKeyCheck(db, oldBox)).toBe('verified');
    });

    it('rolls everything back when one stored value is damaged, naming its row', async () => {
      const db = await openFresh();
      await ensureKeyCheck(db, oldBox);
      await writeEverySecret(db, oldBox);
      // Damage the last column of the registry, so that earlier columns were already rewritten.
      const last = ENCRYPTED_COLUMNS[ENCRYPTED_COLUMNS.length - 1];
      if (last === undefined) throw new Error('empty registry');
      const [value] = await sealedValues(db, last);
      await sql`update ${sql.table(last.table)} set ${sql.ref(last.column)} = ${`${value ?? ''}AA`}`.execute(db.kysely);

      const error = await failure(rotateSecretKey(db, oldBox, newBox));
      expect(error.code).toBe('SECRET_VALUE_CORRUPT');
      expect(error.details).toMatchObject({ table: last.table, column: last.column });
      const first = ENCRYPTED_COLUMNS[0];
      const [untouched] = await sealedValues(db, first);
      expect(untouched?.split('.')[1]).toBe(oldBox.keyId);
      expect(await ensureKeyCheck(db, oldBox)).toBe('verified');
    });
  });
});
