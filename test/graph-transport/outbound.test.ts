/**
 * Sending on an Email Account of transport `graph`, end to end against the emulator over loopback
 * TLS, on both engines: the dispatcher claims the account, the delivery service sends the stored
 * MIME through Graph's `sendMail` (the emulator logs it `via: "graph"`), the shared mailbox
 * developers@ sends as itself with andrea@'s token, threading survives and the customer's answer
 * threads back; Graph's refusals end as catalogue errors with their remedies, 429 waits at least
 * Retry-After, a 503 is tried again, and nothing is sent twice.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { getMessageRaw, getOutboxByMessage, listEvents, storeRefreshedTokens } from '../../src/store/index.js';
import { TOKEN_REUSE_MS } from '../../src/services/accounts/reused-token.js';
import { forEachEngine } from '../helpers/store.js';
import {
  CONTOSO,
  SHARED,
  createGraphAccount,
  dispatchUntilIdle,
  newMessage,
  receive,
  sent,
  sink,
  startGraphOutbound,
  view,
  type GraphOutbound,
} from './outbound-harness.js';

const CUSTOMER = 'ada.lovelace@fabrikam.example';
const MB = 1024 * 1024;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Bytes that do not compress into anything clever: each position differs. */
function fileOf(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return bytes;
}

