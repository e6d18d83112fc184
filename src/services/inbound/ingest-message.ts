/**
 * Where an inbound message becomes durable. `ingestMessage` stores one message fetched from a
 * mailbox, in ONE transaction: the raw MIME, the parsed message and its attachments, its place in
 * a conversation (Interaction), the sender as a Contact (and the To/Cc participants of mail a
 * person wrote, up to a cap), and the folder's checkpoint. Either all of it is committed or none
 * of it.
 *
 * Idempotent: a message already stored at the same mailbox position, or with the same Message-ID
 * on the account (the same mail seen again under a new UIDVALIDITY, or in Junk as well as the
 * Inbox), is not stored again — the call only advances the checkpoint. Mail without a Message-ID
 * gets a synthetic one computed from its content, so it too is recognised. A different message
 * that reuses a Message-ID (broken senders do) is stored as a variant, never dropped.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4 (Message-ID, threading fields)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1 (UID and UIDVALIDITY)
 * @see https://www.rfc-editor.org/rfc/rfc3834 (automatic responses, see domain/automation.ts)
 */
import { randomBytes } from 'node:crypto';
import { detectAutomation, type AutomationVerdict } from '../../domain/automation.js';
import { LIMITS } from '../../config/limits.js';
import { contactNameFor, correspondentOf, participantsOf, type NamedAddress } from '../../domain/correspondent.js';
import { bodyDigest, syntheticMessageId } from '../../domain/message-id.js';
import { findSubjectTokens, normalizeSubject, tokenCheckFromBytes } from '../../domain/subject.js';
import { decideThread, type ThreadKeys } from '../../domain/threading.js';
import { parseMessage, type ParsedMessage } from '../../mail/mime/parse-message.js';
import { PosternError } from '../../errors/index.js';
import { attachBounceReport } from './bounce-report.js';
import { GroupIds } from './group-ids.js';
import { GroupLookups, type GroupMember } from './group-lookups.js';
import { messageReceivedEvent } from './message-received-event.js';
import {
  advanceCheckpoint,
  deferInboundMessage,
  FALLBACK_LIST_NAME,
  findMessageByMessageId,
  findMessageByGraphIdOrId,
  findMessageByPositionOrId,
  findOrCreateFallbackList,
  GroupWriteRaced,
  GroupWrites,
  newInteractionRow,
  senderContactAddress,
  toDbTime,
  updateMessagePosition,
  type Database,
  type MessageKey,
  type TransactionOptions,
} from '../../store/index.js';

/**
 * The account a message is ingested for. The lead's EmailAccountRecord satisfies it.
 */
export interface IngestAccount {
  readonly id: number;
  readonly key: string;
  /** The account's address; mail from it is ours, and the contact is then a recipient. */
  readonly emailAddress: string;
  /** The mailbox logged in; for a shared mailbox its address. Counted as one of ours. */
  readonly username?: string;
  /** Where new senders are saved; when null, a list named {@link FALLBACK_LIST_NAME}. */
  readonly defaultListId: number | null;
  readonly maxMessageBytes: number;
}

/** One message as fetched. */
export interface IngestInput {
  readonly folder: string;
  readonly uidvalidity: number;
  readonly uid: number;
  /** The raw message; for an oversize message only its header section. */
  readonly raw: Buffer;
  /** The message came from the Junk folder. */
  readonly isJunk: boolean;
  /** The server's INTERNALDATE (arrival); default now. */
  readonly internalDate?: Date;
  /** RFC822.SIZE as the server reported it; default the raw length. */
  readonly size?: number;
  /** True when `raw` is only the header of a message larger than the account's limit. */
  readonly headersOnly?: boolean;
  /**
   * The RFC822.SIZE the server reported when it was under the limit but the download went over it
   * (Exchange estimates sizes): `size` is then a lower bound.
   */
  readonly reportedSize?: number;
  /** Part of a first sync or resync of old mail: never to be answered automatically. */
  readonly initialImport?: boolean;
  /** A message below this one was withheld by the server: storing this one leaves the checkpoint. */
  readonly aboveGap?: boolean;
  /**
   * Read through Microsoft Graph: the message's Graph id is its position (`uidvalidity` and `uid`
   * are ignored and stored as null), and the IMAP checkpoint is left alone — the caller commits the
   * folder's delta link with `ingestPrepared`'s `inTransaction`.
   */
  readonly graphId?: string;
}

/** What happened. */
export type IngestResult = StoredResult | DuplicateResult;

