/**
 * One folder, on one open IMAP session: SELECT, check UIDVALIDITY against the checkpoint, fetch
 * the messages above it in batches and hand each to the store (which commits message and
 * checkpoint together), then apply the after-fetch action. Messages larger than the account's
 * limit are not downloaded: their header is stored and they are moved to the oversize folder.
 * The size the server reports is not trusted to be exact (Exchange's RFC822.SIZE is an estimate):
 * every download is bounded to the limit plus one byte (`BODY.PEEK[]<0.limit+1>`), and a message
 * that fills it is larger than the limit in fact — its header is stored and it is moved aside all
 * the same, with the reason. A message reported a little over the limit is downloaded that way
 * too, and stored if it fits (see sync-plan.ts, SIZE_ESTIMATE_TOLERANCE).
 *
 * After-fetch actions run after the commit. One that fails is not lost: on the next session
 * (or the next cycle) the folder is reconciled — stored messages still in the folder at or below
 * the checkpoint get their action again (move, delete, oversize moves), and recently stored
 * messages still unseen are marked seen.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.3.1 (SELECT), §6.4.4 (SEARCH), §6.4.5 (FETCH), §6.4.8 (UID)
 * @see https://www.rfc-editor.org/rfc/rfc6851 (MOVE), https://www.rfc-editor.org/rfc/rfc4315#section-2.1 (UID EXPUNGE)
 */
import type { FetchMessageObject, ImapFlow, MailboxObject } from 'imapflow';
import { PosternError } from '../../errors/index.js';
import { BatchIngest, type BatchOutcome } from './batch-ingest.js';
import { endsSession, mapImapError, type ImapErrorContext } from './imap-errors.js';
import {
  decideStart,
  planSteps,
  resetLastUid,
  SIZE_ESTIMATE_TOLERANCE,
  uidSet,
  type Candidate,
  type CheckpointView,
  type FirstSync,
} from './sync-plan.js';

/** A message as fetched, handed to the store. `services/inbound/ingest-message.ts` takes this shape. */
export interface FetchedMessage {
  readonly folder: string;
  readonly uidvalidity: number;
  readonly uid: number;
  readonly raw: Buffer;
  readonly isJunk: boolean;
  readonly internalDate?: Date;
  readonly size?: number;
  readonly headersOnly?: boolean;
  /** Set when `size` was reported under the limit but the download went over it: the size reported. */
  readonly reportedSize?: number;
  readonly initialImport?: boolean;
  /**
   * A message below this one is in the folder but the server withheld it: storing this one must
   * not move the checkpoint (the next sync asks for the withheld one again).
   */
  readonly aboveGap?: boolean;
}

/** What the sync needs from storage; the service layer binds it to an account. */
export interface SyncStore {
  getCheckpoint(folder: string): Promise<CheckpointView | undefined>;
  resetCheckpoint(folder: string, uidValidity: number, lastUid: number): Promise<void>;
  /** Moves the checkpoint forward to `uid` (never backwards under the same UIDVALIDITY). */
  advanceCheckpoint(folder: string, uidValidity: number, uid: number): Promise<void>;
  /**
   * Called as each message arrives, before it is ingested: the store may start the work that
   * needs no storage (parsing) so that it overlaps with the fetch and with earlier commits.
   */
  prepare?(message: FetchedMessage): void;
  /** Stores one message and advances the checkpoint (unless `aboveGap`), in one transaction. */
  ingest(message: FetchedMessage): Promise<{ readonly outcome: 'stored' | 'duplicate' }>;
  /**
   * Stores several messages of one folder, given in ascending UID order, and advances the
   * checkpoint to the last of them not `aboveGap` — all in one transaction (a group commit).
   * Results in order.
   */
  ingestMany(messages: readonly FetchedMessage[]): Promise<ReadonlyArray<{ readonly outcome: 'stored' | 'duplicate' }>>;
  /**
   * Resolves once everything stored so far is on disk: a group commit may return before (see
   * TransactionOptions in store/database.ts). Nothing is done to the mail server's copy of a
   * stored message — after-fetch action, oversize move — before this.
   */
  durable(): Promise<void>;
  /** Which of these UIDs hold stored messages. */
  storedUids(
    folder: string,
    uidValidity: number,
    uids: readonly number[],
  ): Promise<ReadonlyMap<number, { readonly rawSize: number | null; readonly storedAt: string }>>;
}

