/**
 * The agent's inbox: conversations of the accounts a user may see, their messages, raw MIME and
 * attachments, and the actions agents take (assign, close, reopen, snooze, mark read).
 *
 * A snoozed conversation stays open but leaves the Open and Mine lists until its time (at most
 * LIMITS.snoozeMaxDays ahead); then {@link InteractionService.wakeDue} (the worker role, every few
 * seconds) ends the snooze and the live stream tells the console. Mail that reopens a conversation
 * (a customer's reply) and closing it end the snooze too.
 *
 * Who sees what: administrators see every account; agents only the accounts assigned to them
 * (`account_agents`). A conversation, message or attachment of another account is "not found"
 * for an agent, so that ids reveal nothing.
 *
 * An inbound attachment's bytes are not stored apart: they are read back from the message's raw
 * MIME, parsed again (on the parse pool), and checked against the digest and size stored at ingest.
 */
import { EventEmitter } from 'node:events';
import { LIMITS } from '../../config/index.js';
import { parseSearchQuery, SearchQuerySyntaxError, type SearchQuery } from '../../domain/search-query.js';
import { PosternError } from '../../errors/index.js';
import { sharedParsePool } from '../../mail/mime/parse-pool.js';
import {
  assignInteraction,
  closeInteraction,
  createNote,
  deleteNote,
  deleteReplyDraft,
  getNote,
  getReplyDraft,
  listInteractionNotes,
  listReplyDrafters,
  updateNote,
  type NoteRecord,
  saveReplyDraft,
  type DraftRecipients,
  type ReplyDraftRecord,
  findUserById,
  userNames,
  fromDbTime,
  getContact,
  getInteraction,
  getMessage,
  getMessageRaw,
  isAccountAgent,
  listAccountAgents,
  listAgentAccountIds,
  listUsers,
  listEmailAccounts,
  listInteractionMessages,
  listInteractions,
  listOutboxByMessages,
  type OutboxRecord,
  markInteractionRead,
  reopenInteraction,
  snoozeInteraction,
  wakeSnoozedInteractions,
  requireVisibleEmailAccount,
  type AttachmentContent,
  type ContactRecord,
  type Database,
  type InteractionPage,
  type InteractionRecord,
  type InteractionStatus,
  type MessageRecord,
  type UserRole,
} from '../../store/index.js';
import type { ParseFunction } from '../inbound/ingest-message.js';
import { readAttachmentContent } from './attachment-content.js';

/** Who is asking; the HTTP layer's Principal satisfies it. */
export interface Viewer {
  readonly userId: number;
  readonly role: UserRole;
}

/** Filters of a conversation list. `assigned`: `me`, `none` or a user id. */
export interface InteractionListQuery {
  readonly status?: InteractionStatus | undefined;
  readonly assigned?: 'me' | 'none' | number | undefined;
  readonly contactId?: number | undefined;
  /** Snoozed conversations: `hide` those snoozed until later, or list `only` them. Default both. */
  readonly snoozed?: 'hide' | 'only' | undefined;
  readonly q?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit?: number | undefined;
}

/** A conversation with the display name of its assigned user (null when unassigned). */
export interface NamedInteraction {
  readonly interaction: InteractionRecord;
  readonly assignedUserName: string | null;
}

/** A user a conversation of the account can be assigned to. */
export interface Assignee {
  readonly id: number;
  readonly username: string;
  readonly displayName: string;
  readonly role: UserRole;
}

/** A colleague writing a reply: "X is replying", for `expiresInMs` more unless they save again. */
export interface Replying {
  readonly userId: number;
  readonly displayName: string;
  readonly expiresInMs: number;
}

/** A conversation with its contact, messages and internal notes, oldest first. */
export interface InteractionDetail {
  readonly interaction: InteractionRecord;
  readonly assignedUserName: string | null;
  readonly contact: ContactRecord | undefined;
  readonly messages: MessageRecord[];
  /** The outbox rows of its outbound messages, by message id: attempts, next try, the server's reply. */
  readonly outbox: ReadonlyMap<number, OutboxRecord>;
  /** The display names of the outbound messages' authors, by user id. */
  readonly authorNames: ReadonlyMap<number, string>;
  readonly notes: NoteRecord[];
  /** Colleagues writing a reply now (a fresh draft), the viewer left out. */
  readonly replying: Replying[];
}

