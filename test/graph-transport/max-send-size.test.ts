/**
 * Issue 15, point 9, on the Graph transport: the mailbox's MaxSendSize (`Set-Mailbox
 * -MaxSendSize`, set through the emulator's control API and shared with SMTP) refuses a sendMail
 * over it with `400 ErrorMessageSizeExceeded`. Postern fails the message at once, not retried, as
 * GRAPH_MESSAGE_TOO_LARGE with the remedy naming the cmdlet, on the message and its timeline; the
 * limit raised and the message retried, it is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEvents } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import {
  CONTOSO,
  createGraphAccount,
  dispatchUntilIdle,
  newMessage,
  sent,
  startGraphOutbound,
  view,
  type GraphOutbound,
} from './outbound-harness.js';

const ANDREA = CONTOSO.andrea.upn;
const LIMIT = 64 * 1024;

/** Bytes that do not compress into anything clever. */
function fileOf(size: number): string {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes.toString('base64');
}

forEachEngine((_engine, openFresh) => {
  let h: GraphOutbound;
  let account: number;

  beforeAll(async () => {
    const db = await openFresh();
    h = await startGraphOutbound(db.url);
    account = await createGraphAccount(h, { key: 'AND', name: 'Andrea', emailAddress: ANDREA });
  }, 60_000);
  afterAll(async () => h?.close());

  const setLimit = (bytes: number | null) =>
    h.control('PUT', '/exchange/settings/max-send-size', { mailbox: ANDREA, bytes });

  describe("a mailbox's MaxSendSize on Graph's sendMail", () => {
    it('fails the message with GRAPH_MESSAGE_TOO_LARGE and the Set-Mailbox remedy, once; sent after the limit is raised and the message retried', async () => {
      await setLimit(LIMIT);
      try {
        const id = await newMessage(h, account, {
          to: 'big@fabrikam.example',
          attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', contentBase64: fileOf(100 * 1024) }],
        });
        await dispatchUntilIdle(h);
        const failed = await view(h, id);
        expect(failed).toMatchObject({
          state: 'failed',
          delivery: { attempts: 1, error: { code: 'GRAPH_MESSAGE_TOO_LARGE' } },
        });
        expect(failed.delivery.error?.message).toContain(
          '400 ErrorMessageSizeExceeded: The message exceeds the maximum supported size.',
        );
        expect(failed.delivery.error?.remedy).toContain(`Set-Mailbox ${ANDREA} -MaxSendSize`);
        expect((await sent(h)).some((r) => r.recipients.includes('big@fabrikam.example'))).toBe(false);
        const timeline = await listEvents(h.db, { scope: 'message', scopeId: id, types: ['message.failed'] });
        expect(timeline.items).toHaveLength(1);
        expect(timeline.items[0]?.data).toMatchObject({ code: 'GRAPH_MESSAGE_TOO_LARGE' });

        await setLimit(null);
        expect((await h.api('POST', `/api/messages/${id}/retry`)).json()).toMatchObject({ state: 'queued' });
        await dispatchUntilIdle(h);
        expect(await view(h, id)).toMatchObject({ state: 'sent', delivery: { attempts: 2, error: null } });
      } finally {
        await setLimit(null);
      }
    });
  });
});