/** What happens to a message in the mailbox once it is stored. */
export type AfterFetchAction = 'mark_seen' | 'move' | 'delete' | 'none';

/** Settings of a folder sync. */
export interface FolderSyncSettings {
  readonly afterFetch: AfterFetchAction;
  readonly afterFetchFolder: string | null;
  readonly maxMessageBytes: number;
  readonly oversizeFolder: string;
  readonly firstSync: FirstSync;
  readonly batchCount: number;
  readonly batchBytes: number;
  /**
   * Messages of a batch are committed in groups of at most this many (one transaction, one fsync
   * per group), as soon as they have arrived in UID order — while the rest of the batch streams in.
   */
  readonly groupCount: number;
  /** …and of at most this many bytes of MIME (a single larger message forms a group alone). */
  readonly groupBytes: number;
  /** Unseen messages stored this recently are marked seen again on reconciliation. */
  readonly reconcileWindowMs: number;
  readonly clock: () => Date;
}

/** A message too large to download, reported to the caller. */
export interface OversizeNotice {
  readonly folder: string;
  readonly uidValidity: number;
  readonly uid: number;
  readonly size: number;
  readonly limit: number;
  /** The folder it was moved to, or null when the move failed (it is retried). */
  readonly movedTo: string | null;
  /**
   * Why it is oversize: its reported RFC822.SIZE (not downloaded), or its download, bounded to the
   * limit plus one byte, went over the limit although the size reported (`reportedSize`, an
   * estimate) was not — then `size` is a lower bound.
   */
  readonly reason: 'reported-size' | 'downloaded-size';
  readonly reportedSize: number;
}

/** What one folder sync did. */
export interface FolderSyncReport {
  readonly folder: string;
  readonly uidValidity: number;
  readonly reset: 'first-sync' | 'uidvalidity-changed' | null;
  readonly stored: number;
  readonly duplicates: number;
  readonly oversize: readonly OversizeNotice[];
  readonly actionsApplied: number;
  readonly actionsFailed: number;
  readonly lastUid: number;
  /**
   * UIDs in the folder whose content the server did not send, even when asked again: the
   * checkpoint stays below the lowest, and the next sync asks for them again.
   */
  readonly withheld: readonly number[];
}

/** A message the server did not send though it is in the folder (see FolderSyncReport.withheld). */
export interface WithheldNotice {
  readonly folder: string;
  readonly uidValidity: number;
  readonly uid: number;
}

/** Body fetches of a message the server left out, after the first, before it counts as withheld. */
const REFETCH_ATTEMPTS = 2;

/** Logging, as pino's child loggers offer it. */
export interface SyncLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** Syncs folders over one session; create one per session (it caches folders it created). */
export class FolderSync {
  private readonly createdFolders = new Set<string>();
  /** Withheld messages already reported on this session (`folder uidvalidity uid`). */
  private readonly reportedWithheld = new Set<string>();
  /** Folders whose after-fetch actions failed and must be reconciled on the next cycle. */
  readonly needsReconcile = new Set<string>();

  constructor(
    private readonly client: ImapFlow,
    private readonly settings: FolderSyncSettings,
    private readonly store: SyncStore,
    private readonly context: ImapErrorContext,
    private readonly log: SyncLogger,
    private readonly onOversize: (notice: OversizeNotice) => void,
    private readonly onWithheld: (notice: WithheldNotice) => void = () => undefined,
  ) {}

