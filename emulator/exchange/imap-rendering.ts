/**
 * What Exchange's IMAP service serves of a message is not the bytes that were delivered, and the
 * size it reports is not the length of what it serves.
 *
 * - **RFC822.SIZE is an estimate** unless exact sizes are enabled (`Set-ImapSettings
 *   -EnableExactRFC822Size $true` on premises, `ImapEnableExactRFC822Size` on the CAS mailbox; off
 *   by default, "because this setting can negatively affect performance"). The emulator's estimate
 *   is deterministic: with `n` the length of the served message and `h` the SHA-256 of its octets,
 *   the deviation is `max(1, ceil(n × (5 + h[0] mod 26) / 1000))` — 0.5 % to 3 % — added when
 *   `h[1]` is odd, subtracted when even (never below 1). Never equal to `n`. SEARCH LARGER / SMALLER
 *   compare the same value, as Exchange's search does against its stored size. In the emulator
 *   the estimate is on for a mailbox set `exactRfc822Size: false`; a mailbox not set is served
 *   exact sizes for now — not Exchange's default: the suites written before the estimate existed
 *   have not all been run against it yet (README).
 * - **The MIME is re-rendered** from the stored item: Exchange adds `X-MS-Has-Attach:`,
 *   `X-MS-TNEF-Correlator:` and `X-MS-Exchange-Organization-*` fields, placed before the message's
 *   `Content-Type` / `MIME-Version` fields as its MIME writer does (at the end of the header when
 *   there is neither). The emulator adds exactly those fields, with values derived from the message
 *   (so the same message is served the same way on every fetch); it does not re-encode parts.
 *   Off by default in the emulator (see README: most suites compare served bytes with delivered
 *   ones), on per mailbox.
 *
 * @see https://learn.microsoft.com/powershell/module/exchange/set-imapsettings#-enableexactrfc822size
 * @see https://learn.microsoft.com/previous-versions/office/developer/exchange-server-2010/ff341005(v=exchg.140) (CASMailbox.ImapEnableExactRFC822Size)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.4 (RFC822.SIZE)
 */
import { createHash } from 'node:crypto';
import { paramValue, type MimePart } from './mime-structure.js';
import { MessageContent } from './stored-message.js';

/** Per-mailbox IMAP rendering settings. */
export interface ImapRenderingSnapshot {
  /** Mailboxes whose RFC822.SIZE is set explicitly: true exact, false Exchange's estimate. */
  readonly exactSize: Record<string, boolean>;
  /** Mailboxes served re-rendered MIME. */
  readonly rerender: string[];
}

/** How each mailbox's messages are served over IMAP. */
export class ImapRenderingSettings {
  readonly #exact = new Map<string, boolean>();
  readonly #rerender = new Set<string>();

  /** `ImapEnableExactRFC822Size` of a mailbox. */
  setExactSize(mailbox: string, exact: boolean): void {
    this.#exact.set(mailbox.toLowerCase(), exact);
  }

  /** Whether a mailbox is served re-rendered MIME. */
  setRerender(mailbox: string, rerender: boolean): void {
    toggle(this.#rerender, mailbox.toLowerCase(), rerender);
  }

  /** The content served to `mailbox` for a stored message. */
  served(mailbox: string | undefined, content: MessageContent): MessageContent {
    if (mailbox === undefined || !this.#rerender.has(mailbox.toLowerCase())) return content;
    return content.memo('imap:rendered', renderForImap, isContent);
  }

  /** RFC822.SIZE of served content for `mailbox`: its length, or Exchange's estimate. */
  size(mailbox: string | undefined, served: MessageContent): number {
    // Not set: exact, for now (see the module comment and README: the suites that predate the
    // estimate assume it); Exchange Online's own default is the estimate.
    const exact = mailbox === undefined ? true : (this.#exact.get(mailbox.toLowerCase()) ?? true);
    if (exact) return served.size;
    return served.memo('imap:estimated-size', (c) => estimateRfc822Size(c.raw), isNumber);
  }

  snapshot(): ImapRenderingSnapshot {
    return { exactSize: Object.fromEntries(this.#exact), rerender: [...this.#rerender] };
  }

  clear(): void {
    this.#exact.clear();
    this.#rerender.clear();
  }
}

/** Exchange's estimated RFC822.SIZE of `served` octets (see the module comment for the rule). */
export function estimateRfc822Size(served: Buffer): number {
  const n = served.length;
  const h = createHash('sha256').update(served).digest();
  const perMille = 5 + ((h[0] ?? 0) % 26);
  const deviation = Math.max(1, Math.ceil((n * perMille) / 1000));
  if (((h[1] ?? 0) & 1) === 1) return n + deviation;
  return n - deviation >= 1 ? n - deviation : n + deviation;
}

/** The message as Exchange's IMAP service would serve it (see the module comment). */
export function renderForImap(content: MessageContent): MessageContent {
  const raw = content.raw;
  const root = content.structure;
  const added = exchangeFields(raw, root);
  const at = insertionPoint(raw, root);
  const eol = raw.includes('\r\n') ? '\r\n' : '\n';
  const lead = at > 0 && raw[at - 1] !== 0x0a ? eol : '';
  const block = Buffer.from(lead + added.map((line) => `${line}${eol}`).join(''), 'latin1');
  return new MessageContent(Buffer.concat([raw.subarray(0, at), block, raw.subarray(at)]));
}

function exchangeFields(raw: Buffer, root: MimePart): string[] {
  const digest = createHash('sha256').update(raw).digest('hex');
  const id = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-4${digest.slice(13, 16)}-8${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
  return [
    hasAttachment(root) ? 'X-MS-Has-Attach: yes' : 'X-MS-Has-Attach:',
    'X-MS-TNEF-Correlator:',
    `X-MS-Exchange-Organization-Network-Message-Id: ${id}`,
    'X-MS-Exchange-Organization-AuthAs: Anonymous',
    'X-MS-Exchange-Organization-SCL: 1',
  ];
}

/** Offset of the first top-level Content-Type or MIME-Version line, else of the blank line ending the header. */
function insertionPoint(raw: Buffer, root: MimePart): number {
  const header = raw.toString('latin1', root.headerStart, root.bodyStart);
  let offset = 0;
  for (const line of header.split(/(?<=\n)/)) {
    if (line === '\r\n' || line === '\n') return root.headerStart + offset;
    const name = line
      .slice(0, Math.max(0, line.indexOf(':')))
      .trim()
      .toLowerCase();
    if (name === 'content-type' || name === 'mime-version') return root.headerStart + offset;
    offset += line.length;
  }
  // No blank line: the header runs to the end; add the fields after it.
  return root.headerStart + offset;
}

function hasAttachment(part: MimePart): boolean {
  const disposition = part.headers.find((field) => field.key === 'content-disposition')?.value ?? '';
  if (disposition.toLowerCase().startsWith('attachment')) return true;
  if (part.type !== 'multipart' && paramValue(part.contentType, 'name') !== undefined && part.type !== 'text')
    return true;
  return part.children.some(hasAttachment);
}

function toggle(set: Set<string>, key: string, on: boolean): void {
  if (on) set.add(key);
  else set.delete(key);
}

function isContent(value: unknown): value is MessageContent {
  return value instanceof MessageContent;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}