forEachEngine((_engine, openFresh) => {
  let h: GraphOutbound;
  let shared: number;
  let personal: number;

  beforeAll(async () => {
    const db = await openFresh();
    h = await startGraphOutbound(db.url, { recipientsPerDay: 60 });
    shared = await createGraphAccount(h, {
      key: 'DEV',
      name: 'Developers',
      emailAddress: SHARED,
      modernAuthEmail: CONTOSO.andrea.upn,
    });
    personal = await createGraphAccount(h, { key: 'AND', name: 'Andrea', emailAddress: CONTOSO.andrea.upn });
  }, 60_000);
  afterAll(async () => h?.close());

  /** How many times the emulator accepted a message with this Message-ID. */
  async function timesSent(messageId: string): Promise<number> {
    return (await sent(h)).filter((r) => r.messageId === messageId).length;
  }

  async function messageIdOf(id: number): Promise<string> {
    return (await h.api('GET', `/api/messages/${id}`)).json<{ messageId: string }>().messageId;
  }

  describe('a reply on the shared mailbox developers@, andrea@ signed in', () => {
    it('leaves through Graph as developers@, threaded, and the customer’s answer threads back', async () => {
      const first = await receive(h, shared, {
        from: `Ada Lovelace <${CUSTOMER}>`,
        to: SHARED,
        subject: 'Order 42 is late',
        text: 'Where is it?',
        messageId: '<order42@fabrikam.example>',
      });
      const queued = await h.api('POST', `/api/interactions/${first.interactionId}/reply`, {
        text: 'It left the warehouse today.',
      });
      expect(queued.statusCode, queued.body).toBe(202);
      const answer = queued.json<{ id: number; messageId: string }>();

      await dispatchUntilIdle(h);
      const records = (await sent(h)).filter((r) => r.messageId === answer.messageId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ via: 'graph', mailbox: SHARED, envelopeFrom: SHARED });
      // What Graph submitted is what Postern composed and stored, byte for byte.
      const stored = await getMessageRaw(h.db, answer.id);
      expect(records[0]?.raw).toBe(stored.toString('utf8'));

      const [out] = await sink(h, CUSTOMER);
      const parsed = await parseMessage(Buffer.from(out?.raw ?? '', 'utf8'));
      expect(parsed.from).toEqual([{ name: 'Developers', address: SHARED }]);
      expect(parsed.messageId).toBe(answer.messageId);
      expect(parsed.inReplyTo).toEqual(['<order42@fabrikam.example>']);
      expect(parsed.references).toEqual(['<order42@fabrikam.example>']);
      expect(parsed.headers.get('thread-index')?.[0]).toMatch(/^[A-Za-z0-9+/]{28,}=*$/);

      expect(await view(h, answer.id)).toMatchObject({
        state: 'sent',
        delivery: { attempts: 1, error: null, serverResponse: '202 Accepted by Microsoft Graph (sendMail)' },
      });
      const events = await listEvents(h.db, { scope: 'message', scopeId: answer.id, types: ['message.sent'] });
      expect(events.items[0]?.message).toContain('202 Accepted by Microsoft Graph');

      // Graph filed the copy in the shared mailbox's Sent Items.
      const sentItems = z
        .object({ messages: z.array(z.object({ messageId: z.string().nullable() })) })
        .parse(await h.control('GET', `/exchange/mailboxes/${SHARED}/folders/Sent Items/messages`));
      expect(sentItems.messages.filter((m) => m.messageId === answer.messageId)).toHaveLength(1);

      const next = await receive(h, shared, {
        from: CUSTOMER,
        to: SHARED,
        subject: `RE: ${parsed.subject}`,
        text: 'Thanks!',
        inReplyTo: answer.messageId,
        references: `<order42@fabrikam.example> ${answer.messageId}`,
      });
      expect(next).toMatchObject({ interactionId: first.interactionId, threadedBy: 'in-reply-to' });
    });

    it('sends Bcc recipients, which Graph reads from the MIME, without showing them to the others', async () => {
      const id = await newMessage(h, shared, { to: 'visible@fabrikam.example', bcc: ['hidden@fabrikam.example'] });
      await dispatchUntilIdle(h);
      expect((await view(h, id)).state).toBe('sent');
      const [hidden] = await sink(h, 'hidden@fabrikam.example');
      const [visible] = await sink(h, 'visible@fabrikam.example');
      expect(hidden).toBeDefined();
      expect(visible?.raw).toBeDefined();
      expect(visible?.raw).not.toMatch(/^Bcc:/im);
      expect(visible?.raw).not.toContain('hidden@fabrikam.example');
    });

    it('fails with GRAPH_SEND_AS_DENIED and its remedy on the account’s timeline when andrea@ loses Send As', async () => {
      await h.control('DELETE', `/mailboxes/${SHARED}/delegates/${CONTOSO.andrea.upn}?rights=SendAs`);
      try {
        const id = await newMessage(h, shared, { to: 'sendas@fabrikam.example' });
        await dispatchUntilIdle(h);
        const failed = await view(h, id);
        expect(failed).toMatchObject({
          state: 'failed',
          delivery: { attempts: 1, error: { code: 'GRAPH_SEND_AS_DENIED' } },
        });
        expect(failed.delivery.error?.message).toContain('ErrorSendAsDenied');
        expect(failed.delivery.error?.remedy).toContain('Add-RecipientPermission');
        const timeline = await listEvents(h.db, { scope: 'account', scopeId: shared, types: ['account.send_failed'] });
        expect(timeline.items[0]?.data).toMatchObject({
          code: 'GRAPH_SEND_AS_DENIED',
          remedy: expect.stringContaining('Send As'),
          response: expect.stringContaining('403 ErrorSendAsDenied'),
        });
        expect(await sink(h, 'sendas@fabrikam.example')).toEqual([]);
      } finally {
        await h.control('POST', `/mailboxes/${SHARED}/delegates`, { user: CONTOSO.andrea.upn, rights: ['SendAs'] });
      }
    });
  });

  describe('a message too large for one Graph request (4 MB)', () => {
    it('leaves through a draft, its large attachments uploaded in sessions, threading kept', async () => {
      const first = await receive(h, shared, {
        from: CUSTOMER,
        to: SHARED,
        subject: 'The plans, please',
        text: 'Can you send the plans?',
        messageId: '<plans@fabrikam.example>',
      });
      const files = [
        { filename: 'plans.pdf', content: fileOf(3.5 * MB, 1) },
        { filename: 'photo.jpg', content: fileOf(2.5 * MB, 2) },
        { filename: 'notes.txt', content: fileOf(0.5 * MB, 3) },
      ];
      const queued = await h.api('POST', `/api/interactions/${first.interactionId}/reply`, {
        text: 'Here they are.',
        attachments: files.map((f) => ({ filename: f.filename, contentBase64: f.content.toString('base64') })),
      });
      expect(queued.statusCode, queued.body).toBe(202);
      const answer = queued.json<{ id: number; messageId: string }>();
      const before = h.emulator.handle.requestLog.list({ endpoint: 'graph' }).length;

      await dispatchUntilIdle(h);
      expect(await view(h, answer.id)).toMatchObject({
        state: 'sent',
        delivery: { attempts: 1, error: null, serverResponse: expect.stringContaining('draft with attachments') },
      });
      const records = (await sent(h)).filter((r) => r.messageId === answer.messageId);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ via: 'graph', mailbox: SHARED, envelopeFrom: SHARED });
      // The draft from the MIME without the two largest files, one upload session (3 MB and more),
      // one attachment posted whole (under 3 MB), then send.
      const calls = h.emulator.handle.requestLog
        .list({ endpoint: 'graph' })
        .slice(before)
        .map(
          (r) =>
            `${r.method} ${r.path.replace(/messages\/[^/]+/, 'messages/{id}').replace(/users\/[^/]+/, 'users/{u}')}`,
        );
      expect(calls).toEqual([
        'POST /v1.0/users/{u}/messages',
        'POST /v1.0/users/{u}/messages/{id}/attachments/createUploadSession',
        'POST /v1.0/users/{u}/messages/{id}/attachments',
        'POST /v1.0/users/{u}/messages/{id}/send',
      ]);

      const [out] = await sink(h, CUSTOMER).then((all) => all.filter((m) => m.raw?.includes('Here they are.')));
      const parsed = await parseMessage(Buffer.from(out?.raw ?? '', 'utf8'));
      expect(parsed.messageId).toBe(answer.messageId);
      expect(parsed.inReplyTo).toEqual(['<plans@fabrikam.example>']);
      expect(parsed.references).toEqual(['<plans@fabrikam.example>']);
      expect(parsed.from).toEqual([{ name: 'Developers', address: SHARED }]);
      const arrived = new Map(parsed.attachments.map((a) => [a.filename, sha256(a.content)]));
      expect(arrived).toEqual(new Map(files.map((f) => [f.filename, sha256(f.content)])));
      const drafts = z
        .object({ messages: z.array(z.object({ messageId: z.string().nullable() })) })
        .parse(await h.control('GET', `/exchange/mailboxes/${SHARED}/folders/Drafts/messages`));
      expect(drafts.messages).toEqual([]);
    }, 60_000);

    it('fails with GRAPH_MESSAGE_TOO_LARGE when even the draft is over the limit (no attachment to take out)', async () => {
      const text = `${'x'.repeat(70)}\n`.repeat(Math.ceil((4.5 * MB) / 71));
      const id = await newMessage(h, personal, { to: 'big@fabrikam.example', text });
      await dispatchUntilIdle(h);
      const failed = await view(h, id);
      expect(failed).toMatchObject({
        state: 'failed',
        delivery: { attempts: 1, error: { code: 'GRAPH_MESSAGE_TOO_LARGE' } },
      });
      expect(failed.delivery.error?.message).toContain('413');
      expect(await sink(h, 'big@fabrikam.example')).toEqual([]);
    }, 60_000);
  });

  describe('Graph’s limits and faults', () => {
    it('waits out a short 429 storm as Retry-After asks and sends once', async () => {
      await h.control('POST', '/graph/faults', { kind: 'throttle', count: 3, retryAfterSeconds: 1 });
      const id = await newMessage(h, personal, { to: 'storm@fabrikam.example' });
      await dispatchUntilIdle(h);
      expect(await view(h, id)).toMatchObject({ state: 'sent', delivery: { attempts: 1 } });
      expect(await timesSent(await messageIdOf(id))).toBe(1);
      expect(await h.control('GET', '/graph/faults')).toEqual({ faults: [] });
    }, 30_000);

    it('schedules the retry no earlier than a long Retry-After, then sends once', async () => {
      await h.control('POST', '/graph/faults', { kind: 'throttle', count: 1, retryAfterSeconds: 600 });
      const id = await newMessage(h, personal, { to: 'later@fabrikam.example' });
      const before = h.emulator.handle.clock.now().getTime();
      await h.dispatcher.runOnce();
      const row = await getOutboxByMessage(h.db, id);
      expect(row).toMatchObject({ state: 'queued', lastError: { code: 'GRAPH_THROTTLED' } });
      expect(new Date(row?.nextAttemptAt ?? 0).getTime()).toBeGreaterThanOrEqual(before + 600_000);
      const retry = await listEvents(h.db, { scope: 'message', scopeId: id, types: ['message.retry_scheduled'] });
      expect(retry.items[0]?.data).toMatchObject({ code: 'GRAPH_THROTTLED' });
      // Nothing is tried before the time Graph asked for.
      h.advance(300_000);
      await h.dispatcher.runOnce();
      expect((await view(h, id)).delivery.attempts).toBe(1);
      h.advance(301_000);
      await dispatchUntilIdle(h);
      expect(await view(h, id)).toMatchObject({ state: 'sent', delivery: { attempts: 2, error: null } });
      expect(await timesSent(await messageIdOf(id))).toBe(1);
    });

    it('tries again after a 503 and sends once', async () => {
      await h.control('POST', '/graph/faults', { kind: 'unavailable', count: 1 });
      const id = await newMessage(h, personal, { to: 'unavailable@fabrikam.example' });
      await h.dispatcher.runOnce();
      expect(await getOutboxByMessage(h.db, id)).toMatchObject({
        state: 'queued',
        lastError: { code: 'GRAPH_UNAVAILABLE' },
      });
      await dispatchUntilIdle(h, { stepMs: 10_000 });
      expect(await view(h, id)).toMatchObject({ state: 'sent', delivery: { attempts: 2, error: null } });
      expect(await timesSent(await messageIdOf(id))).toBe(1);
    });

    it('refreshes a cached token Graph refuses (401) once, and sends once', async () => {
      const provider = await h.api('GET', `/api/cloudProviders/${h.providerId}`);
      const grantId = provider.json<{ grants: Array<{ id: number }> }>().grants[0]?.id ?? 0;
      // A token revoked before its expiry: cached as valid, refused by Graph.
      await storeRefreshedTokens(h.db, h.postern.runtime.box, grantId, {
        refreshToken: null,
        resource: 'https://graph.microsoft.com',
        accessToken: 'revoked-before-its-expiry',
        scopes: ['https://graph.microsoft.com/Mail.Send'],
        expiresAt: new Date(h.emulator.handle.clock.now().getTime() + 3_600_000),
      });
      // The sender keeps its route 10 s and reuses the token it read 30 s (reused-token.ts): past
      // both, the next send reads the revoked token from the store.
      h.advance(TOKEN_REUSE_MS);
      const refreshes = (): number =>
        h.emulator.handle.requestLog.list({ endpoint: 'token', grantType: 'refresh_token' }).length;
      const before = refreshes();
      const id = await newMessage(h, personal, { to: 'refreshed@fabrikam.example' });
      await dispatchUntilIdle(h);
      expect(await view(h, id)).toMatchObject({ state: 'sent', delivery: { attempts: 1, error: null } });
      expect(refreshes() - before).toBe(1);
      expect(await timesSent(await messageIdOf(id))).toBe(1);
    });

    it('fails a message over the mailbox’s daily recipient quota with GRAPH_QUOTA_EXCEEDED', async () => {
      const to = Array.from({ length: 61 }, (_, i) => `many${i}@fabrikam.example`);
      const response = await h.api('POST', `/api/email/accounts/${personal}/messages`, {
        to,
        subject: 'To many',
        text: 'Hello all',
      });
      expect(response.statusCode, response.body).toBe(202);
      const id = response.json<{ id: number }>().id;
      await dispatchUntilIdle(h);
      const failed = await view(h, id);
      expect(failed).toMatchObject({
        state: 'failed',
        delivery: { attempts: 1, error: { code: 'GRAPH_QUOTA_EXCEEDED' } },
      });
      expect(failed.delivery.error?.remedy).toContain('10,000 recipients');
    });
  });
});
