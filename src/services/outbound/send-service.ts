/**
 * Where an outgoing message becomes durable. A reply to a conversation, a forward of one of its
 * messages (with the original's attachments, read from the store), or a new message from an
 * account, is checked (every refusal names its field), built once as MIME, and stored together
 * with its outbox row in ONE transaction; the caller gets its id and state `queued`, and the
 * dispatcher sends it. An `Idempotency-Key` makes a retried request return the first message
 * instead of queuing a second one. Retry and cancel move a message between the outbox states.
 *
 * Agents may send only from the accounts assigned to them; administrators from any.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322 (the message), https://www.rfc-editor.org/rfc/rfc3834 (Auto-Submitted)
 * @see ../../../shared/BRIEF.md flow 4 "Send"
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  checkOutboundAddress,
  domainOf,
  type AddressInput,
  type OutboundAddress,
} from '../../domain/outbound-address.js';
import { normalizeSubject, tokenCheckFromBytes } from '../../domain/subject.js';
import { PosternError } from '../../errors/index.js';
import { sharedParsePool } from '../../mail/mime/parse-pool.js';
import {
  composeMessage,
  newMessageId,
  sanitizeOutgoingHtml,
  withTextAlternative,
  type AutoSubmitted,
  type ComposeAttachment,
} from '../../mail/mime/compose.js';
import { splitHeader, readHeaderFields } from '../../mail/mime/raw-headers.js';
import { threadIndexFor } from '../../mail/mime/thread-index.js';
import {
  appendEvent,
  completeIdempotencyKey,
  countOutboxStates,
  countSendingUsage,
  updateSendingSettings,
  createContact,
  assignInteractionIfUnassigned,
  closeInteraction,
  createInteraction,
  deleteReplyDraft,
  findContactByAddress,
  findContactFirstAddress,
  findLatestMessage,
  getMessageRaw,
  getOutboxByMessage,
  getSendingHold,
  getSendingSettings,
  insertOutboxRow,
  insertOutgoingMessage,
  isAccountAgent,
  findOrCreateFallbackList,
  recordInteractionActivity,
  requeueOutbox,
  cancelOutbox,
  requireEmailAccount,
  requireInteraction,
  requireMessage,
  reserveIdempotencyKey,
  type Database,
  type EmailAccountRecord,
  type InteractionRecord,
  type MessageRecord,
  type OutboxRecord,
  type OutboxState,
  type SendingHold,
  type SendingSettings,
  type SendingSettingsChanges,
  type StoredAddress,
  userNames,
} from '../../store/index.js';
import { z } from 'zod';
import type { Viewer } from '../accounts/account-service.js';
import type { ParseFunction } from '../inbound/ingest-message.js';
import { carriedAttachments, forwardedMessage } from './forwarded-message.js';
import {
  checkAddressList,
  checkAttachments,
  FieldProblems,
  forwardParent,
  forwardSubject,
  quoteParent,
  replyRecipients,
  replySubject,
  requestDigest,
  storedAddresses,
  subjectWithToken,
  threadReferences,
  type AttachmentInput,
} from './outgoing-draft.js';

/** Body fields shared by replies and new messages. */
export interface BodyInput {
  readonly text?: string | null;
  readonly html?: string | null;
  readonly attachments?: readonly AttachmentInput[];
  /** RFC 3834: `no` for a person's message (default); `auto-generated` / `auto-replied` for machines. */
  readonly autoSubmitted?: AutoSubmitted;
}

/** A reply to a conversation. */
export interface ReplyInput extends BodyInput {
  readonly replyAll?: boolean;
  /** Quote the message answered below the new text. */
  readonly quote?: boolean;
  /** The message answered (of this conversation); default its latest inbound message. */
  readonly inReplyToMessageId?: number;
  /** Close the conversation once the reply is queued ("Send and close"). */
  readonly close?: boolean;
  /** Replace the computed recipients. */
  readonly to?: readonly AddressInput[];
  readonly cc?: readonly AddressInput[];
  readonly bcc?: readonly AddressInput[];
}