  /**
   * Syncs one folder; `reconcile` also re-applies after-fetch actions that may have been lost.
   * `selected`: the folder may still be the one selected on this session (an IDLE wake-up), and is
   * then not selected again — see {@link FolderSync.selectedOrOpen}.
   */
  async sync(folder: string, isJunk: boolean, reconcile: boolean, selected = false): Promise<FolderSyncReport> {
    const box = selected ? await this.selectedOrOpen(folder) : await this.client.mailboxOpen(folder);
    const uidValidity = Number(box.uidValidity);
    const checkpoint = await this.store.getCheckpoint(folder);
    const decision = decideStart(checkpoint, uidValidity, this.settings.firstSync, this.settings.clock());
    let lastUid: number;
    let actionsApplied = 0;
    let actionsFailed = 0;
    if (decision.kind === 'reset') {
      const matching = decision.since === null ? undefined : await this.searchUids({ since: decision.since });
      lastUid = resetLastUid(decision, box.uidNext, matching);
      await this.store.resetCheckpoint(folder, uidValidity, lastUid);
      this.log.info({ folder, uidValidity, lastUid, reason: decision.reason }, 'folder sync starts afresh');
    } else {
      lastUid = decision.lastUid;
      if (reconcile || this.needsReconcile.has(folder)) {
        const outcome = await this.reconcile(folder, uidValidity, lastUid);
        actionsApplied += outcome.applied;
        actionsFailed += outcome.failed;
      }
    }
    const oversize: OversizeNotice[] = [];
    const report = {
      folder,
      uidValidity,
      reset: decision.kind === 'reset' ? decision.reason : null,
      stored: 0,
      duplicates: 0,
      oversize,
    };
    const withheld: number[] = [];
    if (box.exists === 0) return { ...report, actionsApplied, actionsFailed, lastUid, withheld };

    const fresh = await this.notYetStored(folder, uidValidity, await this.listCandidates(lastUid), lastUid);
    if (fresh.settled > lastUid) {
      // Stored after a withheld message that has come since (or was expunged): catch up.
      await this.store.advanceCheckpoint(folder, uidValidity, fresh.settled);
      lastUid = fresh.settled;
    }
    const initialImport = decision.kind === 'reset';
    /** The lowest withheld UID of this sync: nothing above it may move the checkpoint. */
    let gap: number | undefined;
    const below = (uid: number): boolean => gap === undefined || uid < gap;
    for (const step of planSteps(fresh.candidates, lastUid, this.settings)) {
      if (step.kind === 'fetch') {
        const done = await this.fetchAndIngest(folder, uidValidity, step.uids, isJunk, initialImport, gap);
        report.stored += done.stored;
        report.duplicates += done.duplicates;
        withheld.push(...done.withheld);
        gap ??= done.withheld[0];
        const over = done.uids.filter((uid) => done.overLimit.has(uid));
        const action = await this.applyAfterFetch(
          folder,
          done.uids.filter((uid) => !done.overLimit.has(uid)),
        );
        actionsApplied += action.applied;
        actionsFailed += action.failed;
        if (over.length > 0) {
          const moved = await this.moveOversize(over);
          if (!moved) actionsFailed += over.length;
          for (const uid of over) {
            const notice: OversizeNotice = {
              folder,
              uidValidity,
              uid,
              size: this.settings.maxMessageBytes + 1,
              limit: this.settings.maxMessageBytes,
              movedTo: moved ? this.settings.oversizeFolder : null,
              reason: 'downloaded-size',
              reportedSize: done.overLimit.get(uid) ?? 0,
            };
            this.log.warn(
              { ...notice },
              'message larger than the account limit though the server reported less: header stored, message moved aside',
            );
            report.oversize.push(notice);
            this.onOversize(notice);
          }
        }
        lastUid = Math.max(lastUid, ...done.uids.filter(below));
      } else {
        const aboveGap = !below(step.candidate.uid);
        const outcome = await this.ingestOversize(folder, uidValidity, step.candidate, isJunk, initialImport, aboveGap);
        if (outcome !== undefined) {
          const { notice } = outcome;
          if (outcome.stored) report.stored += 1;
          else report.duplicates += 1;
          report.oversize.push(notice);
          if (notice.movedTo === null) actionsFailed += 1;
          if (!aboveGap) lastUid = Math.max(lastUid, notice.uid);
        }
      }
    }
    if (actionsFailed > 0) this.needsReconcile.add(folder);
    else this.needsReconcile.delete(folder);
    this.reportWithheld(folder, uidValidity, withheld);
    return { ...report, actionsApplied, actionsFailed, lastUid, withheld };
  }

