/**
 * Reading mail through the emulated Graph API with real tokens from the emulator's token endpoint:
 * listing a folder with paging, `$select`, `$filter`, `$orderby` (and the InefficientFilter rule),
 * a message as JSON and as MIME (`$value`), attachments, marking read, moving (a new id), folders.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import {
  collection,
  CONTOSO,
  deliver,
  expectGraphError,
  GraphClient,
  startGraphEmulator,
  userToken,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let marco: GraphClient;
let andrea: GraphClient;

const MARCO = CONTOSO.marco.upn;
const BASE_TIME = Date.parse('2026-03-01T08:00:00Z');

/** The i-th seeded message of marco's Inbox: received i hours after BASE_TIME. */
const receivedAt = (i: number): string => new Date(BASE_TIME + i * 3_600_000).toISOString();

beforeAll(async () => {
  emu = await startGraphEmulator();
  for (let i = 0; i < 12; i += 1) {
    await deliver(emu, {
      mailbox: MARCO,
      folder: 'Inbox',
      internalDate: receivedAt(i),
      subject: `Ticket ${i}`,
      text: `Body of ticket ${i}`,
      to: MARCO,
      flags: i < 3 ? ['\\Seen'] : [],
    });
  }
  marco = new GraphClient(emu, await userToken(emu, CONTOSO.marco));
  andrea = new GraphClient(emu, await userToken(emu, CONTOSO.andrea));
});

afterAll(() => emu.stop());

describe('listing a folder', () => {
  it('pages newest first, 10 by default, following @odata.nextLink verbatim', async () => {
    const first = collection(await marco.get('/me/mailFolders/inbox/messages'));
    expect(first['@odata.context']).toBe(
      `${emu.base}/v1.0/$metadata#users('${CONTOSO.marco.id}')/mailFolders('inbox')/messages`,
    );
    expect(first.value).toHaveLength(10);
    expect(first.value.map((m) => m.subject)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2].map((i) => `Ticket ${i}`));
    expect(first['@odata.nextLink']).toMatch(/\/v1\.0\/me\/mailFolders\/inbox\/messages\?.*\$skip=10/);
    const second = collection(await marco.get(first['@odata.nextLink'] ?? ''));
    expect(second.value.map((m) => m.subject)).toEqual(['Ticket 1', 'Ticket 0']);
    expect(second['@odata.nextLink']).toBeUndefined();
  });

  it('honours $top and $select (id and @odata.etag always present)', async () => {
    const page = collection(
      await marco.get('/me/mailFolders/Inbox/messages?$top=3&$select=subject,receivedDateTime,isRead'),
    );
    expect(page['@odata.context']).toMatch(/\/messages\(subject,receivedDateTime,isRead\)$/);
    expect(page.value).toHaveLength(3);
    expect(Object.keys(page.value[0] ?? {}).sort()).toEqual([
      '@odata.etag',
      'id',
      'isRead',
      'receivedDateTime',
      'subject',
    ]);
    expect(page.value[0]).toMatchObject({
      subject: 'Ticket 11',
      receivedDateTime: receivedAt(11).replace('.000Z', 'Z'),
      isRead: false,
    });
    const next = collection(await marco.get(page['@odata.nextLink'] ?? ''));
    expect(next.value.map((m) => m.subject)).toEqual(['Ticket 8', 'Ticket 7', 'Ticket 6']);
    expect(Object.keys(next.value[0] ?? {})).not.toContain('body');
  });

  it('filters on receivedDateTime and orders ascending when the order property leads the filter', async () => {
    const query = `$filter=receivedDateTime ge ${receivedAt(9).replace('.000Z', 'Z')}&$orderby=receivedDateTime asc&$select=subject`;
    const page = collection(await marco.get(`/me/mailFolders/inbox/messages?${query}`));
    expect(page.value.map((m) => m.subject)).toEqual(['Ticket 9', 'Ticket 10', 'Ticket 11']);
    const unread = collection(
      await marco.get(`/users/${MARCO}/mailFolders/inbox/messages?$filter=isRead eq true&$select=subject`),
    );
    expect(unread.value.map((m) => m.subject)).toEqual(['Ticket 2', 'Ticket 1', 'Ticket 0']);
  });

  it('refuses an $orderby property that does not lead the $filter: 400 InefficientFilter', async () => {
    const response = await marco.get(
      '/me/mailFolders/inbox/messages?$filter=isRead eq false&$orderby=receivedDateTime desc',
    );
    expectGraphError(
      response,
      400,
      'InefficientFilter',
      'The restriction or sort order is too complex for this operation.',
    );
  });

  it('answers bad OData with 400: $top out of range, unknown property, quoted date, repeated option', async () => {
    expectGraphError(await marco.get('/me/mailFolders/inbox/messages?$top=0'), 400, 'ErrorInvalidUrlQuery');
    expectGraphError(await marco.get('/me/mailFolders/inbox/messages?$top=1001'), 400, 'ErrorInvalidUrlQuery');
    expectGraphError(
      await marco.get('/me/mailFolders/inbox/messages?$select=subject,colour'),
      400,
      'RequestBroker--ParseUri',
      "Could not find a property named 'colour' on type 'Microsoft.OutlookServices.Message'.",
    );
    expectGraphError(
      await marco.get("/me/mailFolders/inbox/messages?$filter=receivedDateTime ge '2026-01-01'"),
      400,
      'BadRequest',
    );
    expectGraphError(await marco.get('/me/mailFolders/inbox/messages?$top=1&$top=2'), 400, 'BadRequest');
  });
});

