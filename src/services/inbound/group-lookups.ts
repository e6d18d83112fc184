/**
 * What a group commit's messages find already stored — their mailbox positions or Graph ids,
 * their Message-IDs, their senders' and participants' contacts, the conversations their threading
 * keys point at — read with a few queries for the whole group when its transaction opens, instead
 * of one query per message for each. Over PostgreSQL every query is a round trip, and in a first
 * sync almost every answer is "not stored".
 *
 * The answers stay true for the rest of the transaction except for what the group writes itself,
 * which is noted as it is written ({@link GroupLookups.noteStored}, {@link GroupLookups.noteContact},
 * {@link GroupLookups.noteConversation}): a message threads onto one stored earlier in its group
 * exactly as onto one stored before.
 * A message that may be stored is still looked up as before, so the duplicate rules are unchanged;
 * a concurrent writer (another node, another account's worker) is caught, as before, by the unique
 * keys of the insert.
 */
import type { NamedAddress } from '../../domain/correspondent.js';
import { threadLookupIds, type ThreadKeys, type ThreadMatches } from '../../domain/threading.js';
import {
  contactAddressKey,
  findContactIdsByAddresses,
  findInteractionsByTokens,
  findStoredMarks,
  findThreadedMessageIds,
  positionMark,
  type Database,
} from '../../store/index.js';
import type { IngestInput } from './ingest-message.js';

/** One message of the group, as the lookups need it. */
export interface GroupMember {
  readonly input: IngestInput;
  /** Its canonical Message-ID. */
  readonly messageId: string;
  /** The correspondent its contact is for. */
  readonly sender: NamedAddress;
  /** The To/Cc participants saved as contacts too (none for junk and automated mail). */
  readonly participants: readonly NamedAddress[];
  /** Its threading keys. */
  readonly keys: ThreadKeys;
}

/** Ids per lookup query: a bounded statement whatever a group's References hold. */
const IDS_PER_QUERY = 500;

/** See the module comment. One per transaction. */
export class GroupLookups {
  private constructor(
    private readonly positions: Set<string>,
    private readonly graphIds: Set<string>,
    private readonly messageIds: Set<string>,
    private readonly contacts: Map<string, number>,
    private readonly threads: Map<string, number>,
    private readonly tokens: Map<string, number>,
  ) {}

  /** Reads the answers for `members`, in the group's transaction. */
  static async read(tx: Database, accountId: number, members: readonly GroupMember[]): Promise<GroupLookups> {
    const marks = await findStoredMarks(tx, accountId, {
      positions: members.flatMap(({ input }) =>
        input.graphId === undefined ? [{ folder: input.folder, uidValidity: input.uidvalidity, uid: input.uid }] : [],
      ),
      graphIds: members.flatMap(({ input }) => (input.graphId === undefined ? [] : [input.graphId])),
      messageIds: members.map((member) => member.messageId),
    });
    const contacts = await findContactIdsByAddresses(
      tx,
      members.flatMap((member) => [member.sender.address, ...member.participants.map(({ address }) => address)]),
    );
    const threadIds = [...new Set(members.flatMap((member) => threadLookupIds(member.keys)))];
    const threads = new Map<string, number>();
    for (let start = 0; start < threadIds.length; start += IDS_PER_QUERY)
      for (const [id, interaction] of await findThreadedMessageIds(
        tx,
        accountId,
        threadIds.slice(start, start + IDS_PER_QUERY),
      ))
        threads.set(id, interaction);
    const tokens = await findInteractionsByTokens(tx, accountId, [
      ...new Set(members.flatMap((member) => member.keys.subjectTokens)),
    ]);
    return new GroupLookups(
      new Set(marks.positions),
      new Set(marks.graphIds),
      new Set(marks.messageIds),
      contacts,
      threads,
      tokens,
    );
  }

  /** What threading finds for the group's keys: stored before the group, or by the group so far. */
  get threadMatches(): ThreadMatches {
    return { byMessageId: this.threads, byToken: this.tokens };
  }

  /** False when neither the message's position (or Graph id) nor its Message-ID holds a message. */
  mayBeStored(input: IngestInput, messageId: string): boolean {
    return this.messageIds.has(messageId) || this.positions.has(markOf(input)) || this.graphIdTaken(input);
  }

  /**
   * The group stored a message here (in conversation `interactionId`; undefined when it only moved
   * a stored one): later members that meet it look it up, and replies to it thread onto it.
   */
  noteStored(input: IngestInput, messageId: string, interactionId?: number): void {
    this.messageIds.add(messageId);
    if (interactionId !== undefined) this.threads.set(messageId, interactionId);
    if (input.graphId === undefined) this.positions.add(markOf(input));
    else this.graphIds.add(input.graphId);
  }

  /** The contact that owns `address`, when one did at the start or the group created it. */
  contactOf(address: string): number | undefined {
    return this.contacts.get(contactAddressKey(address));
  }

  /** The group opened a conversation with this subject token (stored form). */
  noteConversation(token: string, interactionId: number): void {
    this.tokens.set(token, interactionId);
  }

  /** The group created a contact for `address`. */
  noteContact(address: string, contactId: number): void {
    this.contacts.set(contactAddressKey(address), contactId);
  }

  private graphIdTaken(input: IngestInput): boolean {
    return input.graphId !== undefined && this.graphIds.has(input.graphId);
  }
}

function markOf(input: IngestInput): string {
  return positionMark(input.folder, input.uidvalidity, input.uid);
}
