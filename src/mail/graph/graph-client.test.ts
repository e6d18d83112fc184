import { describe, expect, it } from 'vitest';
import { Response } from 'undici';
import { readCapped } from './graph-client.js';

const context = { mailbox: 'queue@contoso.com' };

/** A body that arrives in `count` chunks of `size` bytes, with no declared length. */
function chunked(count: number, size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent === count) return controller.close();
      controller.enqueue(new Uint8Array(size).fill(65 + (sent % 26)));
      sent += 1;
    },
  });
}

describe('reading an answer within a cap', () => {
  it('reads a declared body whole, and the same bytes chunk by chunk when none is declared', async () => {
    const bytes = Buffer.from('From: a@b.example\r\n\r\nHello\r\n');
    const declared = new Response(bytes, { headers: { 'content-length': String(bytes.length) } });
    expect((await readCapped(declared, 1_000, context)).equals(bytes)).toBe(true);
    const undeclared = await readCapped(new Response(chunked(3, 10)), 1_000, context);
    expect(undeclared.toString()).toBe(`${'A'.repeat(10)}${'B'.repeat(10)}${'C'.repeat(10)}`);
  });

  it('refuses a declared length over the cap before reading', async () => {
    const response = new Response(chunked(100, 1_000), { headers: { 'content-length': '100000' } });
    await expect(readCapped(response, 50_000, context)).rejects.toMatchObject({
      code: 'GRAPH_MESSAGE_TOO_LARGE',
      details: { size: 100_000, max: 50_000 },
    });
  });

  it('stops at the cap when the length is not declared, or the answer is compressed', async () => {
    await expect(readCapped(new Response(chunked(100, 1_000)), 50_000, context)).rejects.toMatchObject({
      code: 'GRAPH_MESSAGE_TOO_LARGE',
      details: { size: 51_000, max: 50_000 },
    });
    // A compressed answer declares its compressed length; what counts is what it inflates to.
    const compressed = new Response(chunked(100, 1_000), {
      headers: { 'content-length': '1000', 'content-encoding': 'gzip' },
    });
    await expect(readCapped(compressed, 50_000, context)).rejects.toMatchObject({ code: 'GRAPH_MESSAGE_TOO_LARGE' });
  });
});