const recipient = z.object({ emailAddress: z.object({ name: z.string(), address: z.string() }) });
const messageSchema = z.object({
  id: z.string(),
  subject: z.string(),
  from: recipient,
  toRecipients: z.array(recipient),
  ccRecipients: z.array(recipient),
  receivedDateTime: z.string(),
  sentDateTime: z.string(),
  internetMessageId: z.string(),
  conversationId: z.string(),
  isRead: z.boolean(),
  hasAttachments: z.boolean(),
  body: z.object({ contentType: z.enum(['html', 'text']), content: z.string() }),
  bodyPreview: z.string(),
  parentFolderId: z.string(),
  changeKey: z.string(),
});

async function inboxId(client: GraphClient): Promise<string> {
  const folder = await client.get('/me/mailFolders/inbox');
  expect(folder.status).toBe(200);
  return z.object({ id: z.string() }).parse(folder.json).id;
}

async function findBySubject(
  client: GraphClient,
  subject: string,
  folder = 'inbox',
): Promise<z.infer<typeof messageSchema>> {
  const page = collection(await client.get(`/me/mailFolders/${folder}/messages?$top=100`));
  const found = page.value.find((m) => m.subject === subject);
  if (found === undefined) throw new Error(`no message "${subject}" in ${folder}`);
  return messageSchema.parse(found);
}

