import crypto from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secret-box.js';
import { readConstraintViolation, type ConstraintKind } from '../../src/store/sql-errors.js';
import { createContact } from '../../src/store/contacts.js';
import { createList } from '../../src/store/lists.js';
import { insertAccount, insertGrant, insertProvider } from '../helpers/store-factories.js';
import { forEachEngine } from '../helpers/store.js';

/** The kind of constraint a write broke, or undefined when it succeeded. */
async function violation(write: Promise<unknown>): Promise<ConstraintKind | undefined> {
  try {
    await write;
    return undefined;
  } catch (error) {
    const found = readConstraintViolation(error);
    if (found === undefined) throw error;
    return found.kind;
  }
}

forEachEngine((_engine, openFresh) => {
  let db: Database;
  const box = new SecretBox(crypto.randomBytes(32));
  const now = (): string => new Date().toISOString();
  let accountId: number;
  let interactionId: number;

  beforeAll(async () => {
    db = await openFresh();
    accountId = await insertAccount(db, box);
    const list = await createList(db, { name: 'Constraints' });
    const contact = await createContact(db, { listId: list.id, name: 'C', addresses: ['c@constraints.example'] });
    const row = await db.kysely
      .insertInto('interactions')
      .values({
        account_id: accountId,
        contact_id: contact.id,
        last_activity_at: now(),
        created_at: now(),
        updated_at: now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    interactionId = row.id;
  });

  function insertAccountWithKey(key: string): Promise<unknown> {
    return db.kysely
      .insertInto('email_accounts')
      .values({
        name: key,
        key,
        email_address: `${key}@x.example`,
        username: `${key}@x.example`,
        service: 'outlook365',
        transport: 'imap_smtp',
        created_at: now(),
        updated_at: now(),
      })
      .execute();
  }

  it('keeps account keys unique regardless of case', async () => {
    expect(await violation(insertAccountWithKey('Sales'))).toBeUndefined();
    expect(await violation(insertAccountWithKey('SALES'))).toBe('unique');
  });

  function insertMessage(fields: { messageId?: string; uid?: number; folder?: string }): Promise<unknown> {
    return db.kysely
      .insertInto('messages')
      .values({
        account_id: accountId,
        interaction_id: interactionId,
        direction: 'in',
        message_id: fields.messageId ?? null,
        folder: fields.folder ?? 'INBOX',
        uidvalidity: fields.uid === undefined ? null : 1,
        uid: fields.uid ?? null,
        received_at: now(),
        created_at: now(),
        updated_at: now(),
      })
      .execute();
  }

  it('stores a message once per mailbox position and once per Message-ID', async () => {
    expect(await violation(insertMessage({ messageId: '<a@x>', uid: 1 }))).toBeUndefined();
    expect(await violation(insertMessage({ messageId: '<b@x>', uid: 1 }))).toBe('unique');
    expect(await violation(insertMessage({ messageId: '<a@x>', uid: 2 }))).toBe('unique');
    expect(await violation(insertMessage({ messageId: '<c@x>', uid: 1, folder: 'Junk' }))).toBeUndefined();
    // Outbound messages have no mailbox position and may lack an id: NULLs never collide.
    expect(await violation(insertMessage({}))).toBeUndefined();
    expect(await violation(insertMessage({}))).toBeUndefined();
  });

  it('keeps one grant per identity under a provider, by object id and by UPN in any case', async () => {
    const providerId = await insertProvider(db, box);
    const grantId = await insertGrant(db, box, { providerId });
    const grant = await db.kysely.selectFrom('grants').selectAll().where('id', '=', grantId).executeTakeFirstOrThrow();
    const base = {
      provider_id: providerId,
      scopes_json: '[]',
      state: 'active' as const,
      created_at: now(),
      updated_at: now(),
    };
    expect(
      await violation(
        db.kysely
          .insertInto('grants')
          .values({ ...base, upn: 'other@x', object_id: grant.object_id })
          .execute(),
      ),
    ).toBe('unique');
    expect(
      await violation(
        db.kysely
          .insertInto('grants')
          .values({ ...base, upn: grant.upn?.toUpperCase() ?? null, object_id: 'new-oid' })
          .execute(),
      ),
    ).toBe('unique');
    const otherProvider = await insertProvider(db, box);
    expect(
      await violation(
        db.kysely
          .insertInto('grants')
          .values({ ...base, provider_id: otherProvider, upn: grant.upn, object_id: grant.object_id })
          .execute(),
      ),
    ).toBeUndefined();
  });

  it('keeps one checkpoint per account folder, one outbox idempotency key per account, one lease per name', async () => {
    const checkpoint = () =>
      db.kysely
        .insertInto('mailbox_checkpoints')
        .values({ account_id: accountId, folder: 'INBOX', updated_at: now() })
        .execute();
    expect(await violation(checkpoint())).toBeUndefined();
    expect(await violation(checkpoint())).toBe('unique');

    const outbound = async (): Promise<number> =>
      (
        await db.kysely
          .insertInto('messages')
          .values({
            account_id: accountId,
            direction: 'out',
            delivery_state: 'queued',
            received_at: now(),
            created_at: now(),
            updated_at: now(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const queue = async (key: string) =>
      db.kysely
        .insertInto('outbox')
        .values({
          message_id: await outbound(),
          account_id: accountId,
          next_attempt_at: now(),
          idempotency_key: key,
          created_at: now(),
          updated_at: now(),
        })
        .execute();
    expect(await violation(queue('reply-42'))).toBeUndefined();
    expect(await violation(queue('reply-42'))).toBe('unique');

    const lease = () => db.kysely.insertInto('mailbox_leases').values({ account_id: accountId }).execute();
    expect(await violation(lease())).toBeUndefined();
    expect(await violation(lease())).toBe('unique');
  });

  it('refuses to delete a provider that an account uses', async () => {
    const providerId = await insertProvider(db, box);
    await insertAccount(db, box, { providerId });
    expect(await violation(db.kysely.deleteFrom('cloud_providers').where('id', '=', providerId).execute())).toBe(
      'foreign_key',
    );
  });

  it("cascades a provider's deletion to its grants and cached tokens", async () => {
    const providerId = await insertProvider(db, box);
    const grantId = await insertGrant(db, box, { providerId });
    await db.kysely.deleteFrom('cloud_providers').where('id', '=', providerId).execute();
    expect(
      await db.kysely.selectFrom('grants').select('id').where('id', '=', grantId).executeTakeFirst(),
    ).toBeUndefined();
  });
});
