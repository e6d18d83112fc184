/**
 * What a group commit's messages find already stored — their mailbox positions or Graph ids,
 * their Message-IDs, their senders' contacts — read with a few queries for the whole group when
 * its transaction opens, instead of one query per message for each. Over PostgreSQL every query is
 * a round trip, and in a first sync almost every answer is "not stored".
 *
 * The answers stay true for the rest of the transaction except for what the group writes itself,
 * which is noted as it is written ({@link GroupLookups.noteStored}, {@link GroupLookups.noteContact}).
 * A message that may be stored is still looked up as before, so the duplicate rules are unchanged;
 * a concurrent writer (another node, another account's worker) is caught, as before, by the unique
 * keys of the insert.
 */
import type { NamedAddress } from '../../domain/correspondent.js';
import {
  contactAddressKey,
  findContactIdsByAddresses,
  findStoredMarks,
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
}

/** See the module comment. One per transaction. */
export class GroupLookups {
  private constructor(
    private readonly positions: Set<string>,
    private readonly graphIds: Set<string>,
    private readonly messageIds: Set<string>,
    private readonly contacts: Map<string, number>,
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
      members.map((member) => member.sender.address),
    );
    return new GroupLookups(new Set(marks.positions), new Set(marks.graphIds), new Set(marks.messageIds), contacts);
  }

  /** False when neither the message's position (or Graph id) nor its Message-ID holds a message. */
  mayBeStored(input: IngestInput, messageId: string): boolean {
    return this.messageIds.has(messageId) || this.positions.has(markOf(input)) || this.graphIdTaken(input);
  }

  /** The group stored a message here: later members that meet it look it up. */
  noteStored(input: IngestInput, messageId: string): void {
    this.messageIds.add(messageId);
    if (input.graphId === undefined) this.positions.add(markOf(input));
    else this.graphIds.add(input.graphId);
  }

  /** The contact that owns `address`, when one did at the start or the group created it. */
  contactOf(address: string): number | undefined {
    return this.contacts.get(contactAddressKey(address));
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
