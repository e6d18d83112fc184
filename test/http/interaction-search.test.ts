/**
 * Full-text search through the conversation list (`q`) and app.inject(): a body word, a Cc
 * address, an attachment name, the reference, a phrase, from: and has:attachment each find a
 * closed conversation whatever tab the agent searches from (no status given); a status narrows it;
 * pages by cursor; an agent never finds another account's conversation; a malformed query is a
 * 400 that says what is wrong.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setAccountAgents, type EmailAccountRecord } from '../../src/store/index.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let agent: string;
let salesAgent: string;
let support: EmailAccountRecord;
let sales: EmailAccountRecord;
let turbine: number;
let reference: string;
let uid = 0;

function withAttachment(options: { from: string; cc: string; subject: string; body: string; file: string }): Buffer {
  uid += 1;
  const lines = [
    `From: ${options.from}`,
    'To: Support <support@contoso.com>',
    `Cc: ${options.cc}`,
    `Subject: ${options.subject}`,
    'Date: Wed, 15 Jan 2025 09:00:00 +0000',
    `Message-ID: <search-${uid}@customer.example>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body,
    '--b1',
    `Content-Type: application/pdf; name="${options.file}"`,
    `Content-Disposition: attachment; filename="${options.file}"`,
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('%PDF-1.4 test').toString('base64'),
    '--b1--',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

async function ingest(account: EmailAccountRecord, raw: Buffer): Promise<number> {
  uid += 1;
  return (await ingestNew(postern.runtime.db, account, raw, uid)).interactionId;
}

const get = (url: string, authorization: string) => app.inject({ method: 'GET', url, headers: { authorization } });

async function search(account: EmailAccountRecord, q: string, authorization = agent, extra = '') {
  return get(`/api/email/accounts/${account.id}/interactions?q=${encodeURIComponent(q)}${extra}`, authorization);
}

async function foundIds(account: EmailAccountRecord, q: string, authorization = agent, extra = ''): Promise<number[]> {
  const reply = await search(account, q, authorization, extra);
  expect(reply.statusCode).toBe(200);
  return reply.json().items.map((item: { id: number }) => item.id);
}

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
  const supportAgent = await postern.bearer('agent');
  const other = await postern.bearer('agent');
  agent = supportAgent.authorization;
  salesAgent = other.authorization;
  support = await buildAccount(postern.runtime.db);
  sales = await buildAccount(postern.runtime.db);
  await setAccountAgents(postern.runtime.db, support.id, [supportAgent.userId]);
  await setAccountAgents(postern.runtime.db, sales.id, [other.userId]);

  turbine = await ingest(
    support,
    withAttachment({
      from: 'Bea Kim <bea.kim@customer.example>',
      cc: 'Grace Hopper <grace.hopper@navy.example>',
      subject: 'Maintenance visit',
      body: 'The turbine vibrates above nine hundred revolutions.',
      file: 'vibration-report.pdf',
    }),
  );
  for (let i = 0; i < 3; i += 1)
    await ingest(
      support,
      buildMessage({
        from: `Customer ${i} <c${i}@shop.example>`,
        subject: `Spare part ${i}`,
        body: 'Please send a replacement gasket.',
        date: `Wed, 15 Jan 2025 10:0${i}:00 +0000`,
      }),
    );
  await ingest(sales, buildMessage({ subject: 'Fruit order', body: 'Two crates of kumquat, please.' }));

  const closed = await app.inject({
    method: 'POST',
    url: `/api/interactions/${turbine}/close`,
    headers: { authorization: agent },
  });
  expect(closed.json()).toMatchObject({ status: 'closed' });
  reference = closed.json().subjectToken;
  expect(reference).toMatch(/^#P\d+-[0-9A-Z]{4}$/);
});
afterAll(async () => {
  await postern.close();
});

it('finds a closed conversation by a body word, a Cc address, an attachment name, the reference, a phrase, from: and has:attachment', async () => {
  for (const q of [
    'turbine',
    'grace.hopper@navy.example',
    'vibration-report.pdf',
    reference.slice(1),
    `[${reference}]`,
    '"turbine vibrates"',
    'from:bea.kim@customer.example',
    'has:attachment',
    'to:hopper revolutions',
  ]) {
    expect({ q, ids: await foundIds(support, q) }).toEqual({ q, ids: [turbine] });
  }
  const [item] = (await search(support, 'turbine')).json().items;
  expect(item).toMatchObject({ status: 'closed', subjectToken: reference });
});

it('narrows to a status when one is given', async () => {
  expect(await foundIds(support, 'turbine', agent, '&status=open')).toEqual([]);
  expect(await foundIds(support, 'turbine', agent, '&status=closed')).toEqual([turbine]);
  expect(await foundIds(support, '"vibrates turbine"')).toEqual([]);
  expect(await foundIds(support, 'from:hopper')).toEqual([]);
});

it('pages the results by cursor', async () => {
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const reply = await search(support, 'gasket', agent, `&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(reply.statusCode).toBe(200);
    seen.push(...reply.json().items.map((item: { id: number }) => item.id));
    cursor = reply.json().nextCursor;
  } while (cursor !== null);
  expect(seen).toHaveLength(3);
  expect(new Set(seen).size).toBe(3);
});

it("never shows an agent another account's conversation", async () => {
  expect(await foundIds(support, 'kumquat')).toEqual([]);
  expect((await search(sales, 'kumquat')).statusCode).toBe(404);
  expect(await foundIds(sales, 'kumquat', salesAgent)).toHaveLength(1);
  expect(await foundIds(sales, 'turbine', salesAgent)).toEqual([]);
  expect(await foundIds(sales, `[${reference}]`, salesAgent)).toEqual([]);
  expect(await foundIds(sales, 'kumquat', admin)).toHaveLength(1);
});

it('refuses a malformed search with a 400 that says what to change', async () => {
  for (const [q, words] of [
    ['"turbine vibrates', 'A quote is not closed'],
    ['has:pizza', '"has:pizza" is not a filter: use has:attachment.'],
    ['from: bea', '"from:" needs a value'],
    ['!!! ???', 'no letters or digits'],
    ['x'.repeat(501), 'at most 500 are allowed'],
  ] as const) {
    const reply = await search(support, q);
    expect(reply.statusCode).toBe(400);
    expect(reply.json().error.code).toBe('VALIDATION_FAILED');
    expect(reply.json().error.message).toContain(words);
    expect(reply.json().error.details.fields[0]).toMatchObject({ field: 'q' });
  }
});
