import { describe, expect, it } from 'vitest';
import { deliveryWords } from './delivery-words.js';

const at = (iso: string): string => `<${iso}>`;
const delivery = {
  attempts: 2,
  nextAttemptAt: '2026-12-04T10:42:00.000Z',
  lastAttemptAt: '2026-12-04T10:41:00.000Z',
  sentAt: null,
  serverResponse: null,
  error: null,
};

describe('delivery in plain words', () => {
  it('says Sent, with the server reply only in the details', () => {
    const words = deliveryWords(
      'sent',
      { ...delivery, serverResponse: '250 2.0.0 OK <x@y> [Hostname=SY5P282CA0097]' },
      null,
      at,
    );
    expect(words).toMatchObject({ badge: 'Sent', tone: 'ok', sentence: null });
    expect(words.details).toContain('Server reply: 250 2.0.0 OK');
  });

  it('says why a send waits and when it tries next, not a red failure', () => {
    const words = deliveryWords(
      'queued',
      {
        ...delivery,
        error: { code: 'SMTP_SENDER_THROTTLED', message: 'Exchange throttled the sender.', remedy: 'Wait.' },
      },
      '451 4.7.500 Server busy',
      at,
    );
    expect(words).toMatchObject({ badge: 'Waiting', tone: 'warn' });
    expect(words.sentence).toBe('Waiting: Exchange asked us to slow down — next try <2026-12-04T10:42:00.000Z>.');
    expect(words.details).toContain('SMTP_SENDER_THROTTLED');
  });

  it("falls back to the catalogue's sentence, and to sign-in trouble by prefix", () => {
    const other = deliveryWords(
      'queued',
      {
        ...delivery,
        nextAttemptAt: null,
        error: { code: 'SMTP_PROTOCOL_ERROR', message: 'The server spoke nonsense.', remedy: null },
      },
      null,
      at,
    );
    expect(other.sentence).toBe('Waiting: The server spoke nonsense.');
    const auth = deliveryWords(
      'queued',
      { ...delivery, error: { code: 'AUTH_PROVIDER_UNAVAILABLE', message: 'x', remedy: null } },
      null,
      at,
    );
    expect(auth.sentence).toContain('signing in to the mailbox failed');
  });

  it('says Queued alone before any attempt, and Failed with the remedy', () => {
    expect(deliveryWords('queued', { ...delivery, attempts: 0 }, null, at)).toMatchObject({
      badge: 'Queued',
      sentence: null,
      details: null,
    });
    const failed = deliveryWords(
      'failed',
      {
        ...delivery,
        error: { code: 'SMTP_AUTH_DISABLED', message: 'SMTP AUTH is disabled.', remedy: 'Enable it.' },
      },
      null,
      at,
    );
    expect(failed).toMatchObject({
      badge: 'Not sent',
      tone: 'error',
      sentence: 'Failed: SMTP AUTH is disabled.',
      remedy: 'Enable it.',
    });
  });
});
