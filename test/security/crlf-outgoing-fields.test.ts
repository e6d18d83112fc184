/**
 * Issue 13, "what held": no field of an outgoing message can break a header line. Through the
 * real send and reply routes, a CR, an LF, a CRLF or a NUL inside the subject, a recipient's name
 * or address (to, cc, bcc), or an attachment's filename, content type or Content-ID is refused
 * with 400 VALIDATION_FAILED naming that field, and nothing is queued. The account name, written
 * as the From display name, is refused with a line break or control character when the account
 * is created or renamed.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailAccountRecord } from '../../src/store/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { buildAccount, buildMessage } from '../ingest/helpers.js';
import { ingestNew } from '../helpers/store-factories.js';

let postern: TestPostern;
let app: FastifyInstance;
let admin: string;
let account: EmailAccountRecord;
let interactionId: number;

const BREAKS = [
  ['CR', '\r'],
  ['LF', '\n'],
  ['CRLF', '\r\n'],
  ['NUL', '\u0000'],
] as const;

const TEXT = Buffer.from('hello').toString('base64');

/** A field to poison: where it goes in the body, and the field name the refusal must carry. */
interface Target {
  field: string;
  set: (body: Record<string, unknown>, poisoned: (clean: string) => string) => Record<string, unknown>;
}

const recipientTargets = (list: 'to' | 'cc' | 'bcc'): Target[] => [
  {
    field: `${list}[0]`,
    set: (body, p) => ({ ...body, [list]: [{ name: p('Ada Lovelace'), address: 'ada@example.org' }] }),
  },
  {
    field: `${list}[0]`,
    set: (body, p) => ({ ...body, [list]: [{ name: 'Ada', address: p('ada@example.org') }] }),
  },
  { field: `${list}[0]`, set: (body, p) => ({ ...body, [list]: [p('ada@example.org')] }) },
];

const attachmentTargets: Target[] = [
  {
    field: 'attachments[0].filename',
    set: (body, p) => ({ ...body, attachments: [{ filename: p('notes.txt'), contentBase64: TEXT }] }),
  },
  {
    field: 'attachments[0].contentType',
    set: (body, p) => ({
      ...body,
      attachments: [{ filename: 'notes.txt', contentType: p('text/plain'), contentBase64: TEXT }],
    }),
  },
  {
    field: 'attachments[0].contentId',
    set: (body, p) => ({
      ...body,
      attachments: [{ filename: 'logo.png', contentBase64: TEXT, contentId: p('logo@x'), inline: true }],
    }),
  },
];

const NEW_MESSAGE_TARGETS: Target[] = [
  { field: 'subject', set: (body, p) => ({ ...body, subject: p('Your order') }) },
  ...recipientTargets('to'),
  ...recipientTargets('cc'),
  ...recipientTargets('bcc'),
  ...attachmentTargets,
];

const REPLY_TARGETS: Target[] = [
  ...recipientTargets('to'),
  ...recipientTargets('cc'),
  ...recipientTargets('bcc'),
  ...attachmentTargets,
];

/** Puts the break in the middle of the clean value, followed by an injected header. */
const inject = (brk: string) => (clean: string) =>
  `${clean.slice(0, 3)}${brk}Bcc: victim@example.net${brk}${clean.slice(3)}`;

async function outbox(): Promise<unknown> {
  return (
    await app.inject({
      method: 'GET',
      url: `/api/email/accounts/${account.id}/sending`,
      headers: { authorization: admin },
    })
  ).json().outbox;
}

const post = (url: string, payload: object) =>
  app.inject({ method: 'POST', url, headers: { authorization: admin }, payload });

beforeAll(async () => {
  postern = await startTestPostern();
  app = postern.app;
  admin = (await postern.bearer('admin')).authorization;
  account = await buildAccount(postern.runtime.db);
  const stored = await ingestNew(postern.runtime.db, account, buildMessage({ subject: 'Order 42' }), 1);
  interactionId = stored.interactionId;
});
afterAll(async () => postern.close());

function cases(targets: Target[]): [string, string, Target, string][] {
  return targets.flatMap((target) =>
    BREAKS.map(([name, brk]) => [target.field, name, target, brk] as [string, string, Target, string]),
  );
}

