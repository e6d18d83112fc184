/**
 * Canned answers and signatures on both engines: a user lists the shared answers and their own,
 * never a colleague's, by title regardless of case; an answer changes between shared and personal
 * with its owner; counts per owner and of shared ones; a personal answer goes with its owner's
 * user; the signatures of a user and of an account are stored, read back and removed.
 */
import { beforeAll, expect, it } from 'vitest';
import {
  countCannedAnswers,
  createCannedAnswer,
  createEmailAccount,
  createUser,
  deleteCannedAnswer,
  getCannedAnswer,
  getUserSignature,
  listCannedAnswers,
  requireEmailAccount,
  setUserSignature,
  updateCannedAnswer,
  updateEmailAccount,
  type Database,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((_engine, openFresh) => {
  let db: Database;
  let serial = 0;
  const user = async (name: string) => {
    serial += 1;
    return (
      await createUser(db, { username: `${name}-${serial}`, displayName: name, role: 'agent', passwordHash: 'x' })
    ).id;
  };

  beforeAll(async () => {
    db = await openFresh();
  });

  it('lists the shared answers and the own ones, never a colleague’s, by title regardless of case', async () => {
    const [ada, bruno] = [await user('Ada'), await user('Bruno')];
    const shared = await createCannedAnswer(db, {
      title: 'refund',
      body: 'Shared {{contact.name}}',
      ownerUserId: null,
    });
    const adaOwn = await createCannedAnswer(db, { title: 'Apology', body: 'Sorry', ownerUserId: ada });
    const brunoOwn = await createCannedAnswer(db, { title: 'Bruno only', body: 'Hi', ownerUserId: bruno });
    expect(shared).toMatchObject({ shared: true, ownerUserId: null, title: 'refund', body: 'Shared {{contact.name}}' });
    expect(adaOwn).toMatchObject({ shared: false, ownerUserId: ada });

    expect((await listCannedAnswers(db, ada)).map((a) => a.id)).toEqual([adaOwn.id, shared.id]);
    expect((await listCannedAnswers(db, bruno)).map((a) => a.id)).toEqual([brunoOwn.id, shared.id]);
    expect(await countCannedAnswers(db, null)).toBe(1);
    expect(await countCannedAnswers(db, ada)).toBe(1);
  });

  it('moves an answer between shared and personal, and deletes it', async () => {
    const ada = await user('Ada');
    const answer = await createCannedAnswer(db, { title: 'T', body: 'B', ownerUserId: ada });
    const sharedNow = await updateCannedAnswer(db, answer.id, { title: 'T2', body: 'B2', ownerUserId: null });
    expect(sharedNow).toMatchObject({ id: answer.id, title: 'T2', body: 'B2', shared: true, ownerUserId: null });
    expect(await updateCannedAnswer(db, 999_999, { title: 'x', body: 'y', ownerUserId: null })).toBeUndefined();
    expect(await deleteCannedAnswer(db, answer.id)).toBe(true);
    expect(await deleteCannedAnswer(db, answer.id)).toBe(false);
    expect(await getCannedAnswer(db, answer.id)).toBeUndefined();
  });

  it('removes a personal answer with its owner’s user', async () => {
    const ada = await user('Ada');
    const answer = await createCannedAnswer(db, { title: 'Gone', body: 'soon', ownerUserId: ada });
    await db.kysely.deleteFrom('users').where('id', '=', ada).execute();
    expect(await getCannedAnswer(db, answer.id)).toBeUndefined();
  });

  it('stores, reads back and removes the signatures of a user and of an account', async () => {
    const ada = await user('Ada');
    expect(await getUserSignature(db, ada)).toBeNull();
    await setUserSignature(db, ada, 'Ada\nSupport desk');
    expect(await getUserSignature(db, ada)).toBe('Ada\nSupport desk');
    await setUserSignature(db, ada, null);
    expect(await getUserSignature(db, ada)).toBeNull();
    await expect(setUserSignature(db, 999_999, 'x')).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });

    serial += 1;
    const account = await createEmailAccount(db, {
      name: 'Support',
      key: `S${serial}`,
      emailAddress: `support${serial}@contoso.com`,
      username: `support${serial}@contoso.com`,
    });
    expect(account.signature).toBeNull();
    await updateEmailAccount(db, account.id, { signature: 'Contoso Ltd' });
    expect((await requireEmailAccount(db, account.id)).signature).toBe('Contoso Ltd');
  });
});