  /**
   * The candidates not stored yet, and how far the checkpoint may move at once: over the stored
   * messages right above it (stored after a withheld message, which has come since or is gone).
   */
  private async notYetStored(
    folder: string,
    uidValidity: number,
    listed: readonly Candidate[],
    lastUid: number,
  ): Promise<{ candidates: Candidate[]; settled: number }> {
    const above = listed.filter((candidate) => candidate.uid > lastUid).sort((a, b) => a.uid - b.uid);
    if (above.length === 0) return { candidates: [...listed], settled: lastUid };
    const stored = await this.store.storedUids(
      folder,
      uidValidity,
      above.map((candidate) => candidate.uid),
    );
    if (stored.size === 0) return { candidates: [...listed], settled: lastUid };
    let settled = lastUid;
    for (const candidate of above) {
      if (!stored.has(candidate.uid)) break;
      settled = candidate.uid;
    }
    return { candidates: above.filter((candidate) => !stored.has(candidate.uid)), settled };
  }

  /**
   * The folder as this session has it selected, else SELECT. After IDLE the selected folder's
   * state is current: imapflow counts EXISTS and EXPUNGE into it, and its UIDVALIDITY is the one
   * the server gave at selection (RFC 3501 §2.3.1.1). Selecting it again cost a round trip and a
   * full SELECT response per wake-up — with 1,000 mailboxes woken at once, seconds (the burst in
   * docs/PERFORMANCE.md).
   */
  private async selectedOrOpen(folder: string): Promise<MailboxObject> {
    const current = this.client.mailbox;
    if (current !== false && current.path === folder && current.readOnly !== true) return current;
    return this.client.mailboxOpen(folder);
  }

  /** Logs every withheld message, and tells about it once per session. */
  private reportWithheld(folder: string, uidValidity: number, withheld: readonly number[]): void {
    for (const uid of withheld) {
      this.log.warn(
        { ...this.context, folder, uidValidity, uid },
        'the server withheld a message; asked again next sync',
      );
      const key = `${folder} ${uidValidity} ${uid}`;
      if (this.reportedWithheld.has(key)) continue;
      this.reportedWithheld.add(key);
      this.onWithheld({ folder, uidValidity, uid });
    }
  }