describe('a new message', () => {
  const clean = { to: ['ada@example.org'], subject: 'Your order', text: 'Hello' };

  it('is accepted with clean fields (the bodies below differ only by the break)', async () => {
    for (const target of NEW_MESSAGE_TARGETS) {
      const accepted = await post(
        `/api/email/accounts/${account.id}/messages`,
        target.set(clean, (v) => v),
      );
      expect(accepted.statusCode, `${target.field}: ${accepted.body}`).toBe(202);
    }
  });

  it.each(cases(NEW_MESSAGE_TARGETS))(
    'refuses %s with %s, naming it, and queues nothing',
    async (field, _n, target, brk) => {
      const before = await outbox();
      const refused = await post(`/api/email/accounts/${account.id}/messages`, target.set(clean, inject(brk)));
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().error.code).toBe('VALIDATION_FAILED');
      expect(refused.json().error.details.fields.map((f: { field: string }) => f.field)).toEqual([field]);
      expect(await outbox()).toEqual(before);
    },
  );
});

describe('a reply', () => {
  const clean = { text: 'Hello' };

  it('is accepted with clean fields', async () => {
    for (const target of REPLY_TARGETS) {
      const accepted = await post(
        `/api/interactions/${interactionId}/reply`,
        target.set(clean, (v) => v),
      );
      expect(accepted.statusCode, `${target.field}: ${accepted.body}`).toBe(202);
    }
  });

  it.each(cases(REPLY_TARGETS))('refuses %s with %s, naming it, and queues nothing', async (field, _n, target, brk) => {
    const before = await outbox();
    const refused = await post(`/api/interactions/${interactionId}/reply`, target.set(clean, inject(brk)));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.details.fields.map((f: { field: string }) => f.field)).toEqual([field]);
    expect(await outbox()).toEqual(before);
  });
});

describe('the Idempotency-Key header', () => {
  it.each([
    ['a tab', 'key\twith-tab'],
    ['a space', 'key with space'],
    ['a DEL', 'key\u007f'],
    ['256 characters', 'k'.repeat(256)],
  ])('is refused with %s, naming it, and nothing is queued', async (_name, key) => {
    const before = await outbox();
    const refused = await app.inject({
      method: 'POST',
      url: `/api/email/accounts/${account.id}/messages`,
      headers: { authorization: admin, 'idempotency-key': key },
      payload: { to: ['ada@example.org'], subject: 'Keyed', text: 'Hello' },
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().error.details.fields.map((f: { field: string }) => f.field)).toEqual(['idempotency-key']);
    expect(await outbox()).toEqual(before);
  });
});

describe('the account name, written as the From display name', () => {
  let keys = 0;
  const base = {
    emailAddress: 'crlf@example.com',
    service: 'imap',
    modernAuth: false,
    password: 'an imap password',
    imapHost: '203.0.113.10',
  };

  it.each([...BREAKS, ['ESC', '\u001b'] as const, ['DEL', '\u007f'] as const])(
    'is refused with %s at creation and on rename',
    async (_name, brk) => {
      keys += 1;
      const created = await post('/api/email/accounts', {
        ...base,
        key: `CR${keys}`,
        name: `Support${brk}Bcc: victim@example.net`,
      });
      expect(created.statusCode, created.body).toBe(400);
      expect(created.json().error.details.fields).toEqual([
        { field: 'name', problem: expect.stringContaining('one line') },
      ]);
      const renamed = await app.inject({
        method: 'PATCH',
        url: `/api/email/accounts/${account.id}`,
        headers: { authorization: admin },
        payload: { name: `Support${brk}Bcc: victim@example.net` },
      });
      expect(renamed.statusCode, renamed.body).toBe(400);
      expect(renamed.json().error.details.fields[0].field).toBe('name');
    },
  );

  it('is accepted on one line, with the spaces at its ends trimmed', async () => {
    const created = await post('/api/email/accounts', { ...base, key: 'OK1', name: '  Support — Zoë  ' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().name).toBe('Support — Zoë');
  });
});
