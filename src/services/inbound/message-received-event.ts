/**
 * The `message.received` event: appended by ingest in the message's own transaction, so that the
 * timeline and every subscribed webhook learn of each stored inbound message exactly once. It
 * carries what an integrator needs to act without another call: the account (id and key), the
 * interaction and message ids, and a parsed summary (sender, recipients, subject, a text snippet).
 */
import type { NamedAddress } from '../../domain/correspondent.js';
import type { EventData, NewEvent } from '../../store/index.js';

/** Characters of body text in the snippet. */
export const SNIPPET_LENGTH = 200;

/** What the event is built from. */
export interface ReceivedFacts {
  readonly account: { readonly id: number; readonly key: string; readonly emailAddress: string };
  readonly messageRowId: number;
  readonly internetMessageId: string;
  readonly interactionId: number;
  readonly interactionCreated: boolean;
  readonly from: readonly NamedAddress[];
  readonly to: readonly NamedAddress[];
  readonly cc: readonly NamedAddress[];
  readonly subject: string;
  readonly text: string | null;
  readonly html: string | null;
  readonly receivedAt: Date;
  readonly folder: string;
  readonly isJunk: boolean;
  readonly automated: boolean;
  readonly attachmentCount: number;
  readonly oversize: boolean;
}

/** The event to append for a stored inbound message. */
export function messageReceivedEvent(facts: ReceivedFacts): NewEvent {
  const sender = facts.from[0];
  const who = sender === undefined ? 'an unknown sender' : sender.address;
  const data: EventData = {
    accountId: facts.account.id,
    accountKey: facts.account.key,
    accountAddress: facts.account.emailAddress,
    interactionId: facts.interactionId,
    interactionCreated: facts.interactionCreated,
    messageId: facts.messageRowId,
    internetMessageId: facts.internetMessageId,
    from: sender === undefined ? null : addressJson(sender),
    to: facts.to.map(addressJson),
    cc: facts.cc.map(addressJson),
    subject: facts.subject,
    snippet: snippetOf(facts.text, facts.html),
    receivedAt: facts.receivedAt.toISOString(),
    folder: facts.folder,
    junk: facts.isJunk,
    automated: facts.automated,
    attachments: facts.attachmentCount,
    oversize: facts.oversize,
  };
  return {
    scope: 'message',
    scopeId: facts.messageRowId,
    type: 'message.received',
    message: `Email account ${facts.account.key} received "${truncate(facts.subject, 120)}" from ${who}.`,
    data,
  };
}

/** The first {@link SNIPPET_LENGTH} characters of the body text, whitespace collapsed. */
export function snippetOf(text: string | null, html: string | null): string {
  const source = text ?? html ?? '';
  // A head of HTML ends after its last complete tag: half a tag is not text.
  const read =
    text === null && html !== null
      ? (head: string) => htmlToText(head.length === source.length ? head : head.slice(0, head.lastIndexOf('>') + 1))
      : (head: string) => head;
  // Only the head of a long body is read: widened until it holds the snippet (or is all of it), so
  // a large body costs at most a few passes over what the snippet needs — linear in any case.
  for (let window = SNIPPET_LENGTH * 8; ; window *= 8) {
    const collapsed = read(source.slice(0, window)).replace(/\s+/g, ' ').trim();
    if (window >= source.length || collapsed.length > SNIPPET_LENGTH * 2) return truncate(collapsed, SNIPPET_LENGTH);
  }
}

/**
 * Text of (sanitized) HTML for the snippet: style and script contents dropped, tags become
 * spaces, the common entities decoded. Linear: a tag ends at the next `>` or `<`, and an element's
 * end is found by `indexOf`, never by a pattern that rescans the rest of the input.
 */
function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  let kept = '';
  let at = 0;
  for (const open of lower.matchAll(/<(style|script)\b/g)) {
    if (open.index < at) continue;
    kept += html.slice(at, open.index);
    const close = lower.indexOf(`</${open[1] ?? ''}`, open.index);
    const end = close === -1 ? -1 : lower.indexOf('>', close);
    at = end === -1 ? html.length : end + 1;
    kept += ' ';
  }
  kept += html.slice(at);
  return kept
    .replace(/<[^<>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** At most `length` code points, the last an ellipsis when cut; looks only at the head of `value`. */
function truncate(value: string, length: number): string {
  // A code point is one or two UTF-16 units: beyond 2 × length units there are more than `length`.
  if (value.length <= length) return value;
  const head = [...value.slice(0, length * 2)];
  return head.length <= length && value.length <= length * 2 ? value : `${head.slice(0, length - 1).join('')}…`;
}

function addressJson(address: NamedAddress): { name: string | null; address: string } {
  return { name: address.name === '' ? null : address.name, address: address.address };
}