/** A forward of a message of a conversation, recorded in that conversation. */
export interface ForwardInput extends BodyInput {
  /** The message forwarded (of this conversation); default its latest message. */
  readonly messageId?: number;
  readonly to: readonly AddressInput[];
  readonly cc?: readonly AddressInput[];
  readonly bcc?: readonly AddressInput[];
  /** Default `Fw: <the forwarded message's topic>`; the conversation's reference is added either way. */
  readonly subject?: string;
  /**
   * The forwarded message's attachments that go with it (ids of its attachments); default all
   * those shown as files (not the inline images of its HTML). `[]` forwards none.
   */
  readonly attachmentIds?: readonly number[];
}

/** Who a reply goes to by default. */
export interface ReplyRecipients {
  readonly to: StoredAddress[];
  readonly cc: StoredAddress[];
}

/** A new message from an account. */
export interface NewMessageInput extends BodyInput {
  readonly to: readonly AddressInput[];
  readonly cc?: readonly AddressInput[];
  readonly bcc?: readonly AddressInput[];
  readonly subject: string;
  /** Add it to this conversation of the account; default a new conversation with the first recipient. */
  readonly interactionId?: number;
}

/** Who sends, and the idempotency key of the request if any. */
export interface SendCaller {
  readonly viewer: Viewer;
  readonly idempotencyKey?: string;
}

/** The answer to a send request. */
export interface QueuedMessage {
  readonly id: number;
  readonly interactionId: number;
  readonly messageId: string;
  readonly state: string;
  /** True when an Idempotency-Key matched an earlier request: nothing new was queued. */
  readonly replayed: boolean;
}

/** A message with its outbox row, for GET and after retry/cancel. */
export interface OutgoingView {
  readonly message: MessageRecord;
  readonly outbox: OutboxRecord | null;
  /** The display name of the user who wrote it (null when none, or deleted). */
  readonly authorName: string | null;
}

/** An account's sending settings and what it uses of them now. */
export interface SendingView {
  readonly settings: SendingSettings;
  readonly usage: { readonly messagesLastMinute: number; readonly recipientsLastDay: number };
  readonly outbox: Record<OutboxState, number>;
  /** Why and until when the account's sending is held (Exchange's sender throttling); null when it is not. */
  readonly hold: SendingHold | null;
}

interface Draft {
  readonly account: EmailAccountRecord;
  readonly interaction: InteractionRecord | { readonly create: { readonly contact: OutboundAddress } };
  readonly parent: MessageRecord | undefined;
  readonly subject: string;
  readonly to: OutboundAddress[];
  readonly cc: OutboundAddress[];
  readonly bcc: OutboundAddress[];
  readonly text: string | null;
  readonly html: string | null;
  readonly attachments: ComposeAttachment[];
  readonly autoSubmitted: AutoSubmitted;
  readonly replyTo: boolean;
}

const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** The answer stored under an idempotency key. */
const queuedAnswer = z.object({ id: z.number(), interactionId: z.number(), messageId: z.string(), state: z.string() });
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Replies, new messages, retry, cancel and the delivery view. */
export class SendService {
  /**
   * Emits `queued` after a message (or a retry) is committed, so that a dispatcher can wake, and
   * `cancelled` after a cancel is (the live stream follows both).
   */
  readonly events = new EventEmitter<{ queued: [number]; cancelled: [number] }>();

  constructor(
    private readonly db: Database,
    private readonly random: (size: number) => Uint8Array = randomBytes,
    /** How raw MIME is parsed to read a forwarded inbound attachment back; default the parse pool. */
    private readonly parse: ParseFunction = (raw) => sharedParsePool().parse(raw),
  ) {}

  /**
   * The recipients a reply (or reply all) would go to if the caller named none: the composer
   * shows them so that an agent sees, and may change, exactly who receives the reply. Reply all
   * leaves out the account's own addresses.
   */
  async replyRecipients(viewer: Viewer, interactionId: number, replyAll: boolean): Promise<ReplyRecipients> {
    const interaction = await requireInteraction(this.db, interactionId);
    const account = await this.sendingAccount(viewer, interaction.accountId, {
      resource: 'interaction',
      id: interactionId,
    });
    const parent = await this.parentOf(interaction, undefined, new FieldProblems());
    const computed =
      parent === undefined ? { to: [], cc: [] } : replyRecipients(parent, ownAddresses(account), replyAll);
    const to = computed.to.length === 0 ? await this.contactAddress(interaction) : computed.to;
    const checked = (inputs: readonly AddressInput[]): OutboundAddress[] =>
      inputs.flatMap((input) => {
        const result = checkOutboundAddress(input);
        return result.ok ? [result.value] : [];
      });
    return { to: storedAddresses(checked(to)), cc: storedAddresses(checked(computed.cc)) };
  }

