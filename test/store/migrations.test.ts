import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isPosternError } from '../../src/errors/index.js';
import type { Database } from '../../src/store/database.js';
import { ENCRYPTED_COLUMNS } from '../../src/store/encrypted-columns.js';
import { MIGRATIONS, getMigrationStates, migrateDown, migrateToLatest } from '../../src/store/migrations/index.js';
import type { DB } from '../../src/store/schema.js';
import { storageErrorOf } from '../../src/store/sql-errors.js';
import { forEachEngine } from '../helpers/store.js';

const TABLES: ReadonlyArray<keyof DB> = [
  'users',
  'sessions',
  'api_tokens',
  'cloud_providers',
  'oauth_states',
  'grants',
  'grant_access_tokens',
  'email_accounts',
  'account_agents',
  'mailbox_checkpoints',
  'lists',
  'contacts',
  'contact_addresses',
  'interactions',
  'messages',
  'message_raw',
  'attachments',
  'outbox',
  'rate_counters',
  'events',
  'webhooks',
  'webhook_deliveries',
  'nodes',
  'mailbox_leases',
  'idempotency_keys',
  'meta',
];

/** Table → column names, as the engine reports them. */
async function describeSchema(db: Database): Promise<Map<string, string[]>> {
  const tables = await db.kysely.introspection.getTables();
  return new Map(tables.map((table) => [table.name, table.columns.map((column) => column.name)]));
}

