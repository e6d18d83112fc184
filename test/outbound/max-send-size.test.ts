/**
 * Issue 15, point 9: a mailbox's own MaxSendSize below the SIZE Exchange advertises in EHLO. The
 * message passes nodemailer's check against the advertised SIZE, is accepted through DATA, and is
 * refused after the final dot (`552 5.3.4 Message size exceeds fixed maximum message size`, or the
 * store driver's MapiExceptionMaxSubmissionExceeded). Postern fails it at once — not retried — as
 * SMTP_MESSAGE_TOO_LARGE with the remedy (smaller attachments, or Set-Mailbox -MaxSendSize), shown
 * on the message in the API and on its timeline. Through real SMTP:
 * nodemailer, STARTTLS and XOAUTH2 against the emulator over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/store/index.js';
import { CONTOSO, createAccount, dispatchUntilIdle, sent, startOutbound, type OutboundHarness } from './helpers.js';

const ANDREA = CONTOSO.andrea.upn;
/** Well below the SIZE the emulator advertises (157,286,400, Exchange Online's). */
const LIMIT = 64 * 1024;

let h: OutboundHarness;
let account: number;

interface MessageView {
  state: string;
  delivery: {
    attempts: number;
    error: { code: string; message: string; remedy: string | null } | null;
  };
}

/** Bytes that do not compress into anything clever. */
function fileOf(size: number): string {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes.toString('base64');
}

async function newMessage(to: string, attachmentBytes: number): Promise<number> {
  const response = await h.api('POST', `/api/email/accounts/${account}/messages`, {
    to: [to],
    subject: 'The quarterly report',
    text: 'Attached.',
    ...(attachmentBytes === 0
      ? {}
      : {
          attachments: [
            { filename: 'report.pdf', contentType: 'application/pdf', contentBase64: fileOf(attachmentBytes) },
          ],
        }),
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json<{ id: number }>().id;
}

const view = async (id: number): Promise<MessageView> =>
  (await h.api('GET', `/api/messages/${id}`)).json<MessageView>();
const setLimit = (bytes: number | null) =>
  h.control('PUT', '/exchange/settings/max-send-size', { mailbox: ANDREA, bytes });

beforeAll(async () => {
  h = await startOutbound();
  account = await createAccount(h, { key: 'AND', name: 'Andrea', emailAddress: ANDREA });
});
afterAll(async () => h?.close());

describe("a mailbox's MaxSendSize below the advertised SIZE", () => {
  it('fails the message after DATA with SMTP_MESSAGE_TOO_LARGE and its remedy, once, and sends it after the limit is raised and the message retried', async () => {
    await setLimit(LIMIT);
    try {
      const small = await newMessage('small@fabrikam.example', 0);
      const large = await newMessage('large@fabrikam.example', 100 * 1024);
      await dispatchUntilIdle(h);
      expect((await view(small)).state).toBe('sent');

      const failed = await view(large);
      expect(failed).toMatchObject({
        state: 'failed',
        delivery: { attempts: 1, error: { code: 'SMTP_MESSAGE_TOO_LARGE' } },
      });
      expect(failed.delivery.error?.message).toContain('(552 5.3.4 Message size exceeds fixed maximum message size)');
      expect(failed.delivery.error?.message).toContain('too big for this mailbox');
      expect(failed.delivery.error?.remedy).toContain(`Set-Mailbox ${ANDREA} -MaxSendSize`);
      expect(failed.delivery.error?.remedy).toContain('smaller attachments');
      expect((await sent(h)).some((r) => r.recipients.includes('large@fabrikam.example'))).toBe(false);

      // The message's timeline says why (a permanent failure of one message, not of the account).
      const messageTimeline = await listEvents(h.pair.postern.runtime.db, {
        scope: 'message',
        scopeId: large,
        types: ['message.failed'],
      });
      expect(messageTimeline.items).toHaveLength(1);
      expect(messageTimeline.items[0]?.data).toMatchObject({
        code: 'SMTP_MESSAGE_TOO_LARGE',
        remedy: expect.stringContaining('-MaxSendSize'),
        response: expect.stringMatching(/^552 5\.3\.4 Message size exceeds fixed maximum message size/),
      });

      await setLimit(null);
      const retried = await h.api('POST', `/api/messages/${large}/retry`);
      expect(retried.json()).toMatchObject({ state: 'queued' });
      await dispatchUntilIdle(h);
      expect(await view(large)).toMatchObject({ state: 'sent', delivery: { attempts: 2, error: null } });
    } finally {
      await setLimit(null);
    }
  });

  it("recognises the store driver's wording (MapiExceptionMaxSubmissionExceeded) as the same diagnosis", async () => {
    await setLimit(LIMIT);
    await h.control('PUT', '/exchange/settings/max-send-size', { form: '5.2.0' });
    try {
      const id = await newMessage('storedrv@fabrikam.example', 100 * 1024);
      await dispatchUntilIdle(h);
      const failed = await view(id);
      expect(failed).toMatchObject({
        state: 'failed',
        delivery: { attempts: 1, error: { code: 'SMTP_MESSAGE_TOO_LARGE' } },
      });
      const timeline = await listEvents(h.pair.postern.runtime.db, {
        scope: 'message',
        scopeId: id,
        types: ['message.failed'],
      });
      expect(timeline.items[0]?.data).toMatchObject({
        response: expect.stringMatching(/^554 5\.2\.0 MapiExceptionMaxSubmissionExceeded/),
      });
      expect(failed.delivery.error?.remedy).toContain('-MaxSendSize');
    } finally {
      await h.control('PUT', '/exchange/settings/max-send-size', { form: '5.3.4' });
      await setLimit(null);
    }
  });
});