  /** Checks one address as a send request would, so that a composer refuses it as it is typed. */
  checkRecipient(input: AddressInput): { ok: true; address: StoredAddress } | { ok: false; problem: string } {
    const result = checkOutboundAddress(input);
    return result.ok ? { ok: true, address: storedAddresses([result.value])[0] ?? { name: '', address: '' } } : result;
  }

  /** Queues a reply to a conversation. */
  async reply(caller: SendCaller, interactionId: number, input: ReplyInput): Promise<QueuedMessage> {
    const interaction = await requireInteraction(this.db, interactionId);
    const account = await this.sendingAccount(caller.viewer, interaction.accountId, {
      resource: 'interaction',
      id: interactionId,
    });
    const problems = new FieldProblems();
    const parent = await this.parentOf(interaction, input.inReplyToMessageId, problems);
    if (
      (input.autoSubmitted ?? 'no') !== 'no' &&
      parent !== undefined &&
      (parent.isAutoReply || parent.isBounce || parent.isList)
    ) {
      problems.add(
        'autoSubmitted',
        'an automatic reply to an automatic reply, a bounce or list mail is refused: it could start a mail loop (RFC 3834 §2)',
      );
    }
    const computed =
      parent === undefined
        ? { to: [], cc: [] }
        : replyRecipients(parent, ownAddresses(account), input.replyAll === true);
    const toInput = input.to ?? (computed.to.length > 0 || parent !== undefined ? computed.to : []);
    const subject = replySubject(parent?.subject ?? interaction.subject, interaction.subject, interaction.subjectToken);
    const own = withTextAlternative(input);
    const quoted = input.quote === true && parent !== undefined ? quoteParent(own, parent) : own;
    const draft = await this.draft(account, problems, {
      interaction,
      parent,
      subject,
      to: toInput.length === 0 ? await this.contactAddress(interaction) : toInput,
      cc: input.cc ?? computed.cc,
      bcc: input.bcc ?? [],
      body: { ...input, ...quoted },
    });
    return this.queue(caller, draft, requestDigest(['reply', interactionId, input]), {
      reply: true,
      close: input.close === true,
    });
  }

  /**
   * Queues a forward of a message of the conversation to new recipients: the original below the
   * agent's text as a forwarded block, its attachments carried (read from the store, not sent
   * again by the caller), threaded in the conversation by References (not In-Reply-To: nobody is
   * answered). Forwarding an unassigned conversation assigns it to its author, as a reply does.
   */
  async forward(caller: SendCaller, interactionId: number, input: ForwardInput): Promise<QueuedMessage> {
    const interaction = await requireInteraction(this.db, interactionId);
    const account = await this.sendingAccount(caller.viewer, interaction.accountId, {
      resource: 'interaction',
      id: interactionId,
    });
    const problems = new FieldProblems();
    if (input.to.length === 0) problems.add('to', 'name at least one recipient');
    const original = await forwardedMessage(this.db, interaction, input.messageId, problems);
    // Without the message forwarded, nothing else can be checked sensibly.
    if (original === undefined) problems.throwIfAny();
    const carried =
      original === undefined
        ? []
        : await carriedAttachments(this.db, this.parse, original, input.attachmentIds, problems);
    const own = withTextAlternative(input);
    const draft = await this.draft(account, problems, {
      interaction,
      parent: original,
      subject: input.subject ?? forwardSubject(original?.subject ?? '', interaction.subject, interaction.subjectToken),
      to: input.to,
      cc: input.cc ?? [],
      bcc: input.bcc ?? [],
      body: { ...input, ...(original === undefined ? own : forwardParent(own, original)) },
      carried,
      answers: false,
    });
    return this.queue(caller, draft, requestDigest(['forward', interactionId, input]), { assign: true });
  }