/** The message was stored. */
export interface StoredResult {
  readonly outcome: 'stored';
  /** The row id of the message. */
  readonly messageRowId: number;
  /** Its canonical Message-ID (synthetic when the message had none). */
  readonly messageId: string;
  readonly interactionId: number;
  readonly interactionCreated: boolean;
  /** How it was threaded: a reply to a known message, the subject token, or a new conversation. */
  readonly threadedBy: 'in-reply-to' | 'references' | 'token' | 'new';
  readonly contactId: number | null;
  readonly contactCreated: boolean;
  readonly automation: AutomationVerdict;
  /** False for automated, junk, oversize and imported mail: no automatic acknowledgement. */
  readonly autoReplyAllowed: boolean;
  readonly oversize: boolean;
  readonly problems: readonly string[];
}

/** The message was already stored; only the checkpoint moved. */
export interface DuplicateResult {
  readonly outcome: 'duplicate';
  readonly messageRowId: number;
  readonly messageId: string | null;
  readonly interactionId: number | null;
  readonly matchedBy: 'position' | 'message-id';
}

/** The list new senders go to when the account has no default list. */
export { FALLBACK_LIST_NAME };
/** The contact of mail that names no sender at all (RFC 2606 reserves `.invalid`). */
export const UNKNOWN_SENDER: NamedAddress = { name: 'Unknown sender', address: 'unknown-sender@postern.invalid' };

/** A fetched message parsed and given its canonical Message-ID: what its transaction needs. */
export interface PreparedMessage {
  readonly input: IngestInput;
  readonly parsed: ParsedMessage;
  /** The Message-ID header, canonical, else the synthetic id computed from the content. */
  readonly messageId: string;
}

/** How raw MIME becomes a ParsedMessage: `parseMessage` itself, or a parse pool's `parse`. */
export type ParseFunction = (raw: Buffer) => Promise<ParsedMessage>;

/**
 * Parses a fetched message and settles its Message-ID; never fails, touches no storage. `parse`
 * may run elsewhere (a worker thread, see mail/mime/parse-pool.ts); the default parses here.
 */
export async function prepareMessage(
  input: IngestInput,
  parse: ParseFunction = parseMessage,
): Promise<PreparedMessage> {
  const parsed = await parse(input.raw);
  const messageId =
    parsed.messageId ??
    syntheticMessageId({
      date: parsed.headers.get('date')?.[0],
      from: parsed.headers.get('from')?.[0],
      subject: parsed.headers.get('subject')?.[0],
      // Digested only for mail without a Message-ID: hashing every body cost more than it served.
      bodyDigest: bodyDigest(input.raw),
    });
  return { input, parsed, messageId };
}

/**
 * Stores one fetched message; see the module comment. Parsing happens before the transaction
 * and never fails; a storage error rolls everything back and is thrown for the caller to retry.
 */
export async function ingestMessage(db: Database, account: IngestAccount, input: IngestInput): Promise<IngestResult> {
  const [result] = await ingestPrepared(db, account, [await prepareMessage(input)]);
  if (result === undefined) throw new Error('ingest returned no result');
  return result;
}

/**
 * Stores several prepared messages, in the order given, in ONE transaction (a group commit: the
 * commit's fsync is paid once for the group). Each message is still all-or-nothing with the
 * checkpoint — the whole group is — and the checkpoint ends at the highest UID of the group,
 * so the caller must pass messages in ascending UID order with none missing below the last one
 * (as the IMAP sync does). Results are in the same order.
 */
