/**
 * Issue 19, point 5 through the API, on both engines, with the worker role's sweep running: the
 * account's "Keep originals for" (rawRetentionDays) is held to whole days from 1 to 3650 with a
 * clear problem, null clears it; and once the clock has moved past it, an old message's raw MIME
 * answers 410 MESSAGE_ORIGINAL_EXPIRED (its remedy naming the setting) and its attached file too,
 * while the conversation keeps the message's text and its inline image, a younger message keeps
 * everything, and the log says how much went without a word of what.
 */
import crypto from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEmailAccount } from '../../src/store/index.js';
import { buildMessage } from '../ingest/helpers.js';
import { buildMessageWithParts } from '../helpers/mime-with-parts.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';
import { createPostgresDatabase, type Target } from '../helpers/store.js';
import { until } from '../helpers/until.js';

const DAY = 86_400_000;
const START = new Date('2026-02-01T10:00:00.000Z');

describe.each(['sqlite', 'postgres'] as const)('%s', (engine) => {
  let now = START;
  let postern: TestPostern;
  let target: Target | undefined;
  let admin: string;
  let serial = 0;

  beforeAll(async () => {
    target = engine === 'postgres' ? await createPostgresDatabase() : undefined;
    postern = await startTestPostern(target === undefined ? {} : { POSTERN_DATABASE_URL: target.url }, {
      clock: () => now,
    });
    admin = (await postern.bearer('admin')).authorization;
  }, 60_000);
  afterAll(async () => {
    await postern?.close();
    await target?.remove();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<LightMyRequestResponse> =>
    postern.app.inject({
      method,
      url,
      headers: { authorization: admin },
      ...(payload === undefined ? {} : { payload }),
    });

  const createAccount = async (extra: object): Promise<LightMyRequestResponse> => {
    serial += 1;
    return call('POST', '/api/email/accounts', {
      name: `Support ${serial}`,
      key: `R${serial}`,
      emailAddress: `support${serial}@contoso.com`,
      service: 'imap',
      modernAuth: false,
      password: 'a mailbox password',
      imapHost: '127.0.0.1',
      imapPort: 993,
      ...extra,
    });
  };

  const problemOf = (reply: LightMyRequestResponse): unknown => {
    expect(reply.statusCode, reply.body).toBe(400);
    const { error } = reply.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    return error.details.fields;
  };

  it('holds "Keep originals for" to whole days from 1 to 3650, and null keeps originals for ever', async () => {
    for (const [value, problem] of [
      [0, 'must be at least 1 day (null keeps originals for ever)'],
      [3651, 'must be at most 3650 days (null keeps originals for ever)'],
      [1.5, 'must be a whole number of days'],
      ['30', 'must be a whole number of days, or null to keep originals for ever'],
    ] as const) {
      expect(problemOf(await createAccount({ rawRetentionDays: value })), String(value)).toEqual([
        { field: 'rawRetentionDays', problem },
      ]);
    }
    const plain = await createAccount({});
    expect(plain.statusCode, plain.body).toBe(201);
    expect(plain.json().rawRetentionDays).toBeNull();

    const created = await createAccount({ rawRetentionDays: 30 });
    expect(created.statusCode, created.body).toBe(201);
    const id: number = created.json().id;
    expect((await call('GET', `/api/email/accounts/${id}`)).json().rawRetentionDays).toBe(30);
    expect(problemOf(await call('PATCH', `/api/email/accounts/${id}`, { rawRetentionDays: 0 }))).toEqual([
      { field: 'rawRetentionDays', problem: 'must be at least 1 day (null keeps originals for ever)' },
    ]);
    const raised = await call('PATCH', `/api/email/accounts/${id}`, { rawRetentionDays: 3650 });
    expect(raised.json().rawRetentionDays).toBe(3650);
    const cleared = await call('PATCH', `/api/email/accounts/${id}`, { rawRetentionDays: null });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json().rawRetentionDays).toBeNull();
    expect((await call('GET', `/api/email/accounts/${id}`)).json().rawRetentionDays).toBeNull();
  });

  it('removes an old original with the worker running: its raw MIME and file answer 410, its text and inline image stay', async () => {
    now = START;
    const created = await createAccount({ rawRetentionDays: 30 });
    expect(created.statusCode, created.body).toBe(201);
    const account = await requireEmailAccount(postern.runtime.db, created.json().id);
    const image = crypto.randomBytes(2048);
    const pdf = crypto.randomBytes(30_000);
    const text = 'The invoice for order 4711 is attached.';
    const old = await ingestNew(
      postern.runtime.db,
      account,
      buildMessageWithParts({ subject: 'Invoice 4711', text, image, pdf }),
      1,
    );
    now = new Date(START.getTime() + 29 * DAY);
    const young = await ingestNew(postern.runtime.db, account, buildMessage({ body: 'Still there?' }), 2);

    await postern.runtime.startRoles(['rawRetention'], { rawRetention: { intervalMs: 100, firstDelayMs: 0 } });
    // 29 days on, nothing is due yet: the sweep runs every 100 ms and leaves the raw MIME alone.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await call('GET', `/api/messages/${old.messageRowId}/raw`)).statusCode).toBe(200);

    now = new Date(START.getTime() + 31 * DAY);
    const expired = await until('the sweep removed the old original', async () => {
      const reply = await call('GET', `/api/messages/${old.messageRowId}/raw`);
      return reply.statusCode === 200 ? undefined : reply;
    });
    expect(expired.statusCode).toBe(410);
    expect(expired.json().error).toMatchObject({
      code: 'MESSAGE_ORIGINAL_EXPIRED',
      remedy: expect.stringContaining('"Keep originals for" setting (rawRetentionDays;'),
      details: { resource: 'message', messageId: old.messageRowId },
    });

    const conversation = await call('GET', `/api/interactions/${old.interactionId}`);
    expect(conversation.statusCode, conversation.body).toBe(200);
    const message = conversation.json().messages.find((item: { id: number }) => item.id === old.messageRowId) as {
      text: string;
      originalRemovedAt: string | null;
      attachments: Array<{ filename: string; removed: boolean; url: string }>;
    };
    expect(message.text).toContain(text);
    expect(message.originalRemovedAt).toBe(now.toISOString());
    const logo = message.attachments.find((item) => item.filename === 'logo.png');
    const invoice = message.attachments.find((item) => item.filename === 'invoice.pdf');
    expect([logo?.removed, invoice?.removed]).toEqual([false, true]);
    const logoReply = await call('GET', logo?.url ?? '');
    expect(logoReply.statusCode).toBe(200);
    expect(logoReply.rawPayload.equals(image)).toBe(true);
    const invoiceReply = await call('GET', invoice?.url ?? '');
    expect(invoiceReply.statusCode).toBe(410);
    expect(invoiceReply.json().error).toMatchObject({
      code: 'MESSAGE_ORIGINAL_EXPIRED',
      details: { resource: 'attachment' },
    });

    // The younger message (2 days old now) keeps its original.
    const youngRaw = await call('GET', `/api/messages/${young.messageRowId}/raw`);
    expect(youngRaw.statusCode).toBe(200);
    expect(youngRaw.body).toContain('Still there?');

    const lines = postern
      .logText()
      .split('\n')
      .filter((line) => line.includes('"component":"raw-retention"') && line.includes('originals removed'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ messages: 1, attachments: 1 });
    expect(JSON.parse(lines[0] ?? '{}').bytes).toBeGreaterThan(pdf.length);
    expect(lines[0]).not.toContain('4711');
    expect(lines[0]).not.toContain('invoice');
  });
});
