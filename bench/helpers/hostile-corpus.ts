/**
 * The hostile mails of issue 13: each one field a megabyte long (subject, From name, Message-ID,
 * References, attachment file name, Content-Type parameter) and a 5 MB HTML body of 100,000
 * nested elements. Shared by the responsiveness test (test/security/hostile-mail-responsiveness.test.ts)
 * and its benchmark (bench/hostile-mail-bench.ts), so that both feed Postern the same mail.
 */
const MB = 1024 * 1024;

/** A raw message to `to` with `fields` over the defaults, `body` and its Content-Type. */
export function hostileMessage(
  to: string,
  fields: Record<string, string>,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): Buffer {
  const header = {
    From: 'Mallory <mallory@attacker.example>',
    To: to,
    Subject: 'hostile',
    Date: 'Wed, 02 Dec 2026 08:00:00 +0000',
    'Message-ID': `<${Math.random().toString(36).slice(2)}@attacker.example>`,
    'MIME-Version': '1.0',
    'Content-Type': contentType,
    ...fields,
  };
  const lines = Object.entries(header).map(([name, value]) => `${name}: ${value}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}\r\n`);
}

/** One hostile mail: what it is, and how to build it for a recipient. */
export type HostileMail = readonly [name: string, build: (to: string) => Buffer];

/** The seven hostile mails of the acceptance. */
export function hostileCorpus(): HostileMail[] {
  const spaces = ' '.repeat(MB);
  const nestedHtml = `<html><body>${'<div title="nested element" class="level">'.repeat(100_000)}deep${'</div>'.repeat(100_000)}</body></html>`;
  return [
    ['a 1 MB subject (RE and spaces)', (to) => hostileMessage(to, { Subject: `RE${spaces}x` }, 'subject')],
    [
      'a 1 MB From name',
      (to) => hostileMessage(to, { From: `"${'M'.repeat(MB)}" <mallory@attacker.example>` }, 'from'),
    ],
    [
      'a 1 MB Message-ID',
      (to) => hostileMessage(to, { 'Message-ID': `<${'i'.repeat(MB)}@attacker.example>` }, 'message-id'),
    ],
    [
      'a 1 MB References header',
      (to) =>
        hostileMessage(
          to,
          { References: Array.from({ length: 62_000 }, (_, i) => `<r${i}@x.example>`).join(' ') },
          'references',
        ),
    ],
    [
      'a 1 MB attachment file name',
      (to) =>
        hostileMessage(
          to,
          {},
          `--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="${'f'.repeat(MB)}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--`,
          'multipart/mixed; boundary="b"',
        ),
    ],
    [
      'a 1 MB Content-Type parameter',
      (to) => hostileMessage(to, {}, 'parameter', `text/plain; charset=utf-8; x-junk="${'p'.repeat(MB)}"`),
    ],
    [
      'a 5 MB HTML body of 100,000 nested elements',
      (to) => hostileMessage(to, {}, nestedHtml, 'text/html; charset=utf-8'),
    ],
  ];
}
