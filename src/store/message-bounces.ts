/**
 * Non-delivery reports attached to the outgoing message they report on: one entry per recipient,
 * the latest report winning (a `delayed` followed by `failed` ends as `failed`).
 */
import { z } from 'zod';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import type { JsonText } from './schema.js';

/** What a report said about one recipient of an outgoing message. */
export interface StoredBounce {
  readonly address: string;
  /** `failed`, `delayed`, … as the report says (lower-case). */
  readonly action: string;
  readonly status: string | null;
  readonly diagnostic: string | null;
  /** When the report was stored (ISO 8601). */
  readonly at: string;
  /** The stored report (a message of the conversation). */
  readonly reportId: number;
}

/** At most this many recipients are kept per message. */
const MAX_BOUNCES = 100;

const bounceList = z.array(
  z.object({
    address: z.string(),
    action: z.string(),
    status: z.string().nullable(),
    diagnostic: z.string().nullable(),
    at: z.string(),
    reportId: z.number().int(),
  }),
);

/** The stored list, [] when there is none. */
export function readBounces(text: JsonText | null): StoredBounce[] {
  return text === null ? [] : fromJsonText(text, bounceList, 'messages.bounces_json');
}

/** The id of the account's outgoing message with this Message-ID, if Postern sent it. */
export async function findOutgoingMessage(
  db: Database,
  accountId: number,
  messageId: string,
): Promise<number | undefined> {
  const row = await db.kysely
    .selectFrom('messages')
    .select('id')
    .where('account_id', '=', accountId)
    .where('message_id', '=', messageId)
    .where('direction', '=', 'out')
    .executeTakeFirst();
  return row?.id;
}

/** Adds what a report said to an outgoing message (one entry per address, the newest kept); returns the list. */
export async function recordMessageBounces(
  db: Database,
  messageRowId: number,
  reported: readonly StoredBounce[],
): Promise<StoredBounce[]> {
  const row = await db.kysely
    .selectFrom('messages')
    .select('bounces_json')
    .where('id', '=', messageRowId)
    .executeTakeFirst();
  const merged = new Map(readBounces(row?.bounces_json ?? null).map((b) => [b.address.toLowerCase(), b]));
  for (const bounce of reported) merged.set(bounce.address.toLowerCase(), bounce);
  const list = [...merged.values()].slice(-MAX_BOUNCES);
  await db.kysely
    .updateTable('messages')
    .set({ bounces_json: toJsonText(list) })
    .where('id', '=', messageRowId)
    .execute();
  return list;
}