export async function ingestPrepared(
  db: Database,
  account: IngestAccount,
  messages: readonly PreparedMessage[],
  options: {
    readonly inTransaction?: (tx: Database) => Promise<void>;
    /**
     * The mailbox lease's check (several nodes): the transaction's first statement, so that a
     * node that lost the mailbox to another commits nothing for it.
     */
    readonly fence?: (tx: Database) => Promise<void>;
    /**
     * `deferred`: the group's commit does not wait for the disk (SQLite); the caller awaits
     * `db.synced()` before it touches the mail server's copy (see TransactionOptions).
     */
    readonly durability?: TransactionOptions['durability'];
  } = {},
): Promise<IngestResult[]> {
  if (messages.length === 0 && options.inTransaction === undefined) return [];
  const run = (): Promise<IngestResult[]> =>
    db.transaction(
      async (tx) => {
        await options.fence?.(tx);
        const members = messages.map((message) => memberOf(account, message));
        const lookups = await GroupLookups.read(tx, account.id, members);
        const group = new GroupWrites();
        const ids = new GroupIds(tx, group, lookups, members);
        const results: IngestResult[] = [];
        for (const [index, message] of messages.entries())
          results.push(
            await ingestParsed(tx, { lookups, group, ids: ids.from(index) }, account, message, members[index]),
          );
        await group.flush(tx);
        await advanceCheckpoints(
          tx,
          account.id,
          messages.map((message) => message.input),
        );
        // A Graph folder's delta link: durable with the last messages of the round it ends.
        await options.inTransaction?.(tx);
        return results;
      },
      { durability: options.durability ?? 'immediate' },
    );
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      // Another writer stored one of the messages, or another account's worker saved the same new
      // sender, a moment ago: run again, it is found now.
      if (!(error instanceof GroupWriteRaced)) throw error;
      if (attempt === MAX_GROUP_ATTEMPTS) {
        throw new PosternError('INGEST_WRITE_CONTENDED', {
          details: { accountId: account.id, messages: messages.length, attempts: attempt },
          cause: error,
        });
      }
    }
  }
}

/** Runs of a group commit that met another writer before it gives up (see ingestPrepared). */
const MAX_GROUP_ATTEMPTS = 3;

/**
 * A message as its group needs it: its correspondent, threading keys, whether a machine sent it,
 * and the To/Cc participants to save as contacts — none for junk or automated mail (a list's
 * or a robot's recipients are nobody's correspondents).
 */
function memberOf(account: IngestAccount, { input, parsed, messageId }: PreparedMessage): IngestMember {
  const ownAddresses = ownAddressesOf(account);
  const automation = detectAutomation({
    headers: parsed.headers,
    fromAddress: parsed.from[0]?.address ?? parsed.sender[0]?.address ?? null,
    contentType: parsed.contentType,
    reportType: parsed.reportType,
    partTypes: parsed.partTypes,
    subject: parsed.subject,
    ownAddresses,
  });
  const correspondent = correspondentOf(parsed, ownAddresses);
  const automated = automation.autoReply || automation.bounce || automation.list;
  return {
    input,
    messageId,
    sender: correspondent ?? UNKNOWN_SENDER,
    correspondent,
    keys: threadKeysOf(parsed),
    automation,
    participants:
      input.isJunk || automated
        ? []
        : participantsOf(
            parsed,
            [...ownAddresses, ...(correspondent === null ? [] : [correspondent.address])],
            LIMITS.participantContactsPerMessage,
          ),
  };
}

/** A member of the group with what its own ingest needs besides. */
interface IngestMember extends GroupMember {
  readonly correspondent: NamedAddress | null;
  readonly automation: AutomationVerdict;
}

/** A message's threading keys. */
function threadKeysOf(parsed: ParsedMessage): ThreadKeys {
  return {
    inReplyTo: parsed.inReplyTo,
    references: parsed.references,
    subjectTokens: findSubjectTokens(parsed.subject),
  };
}

/**
 * Advances the checkpoint once per run of messages from the same folder and UIDVALIDITY, to the
 * run's highest UID — the same end state as advancing after each message of the transaction.
 * Messages above a withheld one (`aboveGap`) leave it where it is.
 */
async function advanceCheckpoints(tx: Database, accountId: number, inputs: readonly IngestInput[]): Promise<void> {
  let run: { folder: string; uidvalidity: number; uid: number } | undefined;
  for (const input of inputs) {
    if (input.aboveGap === true || input.graphId !== undefined) continue;
    if (run !== undefined && run.folder === input.folder && run.uidvalidity === input.uidvalidity) {
      run.uid = Math.max(run.uid, input.uid);
      continue;
    }
    if (run !== undefined) await advanceCheckpoint(tx, accountId, run.folder, run.uidvalidity, run.uid);
    run = { folder: input.folder, uidvalidity: input.uidvalidity, uid: input.uid };
  }
  if (run !== undefined) await advanceCheckpoint(tx, accountId, run.folder, run.uidvalidity, run.uid);
}

