/**
 * The ingest benchmark's mailbox, generated deterministically (a seeded PRNG: the same N messages,
 * byte for byte, on every run and machine). A helpdesk's mix:
 *
 * - 45 % plain text, 0.4–4 KB;
 * - 27 % multipart/alternative (text + HTML with links, a table and a remote image), 3–24 KB;
 * - 15 % multipart/mixed with one or two attachments (PDF-like, spreadsheets), 20–300 KB;
 * - 8 % multipart/related: HTML with an inline `cid:` image (a signature logo), 8–60 KB;
 * - 4 % automated mail (auto-replies, a delivery report) and mailing-list mail;
 * - 1 % a large attachment, 1–2 MB.
 *
 * About a third are replies (In-Reply-To and References to an earlier message of the mailbox),
 * from 150 senders, a few in non-UTF-8 charsets and quoted-printable.
 */

/** A small, fast, seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'order shipment invoice delivery account password reset login error screen printer network ticket refund payment ' +
  'contract renewal customer support urgent please thanks regards update status issue problem solved attached ' +
  'document report monday tuesday friday morning afternoon colleague manager warehouse carrier tracking number'
).split(' ');

/** The kind of each message, for the report. */
export type CorpusKind = 'plain' | 'alternative' | 'attachments' | 'inline-image' | 'automated' | 'large';

/** One generated message. */
export interface CorpusMessage {
  readonly kind: CorpusKind;
  readonly raw: Buffer;
}