describe('one message', () => {
  it('is Graph JSON (addresses, ids, body in HTML or text on request) and its MIME is $value', async () => {
    await deliver(emu, {
      to: CONTOSO.andrea.upn,
      cc: 'carla@example.org',
      from: '"Bea Customer" <bea@example.org>',
      subject: 'Printer on fire',
      text: 'It is on fire.\nPlease come.',
      messageId: '<fire-1@example.org>',
    });
    const listed = await findBySubject(andrea, 'Printer on fire');
    const got = await andrea.get(`/me/messages/${listed.id}`);
    expect(got.status).toBe(200);
    const message = messageSchema.parse(got.json);
    expect(got.json['@odata.context']).toBe(
      `${emu.base}/v1.0/$metadata#users('${CONTOSO.andrea.id}')/messages/$entity`,
    );
    expect(message).toMatchObject({
      subject: 'Printer on fire',
      from: { emailAddress: { name: 'Bea Customer', address: 'bea@example.org' } },
      toRecipients: [{ emailAddress: { name: CONTOSO.andrea.upn, address: CONTOSO.andrea.upn } }],
      ccRecipients: [{ emailAddress: { name: 'carla@example.org', address: 'carla@example.org' } }],
      internetMessageId: '<fire-1@example.org>',
      isRead: false,
      hasAttachments: false,
      bodyPreview: 'It is on fire. Please come.',
      parentFolderId: await inboxId(andrea),
    });
    expect(message.body.contentType).toBe('html');
    expect(message.body.content).toContain('It is on fire.');
    expect(message.receivedDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const text = await andrea.get(`/me/messages/${listed.id}`, { prefer: 'outlook.body-content-type="text"' });
    expect(text.headers.get('preference-applied')).toBe('outlook.body-content-type="text"');
    const textBody = messageSchema.parse(text.json).body;
    expect(textBody.contentType).toBe('text');
    expect(textBody.content.trim()).toBe('It is on fire.\nPlease come.');

    const mime = await andrea.get(`/me/messages/${listed.id}/$value`);
    expect(mime.status).toBe(200);
    const stored = z
      .object({ messages: z.array(z.object({ messageId: z.string().nullable(), raw: z.string() })) })
      .parse(await emu.control('GET', `/exchange/mailboxes/${CONTOSO.andrea.upn}/folders/Inbox/messages?raw=true`));
    expect(mime.text).toBe(stored.messages.find((m) => m.messageId === '<fire-1@example.org>')?.raw);
    expect(mime.text).toContain('Subject: Printer on fire');
  });

  it('lists, gets and downloads file attachments (contentBytes base64)', async () => {
    const pdf = Buffer.from('%PDF-1.4 fake invoice');
    await deliver(emu, {
      to: CONTOSO.andrea.upn,
      subject: 'Invoice attached',
      text: 'See attachment.',
      attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', contentBase64: pdf.toString('base64') }],
    });
    const message = await findBySubject(andrea, 'Invoice attached');
    expect(message.hasAttachments).toBe(true);
    const list = collection(await andrea.get(`/me/messages/${message.id}/attachments`));
    expect(list.value).toHaveLength(1);
    const attachment = z
      .object({
        '@odata.type': z.literal('#microsoft.graph.fileAttachment'),
        id: z.string(),
        name: z.string(),
        contentType: z.string(),
        size: z.number(),
        isInline: z.boolean(),
        contentBytes: z.string(),
      })
      .parse(list.value[0]);
    expect(attachment).toMatchObject({
      name: 'invoice.pdf',
      contentType: 'application/pdf',
      size: pdf.length,
      isInline: false,
    });
    expect(Buffer.from(attachment.contentBytes, 'base64')).toEqual(pdf);
    const one = await andrea.get(`/me/messages/${message.id}/attachments/${attachment.id}`);
    expect(one.json).toMatchObject({ id: attachment.id, name: 'invoice.pdf', contentBytes: attachment.contentBytes });
    const raw = await andrea.get(`/me/messages/${message.id}/attachments/${attachment.id}/$value`);
    expect(raw.headers.get('content-type')).toBe('application/pdf');
    expect(raw.text).toBe(pdf.toString());
  });

  it('marks read with PATCH isRead (the IMAP \\Seen flag; changeKey changes)', async () => {
    await deliver(emu, { to: CONTOSO.andrea.upn, subject: 'Read me', text: 'x' });
    const before = await findBySubject(andrea, 'Read me');
    const patched = await andrea.patch(`/me/messages/${before.id}`, { isRead: true });
    expect(patched.status).toBe(200);
    const after = messageSchema.parse(patched.json);
    expect(after.isRead).toBe(true);
    expect(after.changeKey).not.toBe(before.changeKey);
    const store = z
      .object({ messages: z.array(z.object({ subject: z.string().nullable(), flags: z.array(z.string()) })) })
      .parse(await emu.control('GET', `/exchange/mailboxes/${CONTOSO.andrea.upn}/folders/Inbox/messages`));
    expect(store.messages.find((m) => m.subject === 'Read me')?.flags).toContain('\\Seen');
    expectGraphError(await andrea.patch(`/me/messages/${before.id}`, { colour: 'red' }), 400, 'RequestBodyRead');
  });

  it('moves to Deleted Items: 201, a new id, and the old id is gone (404 ErrorItemNotFound)', async () => {
    await deliver(emu, { to: CONTOSO.andrea.upn, subject: 'Move me', text: 'x' });
    const before = await findBySubject(andrea, 'Move me');
    const moved = await andrea.post(`/me/messages/${before.id}/move`, { destinationId: 'deleteditems' });
    expect(moved.status).toBe(201);
    const after = messageSchema.parse(moved.json);
    expect(after.id).not.toBe(before.id);
    expect(after.subject).toBe('Move me');
    const deletedItems = z.object({ id: z.string() }).parse((await andrea.get('/me/mailFolders/deleteditems')).json);
    expect(after.parentFolderId).toBe(deletedItems.id);
    expect((await findBySubject(andrea, 'Move me', 'deleteditems')).id).toBe(after.id);
    expectGraphError(
      await andrea.get(`/me/messages/${before.id}`),
      404,
      'ErrorItemNotFound',
      'The specified object was not found in the store.',
    );
    expectGraphError(await andrea.get('/me/messages/not-an-id'), 400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
    expectGraphError(
      await andrea.post(`/me/messages/${after.id}/move`, { destinationId: 'nosuchfolder' }),
      400,
      'ErrorInvalidIdMalformed',
    );
  });
});

describe('folders', () => {
  it('lists the top-level folders and gets one by well-known name with its counts', async () => {
    const folders = collection(await marco.get('/me/mailFolders'));
    expect(folders.value.map((f) => f.displayName)).toEqual([
      'Inbox',
      'Drafts',
      'Sent Items',
      'Deleted Items',
      'Junk Email',
    ]);
    const inbox = await marco.get("/me/mailFolders('Inbox')");
    expect(inbox.json).toMatchObject({
      displayName: 'Inbox',
      totalItemCount: 12,
      unreadItemCount: 9,
      childFolderCount: 0,
    });
    const byId = await marco.get(`/me/mailFolders/${z.object({ id: z.string() }).parse(inbox.json).id}`);
    expect(byId.json).toMatchObject({ displayName: 'Inbox' });
    const named = collection(await marco.get("/me/mailFolders?$filter=displayName eq 'Junk Email'"));
    expect(named.value.map((f) => f.displayName)).toEqual(['Junk Email']);
  });
});