/** A message's raw MIME, for download. */
export interface RawMessage {
  readonly messageId: number;
  readonly raw: Buffer;
}

/** Snoozes ended per statement by {@link InteractionService.wakeDue}. */
const SNOOZE_WAKE_BATCH = 500;

/** Options of {@link InteractionService}. */
export interface InteractionServiceOptions {
  /** How raw MIME is parsed to read an inbound attachment back; default the process's parse pool. */
  readonly parse?: ParseFunction;
}

/** A conversation changed by a person: closed or reopened, assigned, or read. */
export interface InteractionChange {
  readonly accountId: number;
  readonly interactionId: number;
  readonly change: 'status' | 'assignment' | 'read' | 'note' | 'snooze' | 'replying' | 'contact';
}

/** Conversations for agents and administrators; see the module comment. */
export class InteractionService {
  /** Emits `changed` after an action on a conversation is committed (the live stream follows it). */
  readonly changes = new EventEmitter<{ changed: [InteractionChange] }>();
  private readonly parse: ParseFunction;

  constructor(
    private readonly db: Database,
    options: InteractionServiceOptions = {},
  ) {
    this.parse = options.parse ?? ((raw) => sharedParsePool().parse(raw));
  }

  /**
   * Conversations of one account, newest activity first, with a cursor to the next page; `q` is a
   * full-text search (domain/search-query.ts) over every status unless `status` is given.
   *
   * @throws PosternError RESOURCE_NOT_FOUND for an unknown account and, worded the same, for an
   *   account not assigned to the agent; VALIDATION_FAILED for a search that cannot be read.
   */
  async list(viewer: Viewer, accountId: number, query: InteractionListQuery = {}): Promise<InteractionPage> {
    await this.requireAccount(viewer, accountId);
    const search = query.q === undefined ? undefined : readSearch(query.q);
    const assigned = query.assigned === 'me' ? viewer.userId : query.assigned === 'none' ? null : query.assigned;
    return listInteractions(this.db, {
      accountIds: [accountId],
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(assigned === undefined ? {} : { assignedUserId: assigned }),
      ...(query.contactId === undefined ? {} : { contactId: query.contactId }),
      ...(query.snoozed === undefined ? {} : { snoozed: query.snoozed }),
      ...(search === undefined ? {} : { search }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    });
  }

  /** The ids of the accounts the viewer may see. */
  async visibleAccountIds(viewer: Viewer): Promise<number[]> {
    if (viewer.role === 'admin') return (await listEmailAccounts(this.db)).map((account) => account.id);
    return listAgentAccountIds(this.db, viewer.userId);
  }

  /** A conversation with its messages. @throws PosternError RESOURCE_NOT_FOUND */
  async get(viewer: Viewer, id: number): Promise<InteractionDetail> {
    const interaction = await this.requireInteraction(viewer, id);
    const [contact, messages, notes, named, replying] = await Promise.all([
      getContact(this.db, interaction.contactId),
      listInteractionMessages(this.db, id),
      listInteractionNotes(this.db, id),
      this.named(interaction),
      this.replying(viewer, id),
    ]);
    const outbound = messages.filter((message) => message.direction === 'out').map((message) => message.id);
    const [outboxRows, authorNames] = await Promise.all([
      outbound.length === 0 ? [] : listOutboxByMessages(this.db, outbound),
      userNames(
        this.db,
        messages.flatMap((message) => (message.authorUserId === null ? [] : [message.authorUserId])),
      ),
    ]);
    const outbox = new Map(outboxRows.map((row) => [row.messageId, row]));
    return {
      interaction,
      assignedUserName: named.assignedUserName,
      contact,
      messages,
      outbox,
      authorNames,
      notes,
      replying,
    };
  }

  /** A conversation with its assignee's name, as an action's answer shows it. */
  async named(interaction: InteractionRecord): Promise<NamedInteraction> {
    const user =
      interaction.assignedUserId === null ? undefined : await findUserById(this.db, interaction.assignedUserId);
    return { interaction, assignedUserName: user?.displayName ?? null };
  }

  /**
   * Who a conversation of the account can be assigned to: its agents and the administrators,
   * active ones only, by name.
   *
   * @throws PosternError RESOURCE_NOT_FOUND for an account the viewer cannot see.
   */
  async assignees(viewer: Viewer, accountId: number): Promise<Assignee[]> {
    await this.requireAccount(viewer, accountId);
    const agentIds = new Set(await listAccountAgents(this.db, accountId));
    return (await listUsers(this.db))
      .filter((user) => !user.disabled && (user.role === 'admin' || agentIds.has(user.id)))
      .map((user) => ({ id: user.id, username: user.username, displayName: user.displayName, role: user.role }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.id - b.id);
  }

  /** A message's raw MIME. @throws PosternError RESOURCE_NOT_FOUND */
  async raw(viewer: Viewer, messageId: number): Promise<RawMessage> {
    await this.requireMessage(viewer, messageId);
    return { messageId, raw: await getMessageRaw(this.db, messageId) };
  }

  /**
   * An attachment with its content: stored in its row, or read back from the raw MIME.
   *
   * @throws PosternError RESOURCE_NOT_FOUND; STORE_ATTACHMENT_MISMATCH when the raw MIME no longer
   *   yields the bytes stored at ingest (never other bytes in their place).
   */
  async attachment(viewer: Viewer, messageId: number, attachmentId: number): Promise<AttachmentContent> {
    await this.requireMessage(viewer, messageId);
    return readAttachmentContent(this.db, this.parse, messageId, attachmentId);
  }

  /**
   * Assigns a conversation to a user who can see its account (an administrator, or an agent of
   * the account), or unassigns it with null.
   *
   * @throws PosternError RESOURCE_NOT_FOUND; VALIDATION_FAILED when the user cannot see the account.
   */
  async assign(viewer: Viewer, id: number, userId: number | null, note?: string): Promise<InteractionRecord> {
    const interaction = await this.requireInteraction(viewer, id);
    const user = userId === null ? undefined : await findUserById(this.db, userId);
    if (userId !== null) {
      const allowed =
        user !== undefined &&
        !user.disabled &&
        (user.role === 'admin' || (await isAccountAgent(this.db, interaction.accountId, userId)));
      if (!allowed) {
        throw new PosternError('VALIDATION_FAILED', {
          message: `User ${userId} cannot be assigned: only administrators and agents of this account can.`,
          details: { in: 'body', fields: [{ field: 'userId', problem: 'is not an active agent of this account' }] },
        });
      }
    }
    if (note === undefined) return this.announce(await assignInteraction(this.db, id, userId), 'assignment');
    // A transfer with a note: both or neither, and the note says who it went to.
    const to = user === undefined ? 'Unassigned' : `Assigned to ${user.displayName}`;
    const assigned = await this.db.transaction(async (tx) => {
      const row = await assignInteraction(tx, id, userId);
      await createNote(tx, { interactionId: id, authorUserId: viewer.userId, body: `${to}: ${note}` });
      return row;
    });
    this.announce(assigned, 'note');
    return this.announce(assigned, 'assignment');
  }

  /** The viewer's own draft reply in the conversation, or null. @throws PosternError RESOURCE_NOT_FOUND */
  async draft(viewer: Viewer, id: number): Promise<ReplyDraftRecord | null> {
    await this.requireInteraction(viewer, id);
    return (await getReplyDraft(this.db, id, viewer.userId)) ?? null;
  }

  /**
   * Saves the viewer's draft reply in the conversation (the composer does while the agent types).
   * Each agent has their own: two agents drafting in one conversation never overwrite each other.
   *
   * @throws PosternError RESOURCE_NOT_FOUND
   */
  async saveDraft(
    viewer: Viewer,
    id: number,
    draft: { text: string; html: string | null; replyAll: boolean; recipients: DraftRecipients | null },
  ): Promise<ReplyDraftRecord> {
    const interaction = await this.requireInteraction(viewer, id);
    const before = await getReplyDraft(this.db, id, viewer.userId);
    const saved = await saveReplyDraft(this.db, { interactionId: id, userId: viewer.userId, ...draft });
    // Colleagues learn that the agent is replying when the draft starts, and again once per
    // `replyingAnnounceMs` period of typing (the save that enters a new period) so that their
    // indicator never lapses — not at every save, which follows the keystrokes. Nothing to remember:
    // the previous save's time says it, whichever node took it.
    const period = (at: string): number => Math.floor(fromDbTime(at).getTime() / LIMITS.replyingAnnounceMs);
    if (before === undefined || period(before.updatedAt) !== period(saved.updatedAt))
      this.announce(interaction, 'replying');
    return saved;
  }

  /** Deletes the viewer's draft reply in the conversation. @throws PosternError RESOURCE_NOT_FOUND */
  async deleteDraft(viewer: Viewer, id: number): Promise<void> {
    const interaction = await this.requireInteraction(viewer, id);
    if (await deleteReplyDraft(this.db, id, viewer.userId)) this.announce(interaction, 'replying');
  }

  /**
   * Colleagues writing a reply in the conversation now: a draft saved within
   * `LIMITS.replyingFreshMs`, the viewer's own left out. Derived from the drafts the composer saves
   * anyway, so that it holds across nodes and costs nothing per keystroke; when a reply is queued
   * its draft goes, and the delivery's live event has viewers read this again.
   */
  private async replying(viewer: Viewer, id: number): Promise<Replying[]> {
    const now = this.db.now().getTime();
    const drafters = await listReplyDrafters(this.db, id, new Date(now - LIMITS.replyingFreshMs));
    return drafters
      .filter((drafter) => drafter.userId !== viewer.userId)
      .map((drafter) => ({
        userId: drafter.userId,
        displayName: drafter.displayName,
        expiresInMs: Math.max(0, fromDbTime(drafter.updatedAt).getTime() + LIMITS.replyingFreshMs - now),
      }));
  }

  /**
   * Adds an internal note to the conversation. A note is never sent: it is no message, has no
   * outbox row and no webhook event; the live stream announces it to the agents of the account.
   *
   * @throws PosternError RESOURCE_NOT_FOUND
   */
  async addNote(viewer: Viewer, id: number, body: string): Promise<NoteRecord> {
    const interaction = await this.requireInteraction(viewer, id);
    const note = await createNote(this.db, { interactionId: id, authorUserId: viewer.userId, body });
    this.announce(interaction, 'note');
    return note;
  }

  /**
   * Changes the text of a note.
   *
   * @throws PosternError RESOURCE_NOT_FOUND (also for a note of a conversation the viewer cannot
   *   see); NOTE_NOT_AUTHOR for someone else's note, unless the viewer is an administrator.
   */
  async editNote(viewer: Viewer, noteId: number, body: string): Promise<NoteRecord> {
    const interaction = await this.requireOwnNote(viewer, noteId);
    const note = await updateNote(this.db, noteId, body);
    if (note === undefined) throw noteNotFound(noteId);
    this.announce(interaction, 'note');
    return note;
  }

  /** Deletes a note. @throws PosternError as {@link editNote} does. */
  async removeNote(viewer: Viewer, noteId: number): Promise<void> {
    const interaction = await this.requireOwnNote(viewer, noteId);
    if (!(await deleteNote(this.db, noteId))) throw noteNotFound(noteId);
    this.announce(interaction, 'note');
  }

  private async requireOwnNote(viewer: Viewer, noteId: number): Promise<InteractionRecord> {
    const note = await getNote(this.db, noteId);
    if (note === undefined) throw noteNotFound(noteId);
    const interaction = await getInteraction(this.db, note.interactionId);
    if (interaction === undefined || !(await this.canSee(viewer, interaction.accountId))) throw noteNotFound(noteId);
    if (viewer.role !== 'admin' && note.authorUserId !== viewer.userId) {
      throw new PosternError('NOTE_NOT_AUTHOR', {
        message: `Note ${noteId} was written by ${note.authorName ?? 'a deleted user'}: only its author or an administrator may change or delete it.`,
        details: { resource: 'note', id: noteId },
      });
    }
    return interaction;
  }

  /** Closes a conversation. @throws PosternError RESOURCE_NOT_FOUND */
  async close(viewer: Viewer, id: number): Promise<InteractionRecord> {
    await this.requireInteraction(viewer, id);
    return this.announce(await closeInteraction(this.db, id), 'status');
  }

  /** Reopens a conversation. @throws PosternError RESOURCE_NOT_FOUND */
  async reopen(viewer: Viewer, id: number): Promise<InteractionRecord> {
    await this.requireInteraction(viewer, id);
    return this.announce(await reopenInteraction(this.db, id), 'status');
  }

  /**
   * Snoozes an open conversation until `until` (in the future, at most LIMITS.snoozeMaxDays
   * ahead), or ends its snooze with null.
   *
   * @throws PosternError RESOURCE_NOT_FOUND; INTERACTION_NOT_OPEN for a closed conversation;
   *   VALIDATION_FAILED for a time past or too far.
   */
  async snooze(viewer: Viewer, id: number, until: Date | null): Promise<InteractionRecord> {
    const interaction = await this.requireInteraction(viewer, id);
    if (until !== null) {
      if (interaction.status !== 'open') {
        throw new PosternError('INTERACTION_NOT_OPEN', {
          message: `Conversation ${id} is closed: only an open conversation can be snoozed.`,
          details: { resource: 'interaction', id },
        });
      }
      const now = this.db.now().getTime();
      const problem =
        until.getTime() <= now
          ? 'is not in the future'
          : until.getTime() > now + LIMITS.snoozeMaxDays * 86_400_000
            ? `is more than ${LIMITS.snoozeMaxDays} days ahead`
            : undefined;
      if (problem !== undefined) {
        throw new PosternError('VALIDATION_FAILED', {
          message: `A conversation can be snoozed until a time within the next ${LIMITS.snoozeMaxDays} days: ${until.toISOString()} ${problem}.`,
          details: { in: 'body', fields: [{ field: 'until', problem }] },
        });
      }
    }
    return this.announce(await snoozeInteraction(this.db, id, until), 'snooze');
  }

  /**
   * Ends the snoozes whose time has come and tells the live stream of each; returns how many.
   * Several nodes may run it at once: each conversation wakes once.
   */
  async wakeDue(): Promise<number> {
    let woken = 0;
    for (;;) {
      const batch = await wakeSnoozedInteractions(this.db, SNOOZE_WAKE_BATCH);
      for (const { id, accountId } of batch) {
        this.changes.emit('changed', { accountId, interactionId: id, change: 'snooze' });
      }
      woken += batch.length;
      if (batch.length < SNOOZE_WAKE_BATCH) return woken;
    }
  }

  /** Marks a conversation's messages read. @throws PosternError RESOURCE_NOT_FOUND */
  async markRead(viewer: Viewer, id: number): Promise<InteractionRecord> {
    await this.requireInteraction(viewer, id);
    return this.announce(await markInteractionRead(this.db, id), 'read');
  }

  private announce(interaction: InteractionRecord, change: InteractionChange['change']): InteractionRecord {
    this.changes.emit('changed', { accountId: interaction.accountId, interactionId: interaction.id, change });
    return interaction;
  }

  private async requireAccount(viewer: Viewer, accountId: number): Promise<void> {
    await requireVisibleEmailAccount(this.db, accountId, viewer.role === 'admin' ? undefined : viewer.userId);
  }

  private async canSee(viewer: Viewer, accountId: number): Promise<boolean> {
    return viewer.role === 'admin' || isAccountAgent(this.db, accountId, viewer.userId);
  }

  private async requireInteraction(viewer: Viewer, id: number): Promise<InteractionRecord> {
    const interaction = await getInteraction(this.db, id);
    if (interaction === undefined || !(await this.canSee(viewer, interaction.accountId))) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no interaction ${id}.`,
        details: { resource: 'interaction', id },
      });
    }
    return interaction;
  }

  private async requireMessage(viewer: Viewer, id: number): Promise<MessageRecord> {
    const message = await getMessage(this.db, id);
    if (message === undefined || !(await this.canSee(viewer, message.accountId))) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no message ${id}.`,
        details: { resource: 'message', id },
      });
    }
    return message;
  }
}

function noteNotFound(id: number): PosternError {
  return new PosternError('RESOURCE_NOT_FOUND', {
    message: `There is no note ${id}.`,
    details: { resource: 'note', id },
  });
}

/**
 * A search query read (domain/search-query.ts), or undefined for an empty one.
 *
 * @throws PosternError VALIDATION_FAILED saying what is wrong with it.
 */
function readSearch(q: string): SearchQuery | undefined {
  try {
    return parseSearchQuery(q, { maxLength: LIMITS.searchQueryMaxChars, maxTerms: LIMITS.searchQueryMaxTerms });
  } catch (error) {
    if (!(error instanceof SearchQuerySyntaxError)) throw error;
    throw new PosternError('VALIDATION_FAILED', {
      message: `The search cannot be read: ${error.message}`,
      details: { in: 'query', fields: [{ field: 'q', problem: error.message }] },
    });
  }
}