/** The `count` messages of the mailbox, in delivery order. */
export function ingestCorpus(count: number, seed = 20_251_123): CorpusMessage[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const sentence = (): string => {
    const words = Array.from({ length: between(6, 16) }, () => pick(WORDS));
    const first = words[0] ?? 'hello';
    return `${first.charAt(0).toUpperCase()}${first.slice(1)} ${words.slice(1).join(' ')}.`;
  };
  const paragraphs = (bytes: number): string[] => {
    const out: string[] = [];
    let size = 0;
    while (size < bytes) {
      const paragraph = Array.from({ length: between(2, 6) }, sentence).join(' ');
      out.push(paragraph);
      size += paragraph.length + 2;
    }
    return out;
  };
  const binary = (bytes: number): Buffer => {
    const out = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i += 4) out.writeUInt32LE(Math.floor(random() * 4294967296), Math.min(i, bytes - 4));
    return out;
  };

  const messages: CorpusMessage[] = [];
  const subjects: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const roll = random();
    const kind: CorpusKind =
      roll < 0.45
        ? 'plain'
        : roll < 0.72
          ? 'alternative'
          : roll < 0.87
            ? 'attachments'
            : roll < 0.95
              ? 'inline-image'
              : roll < 0.99
                ? 'automated'
                : 'large';
    const sender = between(1, 150);
    const reply = n > 10 && random() < 0.33;
    const parent = reply ? between(Math.max(0, n - 200), n - 1) : -1;
    const subject = reply
      ? `Re: ${subjects[parent] ?? 'your request'}`
      : `${pick(['Question about', 'Problem with', 'Request:', 'Update on'])} ${pick(WORDS)} ${between(1000, 99999)}`;
    subjects.push(subject.replace(/^Re: /, ''));
    const header = [
      `From: "Customer ${sender}" <customer${sender}@example.org>`,
      'To: "Support" <queue0001@bench.example>',
      ...(random() < 0.1 ? [`Cc: "Colleague ${sender}" <colleague${sender}@example.org>`] : []),
      `Subject: ${subject}`,
      `Date: ${new Date(Date.UTC(2025, 10, 1) + n * 97_000).toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <ingest-${n}@example.org>`,
      ...(reply ? [`In-Reply-To: <ingest-${parent}@example.org>`, `References: <ingest-${parent}@example.org>`] : []),
      ...(kind === 'automated' ? automatedHeaders(n) : []),
      'MIME-Version: 1.0',
    ];
    messages.push({ kind, raw: Buffer.from(body(kind, header, n), 'utf8') });
  }
  return messages;

  function body(kind: CorpusKind, header: string[], n: number): string {
    const boundary = `=_bench_${n}_${Math.floor(random() * 1e9).toString(36)}`;
    switch (kind) {
      case 'plain':
      case 'automated': {
        const text = paragraphs(between(400, 4000)).join('\r\n\r\n');
        if (random() < 0.1) {
          return [
            ...header,
            'Content-Type: text/plain; charset=iso-8859-1',
            'Content-Transfer-Encoding: quoted-printable',
            '',
            `${quotedPrintable(text)} Gr=FC=DFe`,
            '',
          ].join('\r\n');
        }
        return [
          ...header,
          'Content-Type: text/plain; charset=utf-8',
          'Content-Transfer-Encoding: 8bit',
          '',
          text,
          '',
        ].join('\r\n');
      }
      case 'alternative': {
        const parts = paragraphs(between(1500, 12000));
        return [
          ...header,
          `Content-Type: multipart/alternative; boundary="${boundary}"`,
          '',
          ...alternative(boundary, parts),
          `--${boundary}--`,
          '',
        ].join('\r\n');
      }
      case 'inline-image': {
        const parts = paragraphs(between(1000, 6000));
        const related = `${boundary}_r`;
        const logo = wrap(binary(between(6000, 50000)).toString('base64'));
        return [
          ...header,
          `Content-Type: multipart/related; boundary="${related}"; type="multipart/alternative"`,
          '',
          `--${related}`,
          `Content-Type: multipart/alternative; boundary="${boundary}"`,
          '',
          ...alternative(boundary, parts, `<img src="cid:logo-${n}@bench" alt="logo">`),
          `--${boundary}--`,
          `--${related}`,
          'Content-Type: image/png; name="logo.png"',
          'Content-Transfer-Encoding: base64',
          `Content-ID: <logo-${n}@bench>`,
          'Content-Disposition: inline; filename="logo.png"',
          '',
          logo,
          `--${related}--`,
          '',
        ].join('\r\n');
      }
      case 'attachments':
      case 'large': {
        const text = paragraphs(between(300, 3000)).join('\r\n\r\n');
        const files =
          kind === 'large'
            ? [{ name: `scan-${n}.pdf`, type: 'application/pdf', size: between(1_000_000, 2_000_000) }]
            : Array.from({ length: between(1, 2) }, (_, i) => ({
                name: pick([`invoice-${n}-${i}.pdf`, `report ${n}.xlsx`, `photo_${n}_${i}.jpg`, `log-${n}.txt`]),
                type: pick([
                  'application/pdf',
                  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                  'image/jpeg',
                  'text/plain',
                ]),
                size: between(15_000, 220_000),
              }));
        const lines = [
          ...header,
          `Content-Type: multipart/mixed; boundary="${boundary}"`,
          '',
          `--${boundary}`,
          'Content-Type: text/plain; charset=utf-8',
          '',
          text,
        ];
        for (const file of files) {
          lines.push(
            `--${boundary}`,
            `Content-Type: ${file.type}; name="${file.name}"`,
            'Content-Transfer-Encoding: base64',
            `Content-Disposition: attachment; filename="${file.name}"`,
            '',
            wrap(binary(file.size).toString('base64')),
          );
        }
        lines.push(`--${boundary}--`, '');
        return lines.join('\r\n');
      }
    }
  }

  function alternative(boundary: string, parts: readonly string[], extraHtml = ''): string[] {
    const link = `https://portal.example.org/tickets/${between(1, 99999)}`;
    const html =
      `<html><head><style>p{font-family:Arial}</style></head><body>` +
      parts.map((p) => `<p>${p}</p>`).join('\n') +
      `<table border="1"><tr><td>Ticket</td><td><a href="${link}">${link}</a></td></tr><tr><td>Status</td><td><b>open</b></td></tr></table>` +
      `<p><img src="https://tracker.example.org/pixel.gif?id=${between(1, 1e6)}" width="1" height="1"></p>${extraHtml}</body></html>`;
    return [
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      quotedPrintable(parts.join('\r\n\r\n')),
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      quotedPrintable(html),
    ];
  }
}

/** Headers of automated mail, in turn: auto-reply, list, bounce-like. */
function automatedHeaders(n: number): string[] {
  switch (n % 3) {
    case 0:
      return ['Auto-Submitted: auto-replied', 'X-Auto-Response-Suppress: All'];
    case 1:
      return ['Precedence: list', `List-Id: <news.example.org>`, 'List-Unsubscribe: <mailto:leave@example.org>'];
    default:
      return ['X-Autoreply: yes', 'Precedence: auto_reply'];
  }
}

/** Base64 in 76-character lines. */
function wrap(base64: string): string {
  return base64.replace(/.{76}/g, '$&\r\n');
}

/** A simple quoted-printable encoding of ASCII text: `=` escaped, soft line breaks before 76 characters. */
function quotedPrintable(text: string): string {
  return text
    .split('\r\n')
    .map((line) => {
      const escaped = line.replaceAll('=', '=3D');
      const out: string[] = [];
      let start = 0;
      while (escaped.length - start > 75) {
        let end = start + 75;
        // Never split an =XX escape.
        const cut = escaped.lastIndexOf('=', end - 1);
        if (cut > end - 3) end = cut;
        out.push(escaped.slice(start, end));
        start = end;
      }
      out.push(escaped.slice(start));
      return out.join('=\r\n');
    })
    .join('\r\n');
}
