/**
 * The Interactions API through app.inject(): agents see only the accounts assigned to them,
 * administrators all; filters, text search and cursor pagination; a conversation with its
 * messages (inline images linked); raw MIME and attachment downloads with safe headers (inbound
 * ones read back from the raw MIME, refused when it no longer holds them); assign, close, reopen,
 * read.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let agent: { authorization: string; userId: number };
let outsider: { authorization: string; userId: number };
let support: EmailAccountRecord;
let sales: EmailAccountRecord;
let uid = 0;

async function ingest(account: EmailAccountRecord, raw: Buffer) {
  uid += 1;
  return ingestNew(postern.runtime.db, account, raw, uid);
}

const get = (url: string, authorization: string) => app.inject({ method: 'GET', url, headers: { authorization } });
const post = (url: string, authorization: string, payload?: Record<string, unknown>) =>
  app.inject({ method: 'POST', url, headers: { authorization }, ...(payload === undefined ? {} : { payload }) });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;

  admin = (await postern.bearer('admin')).authorization;
  agent = await postern.bearer('agent');
  outsider = await postern.bearer('agent');
  support = await buildAccount(postern.runtime.db);
  sales = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [agent.userId]);
});
afterAll(async () => {
  await postern.close();
});

describe('listing', () => {
  let first: number;

  beforeAll(async () => {
    first = (
      await ingest(
        support,
        buildMessage({
          from: 'Ada Lovelace <ada@example.org>',
          subject: 'Engine broken',
          messageId: '<api-1@example.org>',
        }),
      )
    ).interactionId;
    for (let i = 0; i < 5; i += 1)
      await ingest(
        support,
        buildMessage({
          from: `Customer ${i} <c${i}@shop.example>`,
          subject: `Order ${i}`,
          date: `Wed, 15 Jan 2025 10:0${i}:00 +0000`,
        }),
      );
    await ingest(sales, buildMessage({ subject: 'Sales only' }));
  });

  it('shows an agent the conversations of assigned accounts only', async () => {
    const listed = await get(`/api/email/accounts/${support.id}/interactions`, agent.authorization);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toHaveLength(6);
    // Not theirs reads as missing: the id tells nothing (test/security/account-id-oracle.test.ts).
    const hidden = await get(`/api/email/accounts/${sales.id}/interactions`, agent.authorization);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error).toMatchObject({ code: 'RESOURCE_NOT_FOUND' });
    expect((await get(`/api/email/accounts/${sales.id}/interactions`, admin)).json().items).toHaveLength(1);
    expect((await get(`/api/email/accounts/9999/interactions`, admin)).statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: `/api/email/accounts/${support.id}/interactions` })).statusCode,
    ).toBe(401);
  });

  it('pages by cursor, newest activity first, without repeats', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/api/email/accounts/${support.id}/interactions?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`,
        agent.authorization,
      );
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().items.map((item: { id: number }) => item.id));
      cursor = page.json().nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    const bad = await get(`/api/email/accounts/${support.id}/interactions?cursor=garbage`, agent.authorization);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('searches the subject, the contact name and address, and filters by status, assignee and contact', async () => {
    const search = (q: string) =>
      get(`/api/email/accounts/${support.id}/interactions?q=${encodeURIComponent(q)}`, agent.authorization);
    expect((await search('ENGINE')).json().items.map((i: { id: number }) => i.id)).toEqual([first]);
    expect((await search('lovelace')).json().items.map((i: { id: number }) => i.id)).toEqual([first]);
    expect((await search('c3@shop')).json().items).toHaveLength(1);
    expect((await search('100%_')).json().items).toHaveLength(0);

    expect(
      (await post(`/api/interactions/${first}/assign`, agent.authorization, { userId: agent.userId })).json(),
    ).toMatchObject({ assignedUserId: agent.userId });
    expect(
      (await get(`/api/email/accounts/${support.id}/interactions?assigned=me`, agent.authorization))
        .json()
        .items.map((i: { id: number }) => i.id),
    ).toEqual([first]);
    expect(
      (await get(`/api/email/accounts/${support.id}/interactions?assigned=none`, agent.authorization)).json().items,
    ).toHaveLength(5);
    await post(`/api/interactions/${first}/close`, agent.authorization);
    expect(
      (await get(`/api/email/accounts/${support.id}/interactions?status=closed`, agent.authorization))
        .json()
        .items.map((i: { id: number }) => i.id),
    ).toEqual([first]);
    const listed = (
      await get(`/api/email/accounts/${support.id}/interactions?status=closed`, agent.authorization)
    ).json().items[0];
    expect(listed).toMatchObject({
      contact: { name: 'Ada Lovelace', address: 'ada@example.org' },
      status: 'closed',
      subjectToken: expect.stringMatching(/^#P\d+-/),
    });
    const byContact = await get(
      `/api/email/accounts/${support.id}/interactions?contactId=${listed.contact.id}`,
      agent.authorization,
    );
    expect(byContact.json().items).toHaveLength(1);
    expect(
      (await get(`/api/email/accounts/${support.id}/interactions?status=maybe`, agent.authorization)).statusCode,
    ).toBe(400);
  });
});

describe('a conversation', () => {
  let interactionId: number;
  let messageRowId: number;
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  const raw = Buffer.from(
    [
      'From: Grace <grace@example.org>',
      'To: support@contoso.com',
      'Subject: Screenshot',
      'Message-ID: <shot@example.org>',
      'Content-Type: multipart/related; boundary=b',
      '',
      '--b',
      'Content-Type: text/html',
      '',
      '<p onclick="x()">See <img src="cid:shot@x"> and <img src="https://tracker.example/p.gif"></p>',
      '--b',
      'Content-Type: image/png',
      'Content-ID: <shot@x>',
      'Content-Transfer-Encoding: base64',
      '',
      png.toString('base64'),
      '--b',
      'Content-Type: text/html; name="evil.html"',
      'Content-Disposition: attachment; filename="../evil \u00e9t\u00e9.html"',
      '',
      '<script>alert(1)</script>',
      '--b--',
      '',
    ].join('\r\n'),
  );

  beforeAll(async () => {
    const result = await ingest(support, raw);
    interactionId = result.interactionId;
    messageRowId = result.messageRowId;
  });

  it('comes with its messages, inline images linked to their attachment and remote ones held back', async () => {
    const reply = await get(`/api/interactions/${interactionId}`, agent.authorization);
    expect(reply.statusCode).toBe(200);
    const body = reply.json();
    expect(body).toMatchObject({
      id: interactionId,
      subject: 'Screenshot',
      contact: { name: 'Grace', address: 'grace@example.org' },
      messageCount: 1,
    });
    const [message] = body.messages;
    const [image, page] = message.attachments;
    expect(message).toMatchObject({
      subject: 'Screenshot',
      from: [{ name: 'Grace', address: 'grace@example.org' }],
      rawUrl: `/api/messages/${messageRowId}/raw`,
      read: false,
    });
    expect(message.html).toContain(`src="/api/messages/${messageRowId}/attachments/${image.id}"`);
    expect(message.html).toContain('data-postern-remote-src="https://tracker.example/p.gif"');
    expect(message.html).not.toContain('onclick');
    expect(image).toMatchObject({
      contentType: 'image/png',
      inline: true,
      contentId: 'shot@x',
      url: `/api/messages/${messageRowId}/attachments/${image.id}`,
    });
    expect(page).toMatchObject({ filename: 'evil été.html', inline: false });
    expect(Object.keys(message)).not.toContain('accountId');
  });

  it('downloads the raw MIME and attachments with their type, a safe name and no way to run', async () => {
    const rawReply = await get(`/api/messages/${messageRowId}/raw`, agent.authorization);
    expect(rawReply.statusCode).toBe(200);
    expect(rawReply.headers['content-type']).toBe('message/rfc822');
    expect(rawReply.headers['content-disposition']).toBe(
      `attachment; filename="message-${messageRowId}.eml"; filename*=UTF-8''message-${messageRowId}.eml`,
    );
    expect(rawReply.rawPayload.equals(raw)).toBe(true);

    const detail = (await get(`/api/interactions/${interactionId}`, agent.authorization)).json();
    const [image, page] = detail.messages[0].attachments;
    const png2 = await get(image.url, agent.authorization);
    expect(png2.headers['content-type']).toBe('image/png');
    expect(png2.rawPayload.equals(png)).toBe(true);
    const html = await get(page.url, agent.authorization);
    expect(html.headers['content-disposition']).toBe(
      `attachment; filename="evil ete.html"; filename*=UTF-8''evil%20%C3%A9t%C3%A9.html`,
    );
    expect(html.headers['x-content-type-options']).toBe('nosniff');
    expect(html.headers['content-security-policy']).toContain('sandbox');
    expect((await get(`/api/messages/${messageRowId}/attachments/999999`, agent.authorization)).statusCode).toBe(404);
  });

  it('keeps no second copy of inbound attachments, and refuses one the raw MIME no longer holds', async () => {
    const rows = await postern.runtime.db.kysely
      .selectFrom('attachments')
      .select(['raw_part', 'content'])
      .where('message_id', '=', messageRowId)
      .orderBy('id')
      .execute();
    expect(rows.map((row) => ({ rawPart: row.raw_part, stored: row.content.length }))).toEqual([
      { rawPart: 0, stored: 0 },
      { rawPart: 1, stored: 0 },
    ]);

    const copy = await ingest(
      support,
      Buffer.from(raw.toString('latin1').replace('<shot@example.org>', '<shot-copy@example.org>'), 'latin1'),
    );
    const [image] = (await get(`/api/interactions/${copy.interactionId}`, agent.authorization)).json().messages[0]
      .attachments;
    const otherPng = Buffer.from(png);
    otherPng[20] = (otherPng[20] ?? 0) ^ 0xff;
    const tampered = Buffer.from(
      raw.toString('latin1').replace(png.toString('base64'), otherPng.toString('base64')),
      'latin1',
    );
    await postern.runtime.db.kysely
      .updateTable('message_raw')
      .set({ raw: tampered })
      .where('message_id', '=', copy.messageRowId)
      .execute();
    const refused = await get(image.url, agent.authorization);
    expect(refused.statusCode).toBe(500);
    expect(refused.headers['content-type']).toContain('application/json');
    expect(refused.json().error).toMatchObject({
      code: 'STORE_ATTACHMENT_MISMATCH',
      remedy: expect.stringContaining('.eml'),
      details: { rawPart: 0 },
    });
  });

  it('is not found for an agent of other accounts, whatever the path', async () => {
    for (const url of [
      `/api/interactions/${interactionId}`,
      `/api/messages/${messageRowId}/raw`,
      `/api/messages/${messageRowId}/attachments/1`,
    ]) {
      const reply = await get(url, outsider.authorization);
      expect(reply.statusCode, url).toBe(404);
    }
    expect((await post(`/api/interactions/${interactionId}/close`, outsider.authorization)).statusCode).toBe(404);
  });

  it('is assigned, closed, reopened and read', async () => {
    const assigned = await post(`/api/interactions/${interactionId}/assign`, agent.authorization, {
      userId: agent.userId,
    });
    expect(assigned.json()).toMatchObject({ assignedUserId: agent.userId });
    const notAgent = await post(`/api/interactions/${interactionId}/assign`, agent.authorization, {
      userId: outsider.userId,
    });
    expect(notAgent.statusCode).toBe(400);
    expect(notAgent.json().error.details.fields[0].field).toBe('userId');
    expect(
      (await post(`/api/interactions/${interactionId}/assign`, agent.authorization, { userId: null })).json()
        .assignedUserId,
    ).toBeNull();
    expect((await post(`/api/interactions/${interactionId}/close`, agent.authorization)).json()).toMatchObject({
      status: 'closed',
      closedAt: expect.any(String),
    });
    expect((await post(`/api/interactions/${interactionId}/reopen`, agent.authorization)).json()).toMatchObject({
      status: 'open',
      closedAt: null,
    });
    expect((await post(`/api/interactions/${interactionId}/read`, agent.authorization)).json()).toMatchObject({
      unreadCount: 0,
    });
    expect((await get(`/api/interactions/${interactionId}`, agent.authorization)).json().messages[0].read).toBe(true);
    expect((await post(`/api/interactions/999999/reopen`, admin)).statusCode).toBe(404);
  });
});