async function ingestParsed(
  tx: Database,
  { lookups, group, ids }: { readonly lookups: GroupLookups; readonly group: GroupWrites; readonly ids: GroupIds },
  account: IngestAccount,
  { input, parsed, messageId: canonicalId }: PreparedMessage,
  member: IngestMember | undefined,
): Promise<IngestResult> {
  if (member === undefined) throw new Error('a message without its group member');
  let messageId = canonicalId;
  if (lookups.mayBeStored(input, canonicalId)) {
    // Read back what the group stored so far too: a message-by-message ingest would see it.
    await group.flushRows(tx);
    const { atPosition, withId: sameId } =
      input.graphId === undefined
        ? await findMessageByPositionOrId(
            tx,
            account.id,
            { folder: input.folder, uidValidity: input.uidvalidity, uid: input.uid },
            canonicalId,
          )
        : await findMessageByGraphIdOrId(tx, account.id, input.graphId, canonicalId);
    if (atPosition !== undefined) return duplicate(atPosition, 'position');
    if (sameId !== undefined) {
      if (sameContent(sameId, parsed)) {
        if (input.graphId === undefined && sameId.folder === input.folder && sameId.uidValidity !== input.uidvalidity) {
          await updateMessagePosition(tx, sameId.id, input.folder, input.uidvalidity, input.uid);
          lookups.noteStored(input, canonicalId);
        }
        return duplicate(sameId, 'message-id');
      }
      messageId = variantId(messageId, bodyDigest(input.raw));
      const variant = await findMessageByMessageId(tx, account.id, messageId);
      if (variant !== undefined) return duplicate(variant, 'message-id');
    }
  }

  const { automation, correspondent } = member;
  const contact = await ensureContact(tx, account, correspondent ?? UNKNOWN_SENDER, { lookups, group, ids });
  for (const participant of member.participants) await ensureContact(tx, account, participant, { lookups, group, ids });

  const decision = decideThread(threadKeysOf(parsed), lookups.threadMatches);
  const receivedAt = input.internalDate ?? tx.now();
  const automated = automation.autoReply || automation.bounce || automation.list;
  let interactionId: number;
  if (decision.kind === 'new') {
    interactionId = await ids.next('interactions');
    const row = newInteractionRow(
      interactionId,
      {
        accountId: account.id,
        contactId: contact.id,
        subject: normalizeSubject(parsed.subject),
        tokenCheck: tokenCheckFromBytes(randomBytes(3)),
        at: receivedAt,
        // Counted here; a new conversation is open, so there is nothing to reopen.
        firstMessage: { unread: true },
      },
      toDbTime(tx.now()),
    );
    group.addInteraction(row);
    if (typeof row.subject_token === 'string') lookups.noteConversation(row.subject_token, interactionId);
  } else {
    interactionId = decision.interactionId;
    group.addActivity(interactionId, { at: toDbTime(receivedAt), unread: true, reopen: !automated && !input.isJunk });
  }

  const oversize = input.headersOnly === true;
  const size = input.size ?? input.raw.length;
  const messageRowId = await ids.next('messages');
  deferInboundMessage(
    group,
    messageRowId,
    {
      accountId: account.id,
      interactionId,
      messageId,
      inReplyTo: parsed.inReplyTo[0] ?? null,
      references: parsed.references,
      from: parsed.from,
      to: parsed.to,
      cc: parsed.cc,
      bcc: parsed.bcc,
      replyTo: parsed.replyTo,
      subject: parsed.subject,
      text: parsed.text,
      html: parsed.html,
      headerDate: parsed.date,
      isAutoReply: automation.autoReply,
      isBounce: automation.bounce,
      isList: automation.list,
      isJunk: input.isJunk,
      folder: input.folder,
      uidValidity: input.graphId === undefined ? input.uidvalidity : null,
      uid: input.graphId === undefined ? input.uid : null,
      graphId: input.graphId ?? null,
      rawSize: size,
      receivedAt,
      attachments: parsed.attachments,
    },
    input.raw,
    tx.now(),
  );
  lookups.noteStored(input, messageId, interactionId);
  if (automation.bounce) {
    // The report's rows point at the message: it is written first.
    await group.flushRows(tx);
    await attachBounceReport(tx, account, { rowId: messageRowId, parsed, receivedAt });
  }
  const problems = oversize
    ? [...parsed.problems, `larger than the account's limit (${size} bytes); only the header was stored`]
    : parsed.problems;
  recordEvents(group, account, messageRowId, { problems: parsed.problems, oversize, size, input, messageId });
  // In the message's transaction: the timeline and the webhooks learn of it exactly once.
  group.addEvent(
    messageReceivedEvent({
      account,
      messageRowId,
      internetMessageId: messageId,
      interactionId,
      interactionCreated: decision.kind === 'new',
      from: parsed.from,
      to: parsed.to,
      cc: parsed.cc,
      subject: parsed.subject,
      text: parsed.text,
      html: parsed.html,
      receivedAt,
      folder: input.folder,
      isJunk: input.isJunk,
      automated,
      attachmentCount: parsed.attachments.length,
      oversize,
    }),
  );

  return {
    outcome: 'stored',
    messageRowId,
    messageId,
    interactionId,
    interactionCreated: decision.kind === 'new',
    threadedBy: decision.kind === 'new' ? 'new' : decision.kind === 'token' ? 'token' : decision.via,
    contactId: contact.id,
    contactCreated: contact.created,
    automation,
    autoReplyAllowed: !automation.suppressAutoReply && !input.isJunk && !oversize && input.initialImport !== true,
    oversize,
    problems,
  };
}