  /** UIDs and sizes of the messages above the checkpoint (`UID FETCH n:* (UID RFC822.SIZE)`). */
  private async listCandidates(lastUid: number): Promise<Candidate[]> {
    const listed = await this.client.fetchAll(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true });
    // "n:*" also returns the highest message when it is below n (RFC 3501 §6.4.8): filtered by planSteps.
    return listed.map((message) => ({ uid: message.uid, size: message.size ?? 0 }));
  }

  /**
   * Fetches a batch and stores it in groups as it streams in (see batch-ingest.ts). A planned
   * message the server leaves out is asked for again; one still missing but still in the folder
   * is withheld: the checkpoint stays below it.
   */
  private async fetchAndIngest(
    folder: string,
    uidValidity: number,
    uids: readonly number[],
    isJunk: boolean,
    initialImport: boolean,
    gap: number | undefined,
  ): Promise<BatchOutcome & { readonly overLimit: ReadonlyMap<number, number> }> {
    const batch = new BatchIngest(this.store, uids, this.settings, gap);
    const limit = this.settings.maxMessageBytes;
    /** UIDs whose download went over the limit, with the size the server had reported. */
    const overLimit = new Map<number, number>();
    const fetchInto = async (wanted: readonly number[]): Promise<void> => {
      for await (const message of this.client.fetch(
        uidSet(wanted),
        // Bounded: one byte over the limit tells a message over it, whatever RFC822.SIZE said.
        { uid: true, source: { start: 0, maxLength: limit + 1 }, internalDate: true, size: true },
        { uid: true },
      )) {
        if (message.source === undefined) {
          // Never step over a message: the checkpoint would pass it and it would be lost.
          throw new PosternError('IMAP_COMMAND_FAILED', {
            message: `The server sent no content for message ${message.uid} of ${folder}.`,
            details: { ...this.context, folder, uid: message.uid },
          });
        }
        if (message.source.length > limit) {
          const reportedSize = message.size ?? 0;
          overLimit.set(message.uid, reportedSize);
          batch.arrive({
            folder,
            uidvalidity: uidValidity,
            uid: message.uid,
            raw: headerSection(message.source),
            isJunk,
            ...dateOf(message),
            size: Math.max(reportedSize, message.source.length),
            headersOnly: true,
            reportedSize,
            initialImport,
          });
          continue;
        }
        batch.arrive({
          folder,
          uidvalidity: uidValidity,
          uid: message.uid,
          raw: message.source,
          isJunk,
          ...dateOf(message),
          // What was downloaded is the size that counts (RFC822.SIZE may be an estimate).
          size: message.source.length,
          initialImport,
        });
      }
    };
    try {
      await fetchInto(uids);
      for (let attempt = 0; attempt < REFETCH_ATTEMPTS && batch.missing().length > 0; attempt += 1) {
        this.log.debug(
          { ...this.context, folder, uids: batch.missing(), attempt },
          'FETCH left messages out; asking again',
        );
        await fetchInto(batch.missing());
      }
      const missing = batch.missing();
      if (missing.length > 0) {
        // Expunged meanwhile, or withheld: only those still in the folder hold the checkpoint.
        const present = new Set(await this.searchUids({ uid: uidSet(missing) }));
        batch.withhold(missing.filter((uid) => present.has(uid)));
      }
    } catch (error) {
      // What was queued before the failure is committed (or fails) before the error goes on.
      await batch.abandon();
      throw error;
    }
    return { ...(await batch.end()), overLimit };
  }

  private async ingestOversize(
    folder: string,
    uidValidity: number,
    candidate: Candidate,
    isJunk: boolean,
    initialImport: boolean,
    aboveGap: boolean,
  ): Promise<{ notice: OversizeNotice; stored: boolean } | undefined> {
    const message = await this.client.fetchOne(
      String(candidate.uid),
      { uid: true, headers: true, internalDate: true, size: true },
      { uid: true },
    );
    if (message === false) return undefined;
    const result = await this.store.ingest({
      folder,
      uidvalidity: uidValidity,
      uid: candidate.uid,
      raw: message.headers ?? Buffer.alloc(0),
      isJunk,
      ...dateOf(message),
      size: candidate.size,
      headersOnly: true,
      initialImport,
      ...(aboveGap ? { aboveGap } : {}),
    });
    const moved = await this.moveOversize([candidate.uid]);
    const notice: OversizeNotice = {
      folder,
      uidValidity,
      uid: candidate.uid,
      size: candidate.size,
      limit: this.settings.maxMessageBytes,
      movedTo: moved ? this.settings.oversizeFolder : null,
      reason: 'reported-size',
      reportedSize: candidate.size,
    };
    this.log.warn({ ...notice }, 'message larger than the account limit: header stored, message moved aside');
    this.onOversize(notice);
    return { notice, stored: result.outcome === 'stored' };
  }

  /** Applies the after-fetch action to stored messages. Failures that leave the session usable are counted, not thrown. */
  private async applyAfterFetch(folder: string, uids: readonly number[]): Promise<{ applied: number; failed: number }> {
    if (uids.length === 0 || this.settings.afterFetch === 'none') return { applied: 0, failed: 0 };
    // What the server holds is touched only once the database's copy is on disk.
    await this.store.durable();
    const set = uidSet(uids);
    const ok = await this.tolerate(`after-fetch ${this.settings.afterFetch} in ${folder}`, async () => {
      switch (this.settings.afterFetch) {
        case 'mark_seen':
          await this.client.messageFlagsAdd(set, ['\\Seen'], { uid: true });
          return;
        case 'move': {
          const target = this.settings.afterFetchFolder ?? 'Archive';
          await this.ensureFolder(target);
          await this.client.messageMove(set, target, { uid: true });
          return;
        }
        case 'delete':
          await this.client.messageDelete(set, { uid: true });
          return;
        case 'none':
          return;
      }
    });
    return ok ? { applied: uids.length, failed: 0 } : { applied: 0, failed: uids.length };
  }

  private async moveOversize(uids: readonly number[]): Promise<boolean> {
    await this.store.durable();
    return this.tolerate('move to the oversize folder', async () => {
      await this.ensureFolder(this.settings.oversizeFolder);
      await this.client.messageMove(uidSet(uids), this.settings.oversizeFolder, { uid: true });
    });
  }

  /**
   * Re-applies actions that may have been lost (a crash or a dropped connection between commit
   * and action): oversize messages still here, stored messages still here when they should have
   * been moved or deleted, and recently stored messages still unseen.
   */
  private async reconcile(
    folder: string,
    uidValidity: number,
    lastUid: number,
  ): Promise<{ applied: number; failed: number }> {
    if (lastUid <= 0) return { applied: 0, failed: 0 };
    let applied = 0;
    let failed = 0;
    // LARGER compares the server's size, an estimate on Exchange: ask from below the limit.
    const below = Math.floor(this.settings.maxMessageBytes * (1 - SIZE_ESTIMATE_TOLERANCE));
    const large = await this.searchUids({ uid: `1:${lastUid}`, larger: below });
    const storedLarge = await this.store.storedUids(folder, uidValidity, large);
    const oversize = [...storedLarge.entries()]
      .filter(([, info]) => (info.rawSize ?? 0) > this.settings.maxMessageBytes)
      .map(([uid]) => uid);
    if (oversize.length > 0) {
      if (await this.moveOversize(oversize)) applied += oversize.length;
      else failed += oversize.length;
    }
    const skip = new Set(oversize);
    let pending: number[] = [];
    if (this.settings.afterFetch === 'move' || this.settings.afterFetch === 'delete') {
      const present = (await this.searchUids({ uid: `1:${lastUid}` })).filter((uid) => !skip.has(uid));
      // Only the header of an oversize message is stored: it is never moved on or deleted as done.
      pending = [...(await this.store.storedUids(folder, uidValidity, present)).entries()]
        .filter(([, info]) => (info.rawSize ?? 0) <= this.settings.maxMessageBytes)
        .map(([uid]) => uid);
    } else if (this.settings.afterFetch === 'mark_seen') {
      const from = Math.max(1, lastUid - this.settings.batchCount + 1);
      const unseen = (await this.searchUids({ uid: `${from}:${lastUid}`, seen: false })).filter(
        (uid) => !skip.has(uid),
      );
      const since = this.settings.clock().getTime() - this.settings.reconcileWindowMs;
      pending = [...(await this.store.storedUids(folder, uidValidity, unseen)).entries()]
        .filter(([, info]) => Date.parse(info.storedAt) >= since)
        .map(([uid]) => uid);
    }
    if (pending.length > 0) {
      this.log.info(
        { folder, uids: uidSet(pending), action: this.settings.afterFetch },
        'applying after-fetch actions left over from an earlier session',
      );
      const outcome = await this.applyAfterFetch(folder, pending);
      applied += outcome.applied;
      failed += outcome.failed;
    }
    return { applied, failed };
  }

  private async searchUids(query: { since?: Date; uid?: string; larger?: number; seen?: boolean }): Promise<number[]> {
    const found = await this.client.search(query, { uid: true });
    return Array.isArray(found) ? found : [];
  }

  private async ensureFolder(path: string): Promise<void> {
    if (this.createdFolders.has(path)) return;
    const existing = await this.client.list();
    if (!existing.some((folder) => folder.path.toLowerCase() === path.toLowerCase())) {
      await this.client.mailboxCreate(path);
      this.log.info({ folder: path }, 'created folder');
    }
    this.createdFolders.add(path);
  }

  /** Runs a mailbox action after a commit; true when it worked. Errors that end the session are thrown. */
  private async tolerate(what: string, action: () => Promise<void>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (error) {
      const mapped = mapImapError(error, this.context);
      if (endsSession(mapped) || !this.client.usable) throw mapped;
      this.log.warn({ err: mapped, what }, 'mailbox action failed; it is retried on the next cycle');
      return false;
    }
  }
}

function dateOf(message: FetchMessageObject): { internalDate?: Date } {
  const value = message.internalDate;
  if (value === undefined) return {};
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? {} : { internalDate: date };
}

/**
 * The header section of a message's first octets (through the blank line), for a message whose
 * download stopped at the limit; without a blank line, the octets up to the last line end.
 */
function headerSection(partial: Buffer): Buffer {
  const crlf = partial.indexOf('\r\n\r\n');
  const lf = partial.indexOf('\n\n');
  const ends = [crlf === -1 ? -1 : crlf + 4, lf === -1 ? -1 : lf + 2].filter((at) => at >= 0);
  if (ends.length > 0) return partial.subarray(0, Math.min(...ends));
  return partial.subarray(0, partial.lastIndexOf('\n') + 1);
}
