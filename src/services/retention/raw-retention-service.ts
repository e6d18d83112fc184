/**
 * Retention of originals as a use case (issue 19, point 5). For every account with a "Keep
 * originals for" (`rawRetentionDays`), the messages received more than that many days ago lose
 * their original: the raw MIME and the bytes of their attached files. The conversation's text, its
 * sanitized HTML and the inline images that HTML shows stay — an image still inside the raw MIME is
 * parsed out of it (on the parse pool) and kept in its row, checked against the digest and size
 * recorded at ingest. Work goes in bounded batches (store/message-retention.ts), each in one short
 * transaction, and on SQLite the freed pages are then given back to the file system a few
 * megabytes at a time, so storage follows the window instead of growing for ever.
 *
 * The worker (workers/raw-retention.ts) decides when, and makes sure one node at a time sweeps;
 * `stillHolding` lets it renew that claim between batches and stop when it lost it.
 *
 * @see https://www.sqlite.org/pragma.html#pragma_incremental_vacuum
 */
import {
  claimSweep,
  findExpiredOriginals,
  getMessageRaw,
  listRetentionAccounts,
  releaseFreePages,
  releaseSweep,
  removeOriginals,
  type Database,
  type ExpiredOriginal,
  type OriginalRemoval,
} from '../../store/index.js';
import { sharedParsePool } from '../../mail/mime/parse-pool.js';
import type { ParseFunction } from '../inbound/ingest-message.js';

const DAY_MS = 86_400_000;

/** The name of the sweep's claim (`meta` key `sweep:raw-retention`, see store/sweep-claims.ts). */
export const RAW_RETENTION_SWEEP = 'raw-retention';

/** Inline images the sanitized HTML shows, by position (see mail/mime/sanitize-html.ts). Linear: no nested quantifier. */
const INLINE_POSITION = /data-postern-inline="(\d{1,6})"/g;

/** What one sweep removed. */
export interface OriginalsSweep {
  /** Accounts with a retention set that were looked at. */
  readonly accounts: number;
  /** Messages whose raw MIME was removed. */
  readonly messages: number;
  /** Attachments whose bytes were dropped. */
  readonly attachments: number;
  /** Bytes of stored content given up (see RemovedOriginals.bytes). */
  readonly bytes: number;
  /** Inline images the HTML shows that could not be kept (the raw MIME no longer yields them). */
  readonly imagesLost: number;
  /** False when the sweep stopped early because `stillHolding` said so. */
  readonly complete: boolean;
}

/** Options of {@link RawRetentionService}. */
export interface RawRetentionOptions {
  /** How raw MIME is parsed to keep inline images; default the process's parse pool. */
  readonly parse?: ParseFunction;
  /** Messages per batch (one transaction each). Default 100. */
  readonly batchSize?: number;
  /** SQLite pages given back per step of `incremental_vacuum`. Default 1024 (4 MB of 4 KB pages). */
  readonly vacuumPages?: number;
}

/** Removes expired originals; see the module comment. */
export class RawRetentionService {
  private readonly parse: ParseFunction;
  private readonly batchSize: number;
  private readonly vacuumPages: number;

  constructor(
    private readonly db: Database,
    options: RawRetentionOptions = {},
  ) {
    this.parse = options.parse ?? ((raw) => sharedParsePool().parse(raw));
    this.batchSize = Math.max(1, options.batchSize ?? 100);
    this.vacuumPages = Math.max(1, options.vacuumPages ?? 1024);
  }

  /**
   * Claims (or renews) the sweep for `nodeId` for `leaseMs` from now, by the database clock: true
   * when this node holds it, false while another node's claim is younger than that.
   */
  async claim(nodeId: string, leaseMs: number): Promise<boolean> {
    const now = this.db.now();
    return claimSweep(this.db, RAW_RETENTION_SWEEP, nodeId, now, new Date(now.getTime() - leaseMs));
  }

  /** Lets go of the sweep's claim if `nodeId` holds it (a clean stop: another node may take over at once). */
  async release(nodeId: string): Promise<void> {
    await releaseSweep(this.db, RAW_RETENTION_SWEEP, nodeId);
  }

  /**
   * Removes every original past its account's retention, as of the database clock, then gives
   * SQLite's freed pages back. `stillHolding` is asked before each batch; false stops the sweep.
   */
  async sweep(stillHolding: () => Promise<boolean> = async () => true): Promise<OriginalsSweep> {
    const now = this.db.now();
    const accounts = await listRetentionAccounts(this.db);
    let messages = 0;
    let attachments = 0;
    let bytes = 0;
    let imagesLost = 0;
    let complete = true;
    sweeping: for (const account of accounts) {
      const before = new Date(now.getTime() - account.days * DAY_MS);
      for (;;) {
        if (!(await stillHolding())) {
          complete = false;
          break sweeping;
        }
        const due = await findExpiredOriginals(this.db, account.accountId, before, this.batchSize);
        if (due.length === 0) break;
        const removals: OriginalRemoval[] = [];
        for (const original of due) {
          const { removal, lost } = await this.plan(original);
          removals.push(removal);
          imagesLost += lost;
        }
        const removed = await removeOriginals(this.db, removals, now);
        messages += removed.messages;
        attachments += removed.attachments;
        bytes += removed.bytes;
        await this.releasePages();
        if (due.length < this.batchSize) break;
      }
    }
    return { accounts: accounts.length, messages, attachments, bytes, imagesLost, complete };
  }

  /** Gives SQLite's free pages back in bounded steps (nothing to do on PostgreSQL). */
  private async releasePages(): Promise<void> {
    for (let step = 0; step < 10_000; step += 1) {
      if ((await releaseFreePages(this.db, this.vacuumPages)) === 0) return;
    }
  }

  /**
   * Which attachments of the message stay: the inline images its HTML shows, with their bytes
   * taken out of the raw MIME when that is where they are.
   */
  private async plan(original: ExpiredOriginal): Promise<{ removal: OriginalRemoval; lost: number }> {
    const shown = new Set<number>();
    for (const match of (original.html ?? '').matchAll(INLINE_POSITION)) shown.add(Number(match[1]));
    const wanted = original.attachments.filter((attachment) => attachment.inline && shown.has(attachment.position));
    const keep: Array<{ attachmentId: number; content?: Buffer }> = [];
    let lost = 0;
    let parsed: Awaited<ReturnType<ParseFunction>> | undefined;
    for (const attachment of wanted) {
      if (attachment.rawPart === null) {
        keep.push({ attachmentId: attachment.id });
        continue;
      }
      parsed ??= await this.parse(await getMessageRaw(this.db, original.messageId));
      const part = parsed.attachments[attachment.rawPart];
      // Bytes that are not the ones stored at ingest are never kept in their place (the download
      // already answered STORE_ATTACHMENT_MISMATCH for them).
      if (part !== undefined && part.sha256 === attachment.sha256 && part.size === attachment.size)
        keep.push({ attachmentId: attachment.id, content: part.content });
      else lost += 1;
    }
    return { removal: { messageId: original.messageId, keep }, lost };
  }
}
