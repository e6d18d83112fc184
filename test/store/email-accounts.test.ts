/**
 * Email accounts and interactions repositories on both engines: key uniqueness in any case,
 * status with its last error, agent assignment, deletion refused while mail exists; interaction
 * listing by cursor with filters and case-insensitive search.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assignInteraction,
  createContact,
  createEmailAccount,
  createInteraction,
  createList,
  createUser,
  deleteEmailAccount,
  findEmailAccountByKey,
  firstSyncFromDays,
  firstSyncToDays,
  isAccountAgent,
  listAccountAgents,
  listAgentAccountIds,
  listEmailAccounts,
  listInteractions,
  recordInteractionActivity,
  requireEmailAccount,
  setAccountAgents,
  setEmailAccountStatus,
  updateEmailAccount,
  type Database,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((engine, openFresh) => {
  let db: Database;
  let listId: number;
  beforeAll(async () => {
    db = await openFresh();
    listId = (await createList(db, { name: 'Customers' })).id;
  });

  describe('email accounts', () => {
    it('creates with defaults, finds by key in any case and refuses a taken key', async () => {
      const account = await createEmailAccount(db, {
        name: 'Support',
        key: 'Sup',
        emailAddress: 'support@contoso.com',
        username: 'support@contoso.com',
        defaultListId: listId,
      });
      expect(account).toMatchObject({
        active: true,
        service: 'outlook365',
        transport: 'imap_smtp',
        folder: 'INBOX',
        afterFetchAction: 'mark_seen',
        maxMessageBytes: 36_700_160,
        useIdle: true,
        firstSync: { kind: 'days', days: 7 },
        status: 'disconnected',
        lastError: null,
        sealedPassword: null,
      });
      expect((await findEmailAccountByKey(db, 'SUP'))?.id).toBe(account.id);
      await expect(
        createEmailAccount(db, { name: 'Other', key: 'sUP', emailAddress: 'o@contoso.com', username: 'o@contoso.com' }),
      ).rejects.toMatchObject({
        code: 'RESOURCE_CONFLICT',
        details: { field: 'key' },
      });
      await expect(
        createEmailAccount(db, {
          name: 'Bad list',
          key: 'BL',
          emailAddress: 'b@contoso.com',
          username: 'b@contoso.com',
          defaultListId: 99_999,
        }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it('updates settings and records status with its last error, keeping the time while the status holds', async () => {
      const account = await createEmailAccount(db, {
        name: 'Sales',
        key: 'SAL',
        emailAddress: 'sales@contoso.com',
        username: 'sales@contoso.com',
      });
      const updated = await updateEmailAccount(db, account.id, {
        scanJunk: true,
        afterFetchAction: 'move',
        afterFetchFolder: 'Done',
        firstSync: { kind: 'all' },
        active: false,
      });
      expect(updated).toMatchObject({
        scanJunk: true,
        afterFetchAction: 'move',
        afterFetchFolder: 'Done',
        firstSync: { kind: 'all' },
        active: false,
      });
      const error = { code: 'IMAP_NOT_CONNECTED', message: 'not connected', remedy: 'check IMAP' };
      const first = await setEmailAccountStatus(db, account.id, 'disconnected', error);
      expect(first).toMatchObject({ status: 'disconnected', lastError: error });
      const again = await setEmailAccountStatus(db, account.id, 'disconnected', error);
      expect(again.statusChangedAt).toBe(first.statusChangedAt);
      expect(await setEmailAccountStatus(db, account.id, 'connected')).toMatchObject({
        status: 'connected',
        lastError: null,
      });
      await expect(updateEmailAccount(db, 99_999, { name: 'x' })).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
      expect((await listEmailAccounts(db, { active: false })).map((a) => a.key)).toEqual(['SAL']);
    });

    it('assigns agents and lists the accounts of an agent', async () => {
      const account = await createEmailAccount(db, {
        name: 'Help',
        key: 'HLP',
        emailAddress: 'help@contoso.com',
        username: 'help@contoso.com',
      });
      const a = await createUser(db, { username: `a-${engine}`, displayName: 'A', role: 'agent', passwordHash: 'x' });
      const b = await createUser(db, { username: `b-${engine}`, displayName: 'B', role: 'agent', passwordHash: 'x' });
      expect(await setAccountAgents(db, account.id, [b.id, a.id, b.id])).toEqual([a.id, b.id].sort((x, y) => x - y));
      expect(await listAccountAgents(db, account.id)).toEqual([a.id, b.id].sort((x, y) => x - y));
      expect(await listAgentAccountIds(db, a.id)).toEqual([account.id]);
      expect((await listEmailAccounts(db, { agentUserId: a.id })).map((x) => x.key)).toEqual(['HLP']);
      expect(await isAccountAgent(db, account.id, a.id)).toBe(true);
      await setAccountAgents(db, account.id, [b.id]);
      expect(await isAccountAgent(db, account.id, a.id)).toBe(false);
      await expect(setAccountAgents(db, account.id, [99_999])).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
      expect(await listAccountAgents(db, account.id)).toEqual([b.id]);
    });

    it('deletes an account without conversations, and refuses while it has some', async () => {
      const empty = await createEmailAccount(db, {
        name: 'Tmp',
        key: 'TMP',
        emailAddress: 'tmp@contoso.com',
        username: 'tmp@contoso.com',
      });
      await deleteEmailAccount(db, empty.id);
      await expect(requireEmailAccount(db, empty.id)).rejects.toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
      const busy = await createEmailAccount(db, {
        name: 'Busy',
        key: 'BSY',
        emailAddress: 'busy@contoso.com',
        username: 'busy@contoso.com',
      });
      const contact = await createContact(db, { listId, name: 'C', addresses: [`c-${engine}@x.org`] });
      await createInteraction(db, {
        accountId: busy.id,
        contactId: contact.id,
        subject: 's',
        tokenCheck: 'AAAA',
        at: new Date(),
      });
      await expect(deleteEmailAccount(db, busy.id)).rejects.toMatchObject({ code: 'RESOURCE_CONFLICT' });
    });

    it('encodes the first-sync window', () => {
      for (const window of [{ kind: 'all' } as const, { kind: 'new' } as const, { kind: 'days', days: 30 } as const]) {
        expect(firstSyncFromDays(firstSyncToDays(window))).toEqual(window);
      }
    });
  });

  describe('interactions', () => {
    it('lists newest activity first, by cursor, with filters and case-insensitive search', async () => {
      const account = await createEmailAccount(db, {
        name: 'Inbox',
        key: 'INB',
        emailAddress: 'inbox@contoso.com',
        username: 'inbox@contoso.com',
      });
      const user = await createUser(db, {
        username: `u-${engine}`,
        displayName: 'U',
        role: 'agent',
        passwordHash: 'x',
      });
      const ids: number[] = [];
      for (let i = 0; i < 7; i += 1) {
        const contact = await createContact(db, {
          listId,
          name: `Émile ${i}`,
          addresses: [`emile${i}-${engine}@Example.org`],
        });
        const interaction = await createInteraction(db, {
          accountId: account.id,
          contactId: contact.id,
          subject: `Größe ${i}`,
          tokenCheck: 'ABCD',
          at: new Date(Date.UTC(2025, 0, 1, 0, i)),
        });
        ids.push(interaction.id);
      }
      // The same activity time on two rows: the id breaks the tie.
      await recordInteractionActivity(db, ids[0] ?? 0, {
        at: new Date(Date.UTC(2025, 0, 1, 0, 6)),
        unread: true,
        reopen: false,
      });
      await assignInteraction(db, ids[2] ?? 0, user.id);

      const all: number[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await listInteractions(db, {
          accountIds: [account.id],
          limit: 3,
          ...(cursor === undefined ? {} : { cursor }),
        });
        all.push(...page.items.map((item) => item.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(all).toEqual([ids[6], ids[0], ids[5], ids[4], ids[3], ids[2], ids[1]]);
      expect(
        (await listInteractions(db, { accountIds: [account.id], text: 'größe 3' })).items.map((i) => i.id),
      ).toEqual([ids[3]]);
      expect((await listInteractions(db, { accountIds: [account.id], text: 'EMILE4' })).items.map((i) => i.id)).toEqual(
        [ids[4]],
      );
      expect(
        (await listInteractions(db, { accountIds: [account.id], assignedUserId: user.id })).items.map((i) => i.id),
      ).toEqual([ids[2]]);
      expect((await listInteractions(db, { accountIds: [account.id], assignedUserId: null })).items).toHaveLength(6);
      expect((await listInteractions(db, { accountIds: [] })).items).toEqual([]);
      const [first] = (await listInteractions(db, { accountIds: [account.id], limit: 1 })).items;
      expect(first).toMatchObject({
        contactName: 'Émile 6',
        contactAddress: `emile6-${engine}@example.org`,
        subjectToken: `#P${ids[6]}-ABCD`,
      });
    });
  });
});
