/** What a group commit draws ahead; see {@link GroupIds}. */
import {
  contactAddressKey,
  type Database,
  type DrawnIds,
  type DrawnTable,
  type GroupWrites,
} from '../../store/index.js';
import { threadLookupIds } from '../../domain/threading.js';
import type { GroupLookups, GroupMember } from './group-lookups.js';

/**
 * The ids a group draws ahead for its new messages, conversations and contacts (store/row-ids.ts):
 * at the first need, as many of each as the rest of the group will likely need, in one draw —
 * judged from what the group's lookups found: a message surely not stored needs a message id, one
 * whose threading keys meet nothing stored before or in the group opens a conversation, and each
 * sender or participant address not found needs a contact. A guess short of the need draws again; one over it
 * leaves gaps in the ids, nothing else.
 */
export class GroupIds {
  #drawn: DrawnIds | undefined;
  /** From each member on: how many surely new messages, conversations, contacts there may be. */
  readonly #needFrom: { readonly [T in DrawnTable]: readonly number[] };
  #at = 0;

  constructor(
    private readonly tx: Database,
    private readonly group: GroupWrites,
    lookups: GroupLookups,
    members: readonly GroupMember[],
  ) {
    const groupIds = new Set(members.map((member) => member.messageId));
    const { byMessageId, byToken } = lookups.threadMatches;
    const unknownSenders = new Set<string>();
    this.#needFrom = {
      messages: suffixCounts(members.map((member) => !lookups.mayBeStored(member.input, member.messageId))),
      interactions: suffixCounts(
        members.map(
          ({ keys }) =>
            !threadLookupIds(keys).some((id) => byMessageId.has(id) || groupIds.has(id)) &&
            !keys.subjectTokens.some((token) => byToken.has(token)),
        ),
      ),
      contacts: suffixCounts(
        members.map(({ sender, participants }) => {
          let unknown = 0;
          for (const { address } of [sender, ...participants]) {
            const key = contactAddressKey(address);
            if (lookups.contactOf(address) !== undefined || unknownSenders.has(key)) continue;
            unknownSenders.add(key);
            unknown += 1;
          }
          return unknown;
        }),
      ),
    };
  }

  /** These ids, for the member at `index` (the members are stored in order). */
  from(index: number): GroupIds {
    this.#at = index;
    return this;
  }

  /** A new id for `table`. */
  async next(table: DrawnTable): Promise<number> {
    const need = (of: DrawnTable): number => this.#needFrom[of][this.#at] ?? 0;
    if (this.#drawn === undefined)
      this.#drawn = await this.group.ids.draw(this.tx, {
        messages: need('messages'),
        interactions: need('interactions'),
        contacts: need('contacts'),
      });
    if (this.#drawn[table].length === 0)
      this.#drawn[table] = (await this.group.ids.draw(this.tx, { [table]: Math.max(1, need(table)) }))[table];
    const id = this.#drawn[table].shift();
    if (id === undefined) throw new Error(`no ${table} id was drawn`);
    return id;
  }
}

/** For each position, the sum of the counts (a flag counts 1) from there to the end. */
function suffixCounts(counts: readonly (boolean | number)[]): number[] {
  const sums = new Array<number>(counts.length + 1).fill(0);
  for (let index = counts.length - 1; index >= 0; index -= 1) {
    const count = counts[index];
    sums[index] = (sums[index + 1] ?? 0) + (typeof count === 'number' ? count : count === true ? 1 : 0);
  }
  return sums;
}