  /** Queues a new message from an account. */
  async send(caller: SendCaller, accountId: number, input: NewMessageInput): Promise<QueuedMessage> {
    const account = await this.sendingAccount(caller.viewer, accountId, { resource: 'email_account', id: accountId });
    const problems = new FieldProblems();
    let interaction: InteractionRecord | undefined;
    if (input.interactionId !== undefined) {
      interaction = await requireInteraction(this.db, input.interactionId).catch(() => undefined);
      if (interaction === undefined || interaction.accountId !== accountId)
        problems.add('interactionId', `there is no conversation ${input.interactionId} on this account`);
    }
    if (input.to.length === 0) problems.add('to', 'name at least one recipient');
    const latest = interaction === undefined ? undefined : await findLatestMessage(this.db, interaction.id);
    const parent = latest === undefined ? undefined : await requireMessage(this.db, latest);
    const draft = await this.draft(account, problems, {
      interaction: interaction ?? 'new',
      parent,
      subject: input.subject,
      to: input.to,
      cc: input.cc ?? [],
      bcc: input.bcc ?? [],
      body: { ...input, ...withTextAlternative(input) },
      subjectField: 'subject',
    });
    return this.queue(caller, draft, requestDigest(['send', accountId, input]));
  }

  /** Queues a failed or cancelled message again. */
  async retry(viewer: Viewer, messageId: number): Promise<OutgoingView> {
    const message = await this.visibleMessage(viewer, messageId);
    await this.db.transaction(async (tx) => {
      const row = await requeueOutbox(tx, messageId, tx.now());
      await appendEvent(tx, {
        scope: 'message',
        scopeId: messageId,
        type: 'message.requeued',
        message: 'The message was queued again by a person.',
        data: { outboxId: row.id, userId: viewer.userId },
      });
    });
    this.events.emit('queued', message.id);
    return this.get(viewer, messageId);
  }

  /** Cancels a queued message. */
  async cancel(viewer: Viewer, messageId: number): Promise<OutgoingView> {
    await this.visibleMessage(viewer, messageId);
    await this.db.transaction(async (tx) => {
      const row = await cancelOutbox(tx, messageId, tx.now());
      await appendEvent(tx, {
        scope: 'message',
        scopeId: messageId,
        type: 'message.cancelled',
        message: 'The message was cancelled before it was sent.',
        data: { outboxId: row.id, userId: viewer.userId },
      });
    });
    this.events.emit('cancelled', messageId);
    return this.get(viewer, messageId);
  }