/**
 * The contact that owns the address, else a new one in the account's default list (written with
 * the group's rows): for the sender, and for each To/Cc participant of the message. The group's
 * lookups asked for every member's addresses when the group began.
 */
async function ensureContact(
  tx: Database,
  account: IngestAccount,
  who: NamedAddress,
  { lookups, group, ids }: { readonly lookups: GroupLookups; readonly group: GroupWrites; readonly ids: GroupIds },
): Promise<{ id: number; created: boolean }> {
  const known = lookups.contactOf(who.address);
  if (known !== undefined) return { id: known, created: false };
  const address = senderContactAddress(who.address);
  const listId = account.defaultListId ?? (await findOrCreateFallbackList(tx));
  const id = await ids.next('contacts');
  group.addContact({ id, listId, name: contactNameFor(who), address });
  lookups.noteContact(who.address, id);
  return { id, created: true };
}

/** The account's own addresses: mail from them is not from a correspondent. */
function ownAddressesOf(account: IngestAccount): string[] {
  return [account.emailAddress, ...(account.username === undefined ? [] : [account.username])];
}

function recordEvents(
  group: GroupWrites,
  account: IngestAccount,
  messageRowId: number,
  facts: { problems: readonly string[]; oversize: boolean; size: number; input: IngestInput; messageId: string },
): void {
  const where = {
    accountId: account.id,
    folder: facts.input.folder,
    ...(facts.input.graphId === undefined ? { uid: facts.input.uid } : { graphId: facts.input.graphId }),
    messageId: facts.messageId,
  };
  if (facts.oversize) {
    group.addEvent({
      scope: 'message',
      scopeId: messageRowId,
      type: 'message.oversize',
      level: 'warn',
      message:
        facts.input.reportedSize === undefined
          ? `A message of ${facts.size} bytes is larger than the limit of account ${account.key} (${account.maxMessageBytes} bytes); only its header was stored.`
          : `A message is larger than the limit of account ${account.key} (${account.maxMessageBytes} bytes) although the server reported ${facts.input.reportedSize} bytes (an estimate); its download was stopped at the limit and only its header was stored.`,
      data: {
        ...where,
        size: facts.size,
        limit: account.maxMessageBytes,
        ...(facts.input.reportedSize === undefined ? {} : { reportedSize: facts.input.reportedSize }),
      },
    });
  }
  if (facts.problems.length > 0) {
    group.addEvent({
      scope: 'message',
      scopeId: messageRowId,
      type: 'message.parse_problems',
      level: 'warn',
      message: `The message was stored with what could be read: ${facts.problems.join('; ')}.`,
      data: { ...where, problems: [...facts.problems] },
    });
  }
}

/** The same message seen again, or another one reusing its Message-ID? */
function sameContent(stored: MessageKey, parsed: ParsedMessage): boolean {
  return (
    stored.subject === parsed.subject &&
    stored.headerDate === (parsed.date === null ? null : parsed.date.toISOString()) &&
    stored.text === parsed.text &&
    stored.html === parsed.html
  );
}

/** A deterministic id for a different message that reuses a Message-ID: `<left@right#v-digest>`. */
function variantId(messageId: string, digest: string): string {
  return `${messageId.slice(0, -1)}#v-${digest.slice(0, 16)}>`;
}

function duplicate(stored: MessageKey, matchedBy: DuplicateResult['matchedBy']): DuplicateResult {
  return {
    outcome: 'duplicate',
    messageRowId: stored.id,
    messageId: stored.messageId,
    interactionId: stored.interactionId,
    matchedBy,
  };
}