forEachEngine((engine, openFresh) => {
  it('creates every table of the domain from an empty database', async () => {
    const db = await openFresh({ migrate: false });
    const report = await migrateToLatest(db);
    expect(report.applied).toEqual(MIGRATIONS.map((m) => m.name));
    const schema = await describeSchema(db);
    for (const table of TABLES) expect(schema.has(table), table).toBe(true);
  });

  it('is idempotent: a second run applies nothing', async () => {
    const db = await openFresh();
    expect((await migrateToLatest(db)).applied).toEqual([]);
    const states = await getMigrationStates(db);
    expect(states.every((state) => state.executedAt !== null)).toBe(true);
  });

  it('migrates down to nothing and up again', async () => {
    const db = await openFresh();
    await migrateDown(db);
    const empty = await describeSchema(db);
    for (const table of TABLES) expect(empty.has(table), table).toBe(false);
    expect((await migrateToLatest(db)).applied).toHaveLength(MIGRATIONS.length);
  });

  it('registers every _enc column of the schema as encrypted, and nothing else', async () => {
    const db = await openFresh();
    const found: string[] = [];
    for (const [table, columns] of await describeSchema(db)) {
      for (const column of columns) if (column.endsWith('_enc')) found.push(`${table}.${column}`);
    }
    const registered = ENCRYPTED_COLUMNS.map((c) => `${c.table}.${c.column}`);
    expect(found.sort()).toEqual([...registered].sort());
  });

  it('stores binary data byte for byte', async () => {
    const db = await openFresh();
    const bytes = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]);
    const now = new Date().toISOString();
    const list = await db.kysely
      .insertInto('lists')
      .values({ name: 'L', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const contact = await db.kysely
      .insertInto('contacts')
      .values({ list_id: list.id, name: 'C', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const account = await db.kysely
      .insertInto('email_accounts')
      .values({
        name: 'A',
        key: 'A',
        email_address: 'a@example.com',
        username: 'a@example.com',
        service: 'outlook365',
        transport: 'imap_smtp',
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const interaction = await db.kysely
      .insertInto('interactions')
      .values({
        account_id: account.id,
        contact_id: contact.id,
        last_activity_at: now,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const message = await db.kysely
      .insertInto('messages')
      .values({
        account_id: account.id,
        interaction_id: interaction.id,
        direction: 'in',
        received_at: now,
        created_at: now,
        updated_at: now,
        uid: 4_294_967_295,
        uidvalidity: 4_000_000_000,
        folder: 'INBOX',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.kysely.insertInto('message_raw').values({ message_id: message.id, raw: bytes }).execute();
    const raw = await db.kysely
      .selectFrom('message_raw')
      .select('raw')
      .where('message_id', '=', message.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.compare(raw.raw, bytes)).toBe(0);
    // UIDs are unsigned 32-bit: they must survive PostgreSQL's bigint and come back as numbers.
    const stored = await db.kysely
      .selectFrom('messages')
      .select(['uid', 'uidvalidity'])
      .where('id', '=', message.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ uid: 4_294_967_295, uidvalidity: 4_000_000_000 });
  });

  it.runIf(engine === 'postgres')('stores raw MIME out of line without compression (PostgreSQL)', async () => {
    const db = await openFresh();
    const result = await sql<{ attstorage: string }>`
      select attstorage from pg_attribute
      where attrelid = 'message_raw'::regclass and attname = 'raw'`.execute(db.kysely);
    // 'e' (external): out of line, never compressed; the default for bytea is 'x' (extended).
    expect(result.rows[0]?.attstorage).toBe('e');
    await migrateDown(db, '0023-message-search');
    const before = await sql<{ attstorage: string }>`
      select attstorage from pg_attribute
      where attrelid = 'message_raw'::regclass and attname = 'raw'`.execute(db.kysely);
    expect(before.rows[0]?.attstorage).toBe('x');
  });

  it('enforces the 0/1 CHECK on flags', async () => {
    const db = await openFresh();
    const now = new Date().toISOString();
    await expect(
      sql`insert into users (username, display_name, role, password_hash, disabled, created_at, updated_at)
          values ('x', 'x', 'admin', 'h', 2, ${now}, ${now})`.execute(db.kysely),
    ).rejects.toThrow();
  });

  it('leaves the connection as it found it: its busy timeout back, no transaction open', async () => {
    const db = await openFresh({ migrate: false });
    await migrateToLatest(db);
    if (engine === 'sqlite') {
      const { rows } = await sql<{ timeout: number }>`pragma busy_timeout`.execute(db.kysely);
      expect(rows).toEqual([{ timeout: 5000 }]);
    }
    await expect(db.transaction(async (tx) => (await sql`select 1 as one`.execute(tx.kysely)).rows)).resolves.toEqual([
      { one: 1 },
    ]);
  });

  it.runIf(engine === 'postgres')(
    'waits as long as it takes, whatever the query timeout: another node migrating, a long index build',
    async () => {
      const db = await openFresh({ migrate: false, queryTimeoutMs: 300 });
      await expect(sql`select pg_sleep(0.6)`.execute(db.kysely)).rejects.toThrow(/timeout/i);
      // Another process holds the migration lock (kysely's advisory lock) for longer than the timeout.
      const other = new pg.Client({ connectionString: db.url });
      await other.connect();
      try {
        await other.query('select pg_advisory_lock(3853314791062309107)');
        const released = new Promise((resolve) => setTimeout(resolve, 1_000)).then(() =>
          other.query('select pg_advisory_unlock(3853314791062309107)'),
        );
        const report = await migrateToLatest(db);
        await released;
        expect(report.applied).toEqual(MIGRATIONS.map((m) => m.name));
      } finally {
        await other.end();
      }
      await expect(
        db.withoutQueryTimeout(
          async (kysely) => (await sql<{ one: number }>`select 1 as one from pg_sleep(0.6)`.execute(kysely)).rows,
        ),
      ).resolves.toEqual([{ one: 1 }]);
    },
  );

  it.runIf(engine === 'postgres')(
    'a statement over the query timeout is cancelled on the server too, and the connection serves the next one',
    async () => {
      const db = await openFresh({ migrate: false, queryTimeoutMs: 300 });
      const started = Date.now();
      const error = await sql`select pg_sleep(3), 'postern-timeout-probe' as probe`
        .execute(db.kysely)
        .catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(storageErrorOf(error)?.code).toBe('STORE_UNAVAILABLE');
      expect((error as { code?: string }).code).toBe('57014');
      // Nothing of it is left running on the server.
      const other = new pg.Client({ connectionString: db.url });
      await other.connect();
      try {
        const { rows } = await other.query<{ n: string }>(
          `select count(*) as n from pg_stat_activity where state = 'active' and query like '%postern-timeout-probe%' and pid <> pg_backend_pid()`,
        );
        expect(Number(rows[0]?.n)).toBe(0);
      } finally {
        await other.end();
      }
      await expect(sql<{ one: number }>`select 1 as one`.execute(db.kysely)).resolves.toMatchObject({
        rows: [{ one: 1 }],
      });
    },
  );

  it(`reports a failing migration by name (${engine})`, async () => {
    const db = await openFresh({ migrate: false });
    // A table in the way of the first migration makes it fail.
    await db.kysely.schema.createTable('users').addColumn('id', 'integer').execute();
    const error = await migrateToLatest(db).catch((e: unknown) => e);
    expect(isPosternError(error, 'STORE_MIGRATION_FAILED')).toBe(true);
    expect(isPosternError(error) && error.message).toContain('0001-identity');
    expect(isPosternError(error) && error.details).toEqual({ migration: '0001-identity' });
    // Nothing half-built remains: the failed migration rolled back as a whole.
    const schema = await describeSchema(db);
    expect(schema.has('sessions')).toBe(false);
  });
});

describe('migration list', () => {
  it('is in name order with unique names', () => {
    const names = MIGRATIONS.map((m) => m.name);
    expect([...names].sort()).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
  });
});
