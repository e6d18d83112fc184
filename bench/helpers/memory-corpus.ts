/**
 * Messages of the memory benchmark (`bench/memory-bench.ts`), generated in the world process:
 * a small plain-text message (a first sync of 100,000 of them), and one large message whose
 * attachment brings it to a given size (random bytes, so that nothing compresses it away).
 */
import { randomBytes } from 'node:crypto';

const DATE = 'Mon, 01 Dec 2025 09:00:00 +0000';

/** The `index`-th small message: about 600 bytes, its own Message-ID and sender. */
export function smallMessage(index: number): Buffer {
  return Buffer.from(
    [
      `From: "Customer ${index % 500}" <customer${index % 500}@outside.example>`,
      'To: queue0001@bench.example',
      `Subject: Order ${index} question`,
      `Date: ${DATE}`,
      `Message-ID: <small-${index}@outside.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Hello, this is message ${index}. ${'Could you tell me where my order is? '.repeat(8)}`,
      '',
    ].join('\r\n'),
  );
}

/** One message of `bytes` bytes (within a few hundred): a short text and a base64 attachment. */
export function largeMessage(bytes: number): Buffer {
  const head = [
    'From: "Big Sender" <big@outside.example>',
    'To: queue0001@bench.example',
    'Subject: The whole archive',
    `Date: ${DATE}`,
    'Message-ID: <large-1@outside.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'The archive is attached.',
    '--b1',
    'Content-Type: application/octet-stream; name="archive.bin"',
    'Content-Disposition: attachment; filename="archive.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
  const tail = '\r\n--b1--\r\n';
  // 76 base64 characters + CRLF per 57 bytes of attachment.
  const lines = Math.max(1, Math.floor((bytes - head.length - tail.length) / 78));
  const data = randomBytes(lines * 57).toString('base64');
  const body = Buffer.allocUnsafe(lines * 78);
  for (let line = 0; line < lines; line += 1) {
    body.write(data.slice(line * 76, line * 76 + 76), line * 78, 'latin1');
    body.write('\r\n', line * 78 + 76, 'latin1');
  }
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(tail, 'latin1')]);
}
