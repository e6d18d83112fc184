/**
 * Reply drafts: an agent's unsent reply in a conversation (text, the editor's HTML, reply or reply
 * all, and the recipients once the agent changed them), one per conversation and agent. Saving replaces the
 * previous version; queuing the reply deletes it.
 */
import { z } from 'zod';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import type { Timestamp } from './schema.js';
import { toDbTime } from './time.js';

const address = z.object({ name: z.string(), address: z.string() });
const recipientsSchema = z.object({ to: z.array(address), cc: z.array(address), bcc: z.array(address) });

/** The recipients of a draft, as the agent left them. */
export type DraftRecipients = z.infer<typeof recipientsSchema>;

/** An agent's draft reply in one conversation. */
export interface ReplyDraftRecord {
  readonly interactionId: number;
  readonly userId: number;
  readonly text: string;
  /** The formatted editor's HTML; null for a plain-text draft. */
  readonly html: string | null;
  readonly replyAll: boolean;
  /** Null when the agent kept the reply's default recipients. */
  readonly recipients: DraftRecipients | null;
  readonly updatedAt: Timestamp;
}

/** What saving a draft writes. */
export interface ReplyDraftInput {
  readonly interactionId: number;
  readonly userId: number;
  readonly text: string;
  /** The formatted editor's HTML; null for a plain-text draft. */
  readonly html: string | null;
  readonly replyAll: boolean;
  readonly recipients: DraftRecipients | null;
}

/** The agent's draft in the conversation, if any. */
export async function getReplyDraft(
  db: Database,
  interactionId: number,
  userId: number,
): Promise<ReplyDraftRecord | undefined> {
  const row = await db.kysely
    .selectFrom('reply_drafts')
    .selectAll()
    .where('interaction_id', '=', interactionId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    interactionId: row.interaction_id,
    userId: row.user_id,
    text: row.text,
    html: row.html,
    replyAll: row.reply_all === 1,
    recipients:
      row.recipients === null ? null : fromJsonText(row.recipients, recipientsSchema, 'reply_drafts.recipients'),
    updatedAt: row.updated_at,
  };
}

/** Saves (creates or replaces) the agent's draft in the conversation. */
export async function saveReplyDraft(db: Database, draft: ReplyDraftInput): Promise<ReplyDraftRecord> {
  const values = {
    text: draft.text,
    html: draft.html,
    reply_all: draft.replyAll ? (1 as const) : (0 as const),
    recipients: draft.recipients === null ? null : toJsonText(draft.recipients),
    updated_at: toDbTime(db.now()),
  };
  await db.kysely
    .insertInto('reply_drafts')
    .values({ interaction_id: draft.interactionId, user_id: draft.userId, ...values })
    .onConflict((conflict) => conflict.columns(['interaction_id', 'user_id']).doUpdateSet(values))
    .execute();
  const saved = await getReplyDraft(db, draft.interactionId, draft.userId);
  if (saved === undefined)
    throw new PosternError('INTERNAL', { message: 'A reply draft just saved could not be read back.' });
  return saved;
}

/** Deletes the agent's draft in the conversation; true when there was one. */
export async function deleteReplyDraft(db: Database, interactionId: number, userId: number): Promise<boolean> {
  const result = await db.kysely
    .deleteFrom('reply_drafts')
    .where('interaction_id', '=', interactionId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** An agent with a draft in a conversation, as colleagues are told ("X is replying"). */
export interface ReplyDrafter {
  readonly userId: number;
  readonly displayName: string;
  readonly updatedAt: Timestamp;
}

/**
 * Who has a draft in the conversation saved at or after `since` (a draft older than that is
 * stale: its author stopped typing or left), oldest draft first.
 */
export async function listReplyDrafters(db: Database, interactionId: number, since: Date): Promise<ReplyDrafter[]> {
  const rows = await db.kysely
    .selectFrom('reply_drafts')
    .innerJoin('users', 'users.id', 'reply_drafts.user_id')
    .select(['reply_drafts.user_id', 'users.display_name', 'reply_drafts.updated_at'])
    .where('reply_drafts.interaction_id', '=', interactionId)
    .where('reply_drafts.updated_at', '>=', toDbTime(since))
    .orderBy('reply_drafts.updated_at')
    .execute();
  return rows.map((row) => ({ userId: row.user_id, displayName: row.display_name, updatedAt: row.updated_at }));
}
