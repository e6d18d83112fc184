/**
 * The correspondent of an inbound message: the person the conversation is with, whose address
 * becomes (or finds) the Contact. Normally the author (From); when the author is the account
 * itself (a copy of mail sent from Outlook, a message to self), the first outside recipient.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.2 (From, Sender, Reply-To)
 */

/** A name and address as parsed from a header. */
export interface NamedAddress {
  readonly name: string;
  readonly address: string;
}

/** The address headers of a message. */
export interface AddressHeaders {
  readonly from: readonly NamedAddress[];
  readonly sender: readonly NamedAddress[];
  readonly replyTo: readonly NamedAddress[];
  readonly to: readonly NamedAddress[];
  readonly cc: readonly NamedAddress[];
}

const MAX_ADDRESS_LENGTH = 320;

/** True for something shaped like `local@domain`: no spaces, one `@`, a dot-free local part allowed. */
export function isPlausibleAddress(address: string): boolean {
  if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return false;
  return /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/.test(address);
}

/** Lower-cased and trimmed; undefined when not plausible. */
export function normalizeAddress(address: string | null | undefined): string | undefined {
  const trimmed = (address ?? '').trim().replace(/^<|>$/g, '').toLowerCase();
  return isPlausibleAddress(trimmed) ? trimmed : undefined;
}

/**
 * The correspondent, or null when no header names a plausible outside address. `ownAddresses`
 * are the account's (compared regardless of case).
 */
export function correspondentOf(headers: AddressHeaders, ownAddresses: readonly string[]): NamedAddress | null {
  const own = new Set(ownAddresses.map((address) => address.toLowerCase()));
  const authors = [...headers.from, ...headers.sender, ...headers.replyTo];
  const firstOutside = (list: readonly NamedAddress[]): NamedAddress | undefined => {
    for (const entry of list) {
      const address = normalizeAddress(entry.address);
      if (address !== undefined && !own.has(address)) return { name: entry.name.trim(), address };
    }
    return undefined;
  };
  const authoredByUs = headers.from.some((entry) => own.has(entry.address.trim().toLowerCase()));
  if (!authoredByUs) {
    const author = firstOutside(authors);
    if (author !== undefined) return author;
  }
  return firstOutside([...headers.to, ...headers.cc]) ?? (authoredByUs ? null : (firstOutside(authors) ?? null));
}

/** A display name for a new contact: the header's name, else the address's local part. */
export function contactNameFor(correspondent: NamedAddress): string {
  const name = correspondent.name
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["']|["']$/g, '')
    .trim();
  if (name !== '' && name.toLowerCase() !== correspondent.address) return name.slice(0, 200);
  return correspondent.address.split('@')[0] ?? correspondent.address;
}

/**
 * The other people a message was written to: its To, then its Cc (never Bcc), each address once,
 * lower-cased, plausible, none of `exclude` (the account's own addresses, the correspondent) —
 * the first `max` of them, so that a message to a whole company saves no more than that.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.3 (destination address fields)
 */
export function participantsOf(
  headers: Pick<AddressHeaders, 'to' | 'cc'>,
  exclude: readonly string[],
  max: number,
): NamedAddress[] {
  const seen = new Set(exclude.map((address) => address.trim().toLowerCase()));
  const participants: NamedAddress[] = [];
  for (const entry of [...headers.to, ...headers.cc]) {
    if (participants.length >= max) break;
    const address = normalizeAddress(entry.address);
    if (address === undefined || seen.has(address)) continue;
    seen.add(address);
    participants.push({ name: entry.name.trim(), address });
  }
  return participants;
}
