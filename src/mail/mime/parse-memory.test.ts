/**
 * Issue 16, point 6: a large message is parsed without a string of the whole message on the heap.
 * The parse worker runs here with an old generation of 64 MB, less than the 80 MB message: before,
 * `declaredTypes` made the message one Latin-1 string and mailparser, given it as one chunk,
 * decoded its attachment from one base64 string — the worker ran out of memory. Not timed: the
 * heap limit decides, whatever the machine's load.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const HELPERS = path.resolve(import.meta.dirname, '../../../test/helpers');
const fromSource = new URL(`file://${HELPERS}/parse-worker-from-source.mjs`);
const MESSAGE_BYTES = 80 * 1024 * 1024;
const HEAP_MB = 64;

/** A message of about `bytes` bytes: a line of text and an attachment of random bytes in base64. */
function largeMessage(bytes: number): Buffer {
  const head = Buffer.from(
    [
      'From: big@outside.example',
      'To: queue@contoso.com',
      'Subject: archive',
      'Message-ID: <big@outside.example>',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Attached.',
      '--b',
      'Content-Type: application/octet-stream; name="a.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      '',
    ].join('\r\n'),
  );
  const lines = Math.floor(bytes / 78);
  const data = randomBytes(lines * 57).toString('base64');
  const body = Buffer.allocUnsafe(lines * 78);
  for (let line = 0; line < lines; line += 1) body.write(`${data.slice(line * 76, line * 76 + 76)}\r\n`, line * 78);
  return Buffer.concat([head, body, Buffer.from('--b--\r\n')]);
}

describe('parsing a large message', () => {
  it(`keeps an ${MESSAGE_BYTES / 1024 / 1024} MB message within a ${HEAP_MB} MB heap`, async () => {
    const raw = largeMessage(MESSAGE_BYTES);
    const worker = new Worker(fromSource, { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    try {
      const answer = await new Promise<unknown>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ id: 1, raw });
      });
      expect(answer).toMatchObject({
        id: 1,
        parsed: { subject: 'archive', attachments: [{ filename: 'a.bin', size: Math.floor(MESSAGE_BYTES / 78) * 57 }] },
      });
    } finally {
      await worker.terminate();
    }
  }, 120_000);
});
