/**
 * Reply drafts and the reply's conditional assignment on both engines: one draft per conversation
 * and user (the upsert replaces it, another user's is separate), recipients read back as saved
 * (JSON text) or null, deleted alone, gone with their user; a conversation is assigned by a reply
 * only while nobody owns it, also when two transactions try at once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assignInteraction,
  assignInteractionIfUnassigned,
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  createUser,
  deleteReplyDraft,
  getInteraction,
  getReplyDraft,
  saveReplyDraft,
  type Database,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  let serial = 0;
  const user = async (name: string) => {
    serial += 1;
    return (
      await createUser(db, { username: `${name}-${serial}`, displayName: name, role: 'agent', passwordHash: 'x' })
    ).id;
  };
  const conversation = async () => {
    serial += 1;
    const contact = await createContact(db, {
      listId,
      name: 'Ada',
      addresses: [`ada${serial}-${engine}@example.org`],
    });
    return (
      await createInteraction(db, {
        accountId,
        contactId: contact.id,
        subject: `Order ${serial}`,
        tokenCheck: 'ABCD',
        at: new Date(Date.UTC(2025, 0, 1)),
      })
    ).id;
  };
  let listId: number;
  let accountId: number;

  beforeAll(async () => {
    db = await openFresh();
    listId = (await createList(db, { name: 'Customers' })).id;
    accountId = (
      await createEmailAccount(db, {
        name: 'Support',
        key: 'SUP',
        emailAddress: 'support@contoso.com',
        username: 'support@contoso.com',
        defaultListId: listId,
      })
    ).id;
  });

  describe('reply drafts', () => {
    it('keeps one per conversation and user: saved, replaced, separate from a colleague, deleted alone', async () => {
      const id = await conversation();
      const [ada, bruno] = [await user('Ada Agent'), await user('Bruno Agent')];
      expect(await getReplyDraft(db, id, ada)).toBeUndefined();

      const first = await saveReplyDraft(db, {
        interactionId: id,
        userId: ada,
        text: 'Hi',
        html: null,
        replyAll: false,
        recipients: null,
      });
      expect(first).toMatchObject({
        interactionId: id,
        userId: ada,
        text: 'Hi',
        html: null,
        replyAll: false,
        recipients: null,
      });
      const recipients = {
        to: [{ name: 'Grâce', address: 'grace@example.org' }],
        cc: [],
        bcc: [{ name: '', address: 'audit@example.org' }],
      };
      const html = '<div>Hi, <b>again</b> ✓</div><ul><li>one</li></ul>';
      await saveReplyDraft(db, {
        interactionId: id,
        userId: ada,
        text: 'Hi, again ✓',
        html,
        replyAll: true,
        recipients,
      });
      await saveReplyDraft(db, {
        interactionId: id,
        userId: bruno,
        text: 'Mine',
        html: null,
        replyAll: false,
        recipients: null,
      });

      expect(await getReplyDraft(db, id, ada)).toMatchObject({ text: 'Hi, again ✓', html, replyAll: true, recipients });
      expect(await getReplyDraft(db, id, bruno)).toMatchObject({ text: 'Mine', html: null, recipients: null });
      // Saving a plain-text version over a formatted one clears the HTML.
      await saveReplyDraft(db, { interactionId: id, userId: ada, text: 'Hi', html: null, replyAll: true, recipients });
      expect((await getReplyDraft(db, id, ada))?.html).toBeNull();
      const rows = await db.kysely
        .selectFrom('reply_drafts')
        .select('user_id')
        .where('interaction_id', '=', id)
        .execute();
      expect(rows.map((row) => row.user_id).sort((a, b) => a - b)).toEqual([ada, bruno].sort((a, b) => a - b));

      expect(await deleteReplyDraft(db, id, ada)).toBe(true);
      expect(await deleteReplyDraft(db, id, ada)).toBe(false);
      expect(await getReplyDraft(db, id, ada)).toBeUndefined();
      expect((await getReplyDraft(db, id, bruno))?.text).toBe('Mine');
    });

    it('goes with its user (the foreign key cascades)', async () => {
      const id = await conversation();
      const gone = await user('Gone Agent');
      await saveReplyDraft(db, {
        interactionId: id,
        userId: gone,
        text: 'Bye',
        html: null,
        replyAll: false,
        recipients: null,
      });
      await db.kysely.deleteFrom('users').where('id', '=', gone).execute();
      const rows = await db.kysely.selectFrom('reply_drafts').select('id').where('user_id', '=', gone).execute();
      expect(rows).toEqual([]);
    });
  });

  describe("a reply's assignment", () => {
    it('assigns an unassigned conversation and leaves an owned one to its owner', async () => {
      const [owner, replier] = [await user('Owner'), await user('Replier')];
      const free = await conversation();
      await assignInteractionIfUnassigned(db, free, replier);
      expect((await getInteraction(db, free))?.assignedUserId).toBe(replier);

      const owned = await conversation();
      await assignInteraction(db, owned, owner);
      await assignInteractionIfUnassigned(db, owned, replier);
      expect((await getInteraction(db, owned))?.assignedUserId).toBe(owner);
    });

    it('assigns once when two transactions reply at the same time', async () => {
      const [first, second] = [await user('First'), await user('Second')];
      const id = await conversation();
      await Promise.all(
        [first, second].map((userId) => db.transaction((tx) => assignInteractionIfUnassigned(tx, id, userId))),
      );
      const assigned = (await getInteraction(db, id))?.assignedUserId;
      expect([first, second]).toContain(assigned);
      // Whoever came second found it owned and changed nothing: the owner is one of them, never reset.
      await assignInteractionIfUnassigned(db, id, first === assigned ? second : first);
      expect((await getInteraction(db, id))?.assignedUserId).toBe(assigned);
    });
  });
});