  /** An account's sending settings, usage and outbox counts. */
  async sendingView(viewer: Viewer, accountId: number): Promise<SendingView> {
    const account = await requireEmailAccount(this.db, accountId);
    if (viewer.role !== 'admin' && !(await isAccountAgent(this.db, accountId, viewer.userId))) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no email account ${accountId}.`,
        details: { resource: 'email_account', id: accountId },
      });
    }
    const usage = await countSendingUsage(this.db, account.id, this.db.now());
    return {
      settings: await getSendingSettings(this.db, account.id),
      usage: { messagesLastMinute: usage.messagesInWindow, recipientsLastDay: usage.recipientsInWindow },
      outbox: await countOutboxStates(this.db, account.id),
      hold: await getSendingHold(this.db, account.id, this.db.now()),
    };
  }

  /** Changes an account's sending settings (administrators). */
  async updateSending(viewer: Viewer, accountId: number, changes: SendingSettingsChanges): Promise<SendingView> {
    await this.db.transaction(async (tx) => {
      const settings = await updateSendingSettings(tx, accountId, changes);
      await appendEvent(tx, {
        scope: 'account',
        scopeId: accountId,
        type: 'account.sending_settings_changed',
        message: `Sending settings changed: ${settings.sendPerMinute} messages a minute, ${settings.recipientsPerDay} recipients a day, ${settings.concurrency} at once, ${settings.maxRecipientsPerMessage} recipients and ${formatBytes(settings.maxMessageBytes)} per message, retries for ${settings.retryForHours} hours.`,
        data: { userId: viewer.userId, ...changes },
      });
    });
    this.events.emit('queued', 0);
    return this.sendingView(viewer, accountId);
  }

  /** A message with its delivery state. */
  async get(viewer: Viewer, messageId: number): Promise<OutgoingView> {
    const message = await this.visibleMessage(viewer, messageId);
    const [outbox, authors] = await Promise.all([
      getOutboxByMessage(this.db, messageId),
      userNames(this.db, message.authorUserId === null ? [] : [message.authorUserId]),
    ]);
    const authorName = message.authorUserId === null ? null : (authors.get(message.authorUserId) ?? null);
    return { message, outbox: outbox ?? null, authorName };
  }

  private async visibleMessage(viewer: Viewer, messageId: number): Promise<MessageRecord> {
    const message = await requireMessage(this.db, messageId);
    if (viewer.role !== 'admin' && !(await isAccountAgent(this.db, message.accountId, viewer.userId))) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no message ${messageId}.`,
        details: { resource: 'message', id: messageId },
      });
    }
    return message;
  }

  /** The account, if the caller may send from it and it is enabled. */
  private async sendingAccount(
    viewer: Viewer,
    accountId: number,
    what: { resource: string; id: number },
  ): Promise<EmailAccountRecord> {
    const account = await requireEmailAccount(this.db, accountId);
    if (viewer.role !== 'admin' && !(await isAccountAgent(this.db, accountId, viewer.userId))) {
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no ${what.resource.replace('_', ' ')} ${what.id}.`,
        details: what,
      });
    }
    if (!account.active)
      throw new PosternError('SEND_ACCOUNT_DISABLED', {
        message: `Email account ${account.key} is disabled: it sends no mail.`,
        details: { accountId },
      });
    return account;
  }

  private async parentOf(
    interaction: InteractionRecord,
    requested: number | undefined,
    problems: FieldProblems,
  ): Promise<MessageRecord | undefined> {
    if (requested !== undefined) {
      const message = await requireMessage(this.db, requested).catch(() => undefined);
      if (message === undefined || message.interactionId !== interaction.id)
        problems.add('inReplyToMessageId', `there is no message ${requested} in this conversation`);
      return message?.interactionId === interaction.id ? message : undefined;
    }
    const latest =
      (await findLatestMessage(this.db, interaction.id, 'in')) ?? (await findLatestMessage(this.db, interaction.id));
    return latest === undefined ? undefined : requireMessage(this.db, latest);
  }

  /** The conversation's contact, when a reply has nobody else to go to. */
  private async contactAddress(interaction: InteractionRecord): Promise<AddressInput[]> {
    const first = await findContactFirstAddress(this.db, interaction.contactId);
    return first === undefined ? [] : [first];
  }

  /** Checks everything and gathers the draft; throws VALIDATION_FAILED naming every bad field. */
  private async draft(
    account: EmailAccountRecord,
    problems: FieldProblems,
    parts: {
      interaction: InteractionRecord | 'new';
      parent: MessageRecord | undefined;
      subject: string;
      to: readonly AddressInput[];
      cc: readonly AddressInput[];
      bcc: readonly AddressInput[];
      body: BodyInput;
      subjectField?: string;
      /** Attachments read from the store (a forward's), after those of the request. */
      carried?: readonly ComposeAttachment[];
      /** Whether the message answers `parent` (In-Reply-To); default when there is one. */
      answers?: boolean;
    },
  ): Promise<Draft> {
    const settings = await getSendingSettings(this.db, account.id);
    const to = checkAddressList('to', parts.to, problems);
    const cc = checkAddressList('cc', parts.cc, problems);
    const bcc = checkAddressList('bcc', parts.bcc, problems);
    if (to.length === 0 && !problems.list.some((p) => p.field.startsWith('to')))
      problems.add('to', 'the reply has no recipient: name one in "to"');
    const recipients = new Set([...to, ...cc, ...bcc].map((a) => a.address.toLowerCase())).size;
    if (recipients > settings.maxRecipientsPerMessage) {
      problems.add(
        'to',
        `the message has ${recipients} recipients; the account allows at most ${settings.maxRecipientsPerMessage} per message`,
      );
    }
    const attachments = [...checkAttachments(parts.body.attachments ?? [], problems), ...(parts.carried ?? [])];
    const text = parts.body.text ?? null;
    const rawHtml = parts.body.html ?? null;
    if (text === null && rawHtml === null && attachments.length === 0)
      problems.add('text', 'the message has no text, no HTML and no attachment');
    const attached =
      attachments.reduce((sum, a) => sum + a.content.length, 0) +
      Buffer.byteLength(text ?? '') +
      Buffer.byteLength(rawHtml ?? '');
    if (attached > settings.maxMessageBytes)
      problems.add(
        'attachments',
        `the message would be larger than ${formatBytes(settings.maxMessageBytes)}, the account's maximum message size`,
      );
    const token = parts.interaction === 'new' ? null : parts.interaction.subjectToken;
    // A new conversation's token exists only once it is stored; the length check keeps room for it.
    const subject = subjectWithToken(
      parts.subject,
      token ?? '#P999999999-XXXX',
      problems,
      parts.subjectField ?? 'subject',
    );
    problems.throwIfAny();
    const first = to[0];
    if (first === undefined) throw new PosternError('INTERNAL', { message: 'a checked draft has no recipient' });
    return {
      account,
      interaction: parts.interaction === 'new' ? { create: { contact: first } } : parts.interaction,
      parent: parts.parent,
      subject: token === null ? parts.subject.trim() : subject,
      to,
      cc,
      bcc,
      text,
      html:
        rawHtml === null
          ? null
          : sanitizeOutgoingHtml(
              rawHtml,
              attachments.flatMap((a) =>
                a.contentId === null || a.contentId === undefined ? [] : [{ contentId: a.contentId }],
              ),
            ),
      attachments,
      autoSubmitted: parts.body.autoSubmitted ?? 'no',
      replyTo: parts.parent !== undefined && parts.answers !== false,
    };
  }

  /** Stores the message and its outbox row in one transaction (with the idempotency key). */
  private async queue(
    caller: SendCaller,
    draft: Draft,
    digest: string,
    options: { reply?: boolean; close?: boolean; assign?: boolean } = {},
  ): Promise<QueuedMessage> {
    const key = caller.idempotencyKey;
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new PosternError('VALIDATION_FAILED', {
        message: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
        details: {
          in: 'headers',
          fields: [{ field: 'idempotency-key', problem: 'must be 1 to 255 printable ASCII characters' }],
        },
      });
    }
    const parentIndex = draft.parent === undefined ? null : await this.parentThreadIndex(draft.parent.id);
    const result = await this.db.transaction(async (tx): Promise<QueuedMessage> => {
      const now = tx.now();
      const reservation =
        key === undefined
          ? undefined
          : await reserveIdempotencyKey(tx, {
              owner: `user:${caller.viewer.userId}`,
              key,
              requestHash: digest,
              expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
            });
      if (reservation?.kind === 'mismatch') throw new PosternError('SEND_IDEMPOTENCY_KEY_REUSED', { details: { key } });
      if (reservation?.kind === 'replay') return { ...queuedAnswer.parse(reservation.response), replayed: true };
      const interaction =
        'create' in draft.interaction
          ? await this.newInteraction(tx, draft.account, draft.interaction.create.contact, draft.subject, now)
          : draft.interaction;
      const subject =
        'create' in draft.interaction
          ? subjectWithToken(draft.subject, interaction.subjectToken, new FieldProblems())
          : draft.subject;
      const messageId = newMessageId(domainOf(draft.account.emailAddress), now, this.random);
      const thread = threadReferences(draft.parent);
      const raw = await composeMessage({
        from: { name: draft.account.name, address: draft.account.emailAddress },
        to: draft.to,
        cc: draft.cc,
        subject,
        text: draft.text,
        html: draft.html,
        messageId,
        inReplyTo: draft.replyTo ? thread.inReplyTo : null,
        references: thread.references,
        date: now,
        threadTopic: normalizeSubject(subject),
        threadIndex: threadIndexFor(parentIndex, now, this.random),
        autoSubmitted: draft.autoSubmitted,
        attachments: draft.attachments,
      });
      const settings = await getSendingSettings(tx, draft.account.id);
      if (raw.length > settings.maxMessageBytes) {
        const problems = new FieldProblems();
        problems.add(
          'attachments',
          `the message is ${formatBytes(raw.length)} once encoded; the account allows at most ${formatBytes(settings.maxMessageBytes)}`,
        );
        problems.throwIfAny();
      }
      const id = await insertOutgoingMessage(
        tx,
        {
          accountId: draft.account.id,
          interactionId: interaction.id,
          messageId,
          inReplyTo: draft.replyTo ? thread.inReplyTo : null,
          references: thread.references,
          from: { name: draft.account.name, address: draft.account.emailAddress },
          to: storedAddresses(draft.to),
          cc: storedAddresses(draft.cc),
          bcc: storedAddresses(draft.bcc),
          replyTo: [],
          subject,
          text: draft.text,
          html: draft.html,
          date: now,
          authorUserId: caller.viewer.userId,
          isAutoReply: draft.autoSubmitted !== 'no',
          attachments: draft.attachments.map((a) => ({
            filename: a.filename,
            contentType: a.contentType,
            size: a.content.length,
            contentId: a.contentId ?? null,
            inline: a.inline === true,
            sha256: createHash('sha256').update(a.content).digest('hex'),
            content: a.content,
          })),
        },
        raw,
      );
      const envelope = {
        from: draft.account.emailAddress,
        to: [...draft.to, ...draft.cc, ...draft.bcc].map((a) => a.address),
      };
      const outbox = await insertOutboxRow(tx, { messageId: id, accountId: draft.account.id, envelope, at: now });
      await recordInteractionActivity(tx, interaction.id, { at: now, unread: false, reopen: false });
      // The reply is on its way: the sender's draft of it is done with, in the same transaction.
      if (options.reply === true) {
        await deleteReplyDraft(tx, interaction.id, caller.viewer.userId);
      }
      // Whoever answers (or forwards) an unassigned conversation owns it from then on.
      if (options.reply === true || options.assign === true)
        await assignInteractionIfUnassigned(tx, interaction.id, caller.viewer.userId);
      if (options.reply === true && options.close === true) await closeInteraction(tx, interaction.id);
      await appendEvent(tx, {
        scope: 'message',
        scopeId: id,
        type: 'message.queued',
        message: `Queued for ${envelope.to.length} recipient(s) from ${draft.account.emailAddress}.`,
        data: {
          outboxId: outbox.id,
          accountId: draft.account.id,
          interactionId: interaction.id,
          userId: caller.viewer.userId,
        },
      });
      const answer = { id, interactionId: interaction.id, messageId, state: 'queued' };
      if (reservation?.kind === 'new') await completeIdempotencyKey(tx, reservation.id, 202, answer);
      return { ...answer, replayed: false };
    });
    if (!result.replayed) this.events.emit('queued', result.id);
    return result;
  }

  private async newInteraction(
    tx: Database,
    account: EmailAccountRecord,
    contact: OutboundAddress,
    subject: string,
    now: Date,
  ): Promise<InteractionRecord> {
    const existing = await findContactByAddress(tx, contact.display);
    const contactId =
      existing?.id ??
      (
        await createContact(tx, {
          listId: account.defaultListId ?? (await findOrCreateFallbackList(tx)),
          name: contact.name || contact.display.split('@')[0] || contact.display,
          addresses: [contact.display],
        })
      ).id;
    return createInteraction(tx, {
      accountId: account.id,
      contactId,
      subject: normalizeSubject(subject),
      tokenCheck: tokenCheckFromBytes(this.random(3)),
      at: now,
    });
  }

  /** The Thread-Index the parent carried, if its raw MIME has one. */
  private async parentThreadIndex(messageId: number): Promise<string | null> {
    const raw = await getMessageRaw(this.db, messageId).catch(() => undefined);
    if (raw === undefined) return null;
    return readHeaderFields(splitHeader(raw).header).get('thread-index')?.[0] ?? null;
  }
}

/** The addresses that are the account itself: never among a reply's recipients. */
function ownAddresses(account: EmailAccountRecord): string[] {
  return [
    account.emailAddress,
    account.username,
    ...(account.modernAuthEmail === null ? [] : [account.modernAuthEmail]),
  ];
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
