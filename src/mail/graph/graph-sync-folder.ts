/**
 * One folder read through Microsoft Graph: a delta round from the folder's stored delta link (or,
 * the first time, from the folder itself within the account's first-sync window), each new
 * message's MIME from `$value` handed to the store in groups, and the round's new delta link
 * committed in the same transaction as the last group — so that after a crash the round is redone
 * from the previous link, and what was already stored is recognised by its Graph id (or its
 * Message-ID) and not fetched again. Nothing the round reported is passed over: a failure ends the
 * round before its link is stored.
 *
 * Downloads run in a sliding window of four (the mailbox's MailboxConcurrency), and each full
 * group is committed in the background — at most one commit in flight, its after-fetch actions
 * after it — while the next group is fetched: at most two groups and the window are held. The
 * last group waits for every earlier one before it is committed with the link.
 *
 * After-fetch actions (mark read, move, delete) run after the commit, in `$batch`es of 20
 * (`PATCH isRead`, `DELETE`, `POST …/move`, one outcome per message); a message larger than the
 * account's limit is not downloaded — its header (`internetMessageHeaders`) is stored and it is
 * moved to the oversize folder. An action that failed, or was cut short by a crash, is applied on
 * the next reconciliation: stored messages still in the folder (unread ones, for "mark read").
 *
 * A delta link Graph no longer knows (`410 SyncStateNotFound`, GRAPH_DELTA_EXPIRED) starts the
 * folder over, within the same window; stored messages are then duplicates, never stored twice.
 *
 * @see https://learn.microsoft.com/graph/delta-query-messages
 * @see https://learn.microsoft.com/graph/api/message-delta
 * @see ../../../../shared/reference/microsoft-protocols.md §8 (Delta, MIME, Mark read, Move)
 */
import { z } from 'zod';
import { PosternError, isPosternError } from '../../errors/index.js';
import type { AfterFetchAction, SyncLogger } from '../imap/folder-sync.js';
import type { FirstSync } from '../imap/sync-plan.js';
import { GraphCallStopped, type GraphBatchItem, type GraphBatchOutcome, type GraphClient } from './graph-client.js';
import { findGraphFolder } from './graph-folders.js';

/** A message read through Graph, handed to the store. */
export interface GraphFetchedMessage {
  /** The folder as the account names it (its `folder`, or the Junk folder's name). */
  readonly folder: string;
  readonly graphId: string;
  /** The MIME from `$value`; for an oversize message only its header section. */
  readonly raw: Buffer;
  readonly isJunk: boolean;
  readonly internalDate?: Date;
  readonly size?: number;
  readonly headersOnly?: boolean;
  readonly initialImport?: boolean;
}

/** A folder's delta link, as the store keeps it. */
export interface DeltaCheckpoint {
  readonly deltaLink: string;
  readonly updatedAt: string;
}

/** What the Graph sync needs from storage; the service layer binds it to an account. */
export interface GraphSyncStore {
  getDeltaLink(folder: string): Promise<DeltaCheckpoint | undefined>;
  /** Called as a message arrives, before it is ingested: parsing may start at once. */
  prepare?(message: GraphFetchedMessage): void;
  /**
   * Stores messages in ONE transaction; with `checkpoint`, records the folder's new delta link in
   * the same transaction (with no messages, only the link). Results in order.
   */
  ingestMany(
    messages: readonly GraphFetchedMessage[],
    checkpoint?: { readonly folder: string; readonly deltaLink: string },
  ): Promise<ReadonlyArray<{ readonly outcome: 'stored' | 'duplicate' }>>;
  /**
   * Resolves once everything stored so far is on disk: a group commit may return before (see
   * TransactionOptions in store/database.ts). Nothing is done to the mail server's copy of a
   * stored message — after-fetch action, oversize move — before this.
   */
  durable(): Promise<void>;
  /** Which of these Graph ids hold stored messages. */
  storedGraphIds(
    graphIds: readonly string[],
  ): Promise<ReadonlyMap<string, { readonly rawSize: number | null; readonly storedAt: string }>>;
}

/** A message too large to download, reported to the caller. */
export interface GraphOversizeNotice {
  readonly folder: string;
  readonly graphId: string;
  readonly size: number;
  readonly limit: number;
  /** The folder it was moved to, or null when the move failed (it is retried). */
  readonly movedTo: string | null;
}

/** What one folder round did. */
export interface GraphFolderReport {
  readonly folder: string;
  readonly reset: 'first-sync' | 'delta-expired' | null;
  readonly stored: number;
  readonly duplicates: number;
  /** Messages the round reported that were stored before (a redone round, an update). */
  readonly known: number;
  readonly oversize: readonly GraphOversizeNotice[];
  readonly actionsApplied: number;
  readonly actionsFailed: number;
}

/** Settings of a Graph folder sync. */
export interface GraphFolderSettings {
  readonly afterFetch: AfterFetchAction;
  readonly afterFetchFolder: string | null;
  readonly maxMessageBytes: number;
  readonly oversizeFolder: string;
  readonly firstSync: FirstSync;
  /** `Prefer: odata.maxpagesize`. */
  readonly pageSize: number;
  /** Messages committed per transaction, at most. */
  readonly groupCount: number;
  /** Bytes of MIME committed per transaction, at most (a larger message is committed alone). */
  readonly groupBytes: number;
  /** Unread messages stored this recently are marked read again on reconciliation. */
  readonly reconcileWindowMs: number;
  /** Messages of a folder looked at by one reconciliation, at most. */
  readonly reconcileLimit: number;
  readonly clock: () => Date;
}

/** A folder to sync: its name in the account and its Graph id. */
export interface GraphFolder {
  readonly name: string;
  readonly id: string;
  readonly junk: boolean;
}

/** Requests in flight at once for one folder's messages (the client's own limit is the same). */
const PARALLEL = 4;
/** The largest header section kept for an oversize message (Exchange's own limit is 256 KB). */
const MAX_HEADER_BYTES = 256 * 1024;
const DAY_MS = 86_400_000;

const deltaItem = z.object({
  id: z.string().min(1).max(2048),
  '@removed': z.object({}).passthrough().optional(),
  isRead: z.boolean().optional(),
  receivedDateTime: z.string().max(64).optional(),
});
const deltaPage = z.object({
  value: z.array(deltaItem),
  '@odata.nextLink': z.string().max(8192).optional(),
  '@odata.deltaLink': z.string().max(8192).optional(),
});
const listPage = z.object({
  value: z.array(z.object({ id: z.string().min(1).max(2048) })),
  '@odata.nextLink': z.string().max(8192).optional(),
});
const headersAnswer = z.object({
  receivedDateTime: z.string().max(64).nullish(),
  internetMessageHeaders: z
    .array(z.object({ name: z.string().max(1000), value: z.string().max(MAX_HEADER_BYTES) }))
    .max(10_000)
    .nullish(),
});
const folderAnswer = z.object({ id: z.string().min(1).max(2048), displayName: z.string().max(1000).optional() });

type DeltaItem = z.infer<typeof deltaItem>;

/** Syncs the folders of one mailbox over one Graph client; create one per client. */
export class GraphFolderSync {
  /** Folder ids by path, resolved or created on this client. */
  private readonly folderIds = new Map<string, string>();
  /** Folders whose after-fetch actions failed and must be reconciled on the next round. */
  readonly needsReconcile = new Set<string>();

  constructor(
    private readonly client: GraphClient,
    private readonly settings: GraphFolderSettings,
    private readonly store: GraphSyncStore,
    private readonly log: SyncLogger,
    private readonly onOversize: (notice: GraphOversizeNotice) => void,
  ) {}

  /** The Graph id of a folder by path (`Inbox`, `Junk Email`, `Customers/Acme`), or undefined. */
  async findFolder(path: string): Promise<string | undefined> {
    const key = path.toLowerCase();
    const known = this.folderIds.get(key);
    if (known !== undefined) return known;
    const found = await findGraphFolder(this.client, path);
    if (found !== undefined) this.folderIds.set(key, found.id);
    return found?.id;
  }

  /** Syncs one folder; `reconcile` also re-applies after-fetch actions that may have been lost. */
  async sync(folder: GraphFolder, reconcile: boolean): Promise<GraphFolderReport> {
    let actionsApplied = 0;
    let actionsFailed = 0;
    if (reconcile || this.needsReconcile.has(folder.name)) {
      const outcome = await this.reconcile(folder);
      actionsApplied += outcome.applied;
      actionsFailed += outcome.failed;
    }
    const checkpoint = await this.store.getDeltaLink(folder.name);
    let round: Omit<GraphFolderReport, 'actionsApplied' | 'actionsFailed'>;
    try {
      round = await this.round(folder, checkpoint, checkpoint === undefined ? 'first-sync' : null);
    } catch (error) {
      if (!isPosternError(error, 'GRAPH_DELTA_EXPIRED') || checkpoint === undefined) throw error;
      this.log.warn(
        { folder: folder.name, err: error },
        "Graph no longer knows the folder's delta link: the folder is read again, stored messages are recognised",
      );
      // The old link stays until the new round's link replaces it: a crash meanwhile comes back
      // here, with the same window (for "new only", from the old link's date).
      round = await this.round(folder, checkpoint, 'delta-expired');
    }
    const actions = this.lastRoundActions;
    actionsApplied += actions.applied;
    actionsFailed += actions.failed;
    if (actionsFailed > 0) this.needsReconcile.add(folder.name);
    else this.needsReconcile.delete(folder.name);
    return { ...round, actionsApplied, actionsFailed };
  }

  private lastRoundActions = { applied: 0, failed: 0 };

  /**
   * One delta round. `reset` null: from the stored link; otherwise from the folder itself, within
   * the first-sync window (a reset after an expired link uses the old link's date for "new only").
   */
  private async round(
    folder: GraphFolder,
    checkpoint: DeltaCheckpoint | undefined,
    reset: GraphFolderReport['reset'],
  ): Promise<Omit<GraphFolderReport, 'actionsApplied' | 'actionsFailed'>> {
    this.lastRoundActions = { applied: 0, failed: 0 };
    const window = reset === null ? null : windowOf(this.settings.firstSync, reset, checkpoint, this.settings.clock());
    const link = reset === null && checkpoint !== undefined ? checkpoint.deltaLink : this.firstLink(folder, window);
    if (reset !== null) this.log.info({ folder: folder.name, reason: reset }, 'Graph folder sync starts afresh');
    const report = {
      folder: folder.name,
      reset,
      stored: 0,
      duplicates: 0,
      known: 0,
      oversize: [] as GraphOversizeNotice[],
    };
    const initialImport = reset !== null;
    const skipExisting = window?.fromNow === true;
    let group: GraphFetchedMessage[] = [];
    let groupBytes = 0;
    // One group at a time is committed (and its after-fetch actions run) in the background while
    // the next one is fetched; a failure there ends the round at the next step, before the link.
    let background: Promise<void> = Promise.resolve();
    let failure: { readonly error: unknown } | undefined;

    const commit = async (messages: GraphFetchedMessage[], deltaLink?: string): Promise<void> => {
      const results = await this.store.ingestMany(
        messages,
        deltaLink === undefined ? undefined : { folder: folder.name, deltaLink },
      );
      for (const result of results) {
        if (result.outcome === 'stored') report.stored += 1;
        else report.duplicates += 1;
      }
      await this.afterCommit(folder, messages, report.oversize);
    };
    const settle = async (): Promise<void> => {
      await background;
      if (failure !== undefined) throw failure.error;
    };
    const commitInBackground = async (): Promise<void> => {
      // At most one commit in flight: the group before this one must be stored first.
      await settle();
      const messages = group;
      group = [];
      groupBytes = 0;
      background = commit(messages).catch((error: unknown) => {
        failure = { error };
      });
    };

    // A sliding window of downloads, taken in delta order; pages are read as the window needs them.
    const items = this.freshItems(folder, link, skipExisting, report);
    const downloads: Array<Promise<GraphFetchedMessage | undefined>> = [];
    let deltaLink: string | undefined;
    let exhausted = false;
    const fill = async (): Promise<void> => {
      while (!exhausted && downloads.length < PARALLEL) {
        const next = await items.next();
        if (next.done === true) {
          exhausted = true;
          deltaLink = next.value;
          return;
        }
        const download = this.fetch(folder, next.value, initialImport);
        // Awaited in order below; a failure meanwhile must not count as unhandled.
        download.catch(() => undefined);
        downloads.push(download);
      }
    };
    try {
      for (;;) {
        if (failure !== undefined) throw failure.error;
        await fill();
        const download = downloads.shift();
        if (download === undefined) break;
        const message = await download;
        if (message === undefined) continue;
        this.store.prepare?.(message);
        if (
          group.length > 0 &&
          (group.length >= this.settings.groupCount || groupBytes + message.raw.length > this.settings.groupBytes)
        )
          await commitInBackground();
        group.push(message);
        groupBytes += message.raw.length;
      }
      if (deltaLink === undefined) throw new Error('delta round ended without its link');
      // The link goes with the last group, only once every earlier group is stored.
      await settle();
      const messages = group;
      group = [];
      await commit(messages, deltaLink);
      return report;
    } catch (error) {
      await background;
      throw error;
    }
  }

  /**
   * The round's messages not yet stored, page by page from `link`; returns the round's delta link.
   * Messages the store already holds are counted as known and not fetched again.
   */
  private async *freshItems(
    folder: GraphFolder,
    first: string,
    skipExisting: boolean,
    report: { known: number },
  ): AsyncGenerator<DeltaItem, string, undefined> {
    let link = first;
    for (;;) {
      const page = deltaPage.parse(
        await this.client.json({
          method: 'GET',
          path: link,
          headers: { prefer: `odata.maxpagesize=${this.settings.pageSize}` },
        }),
      );
      const present = page.value.filter((item) => item['@removed'] === undefined);
      const stored = present.length === 0 ? new Map() : await this.store.storedGraphIds(present.map((item) => item.id));
      report.known += present.filter((item) => stored.has(item.id)).length;
      if (!skipExisting) for (const item of present) if (!stored.has(item.id)) yield item;
      if (page['@odata.nextLink'] !== undefined) {
        link = page['@odata.nextLink'];
        continue;
      }
      const deltaLink = page['@odata.deltaLink'];
      if (deltaLink === undefined)
        throw new PosternError('GRAPH_REQUEST_FAILED', {
          message: `Microsoft Graph ended a delta page of ${folder.name} with neither a next link nor a delta link (mailbox ${this.client.mailbox}).`,
          details: { mailbox: this.client.mailbox, folder: folder.name },
        });
      return deltaLink;
    }
  }

  /** The first request of a round that starts from the folder itself. */
  private firstLink(folder: GraphFolder, window: SyncWindow | null): string {
    const select = '$select=id,isRead,receivedDateTime';
    const since = window?.since;
    const filter =
      since === undefined || since === null
        ? ''
        : `&$filter=${encodeURIComponent(`receivedDateTime ge ${since.toISOString().replace(/\.\d{3}Z$/, 'Z')}`)}`;
    return `/mailFolders/${encodeURIComponent(folder.id)}/messages/delta?${select}${filter}`;
  }

  /** A message's MIME, or its header when it is over the limit; undefined when it is gone. */
  private async fetch(
    folder: GraphFolder,
    item: DeltaItem,
    initialImport: boolean,
  ): Promise<GraphFetchedMessage | undefined> {
    const path = `/messages/${encodeURIComponent(item.id)}`;
    const base = {
      folder: folder.name,
      graphId: item.id,
      isJunk: folder.junk,
      ...dateOf(item.receivedDateTime),
      ...(initialImport ? { initialImport } : {}),
    };
    try {
      const raw = await this.client.bytes({ method: 'GET', path: `${path}/$value` }, this.settings.maxMessageBytes);
      return { ...base, raw };
    } catch (error) {
      if (gone(error)) return undefined;
      if (!isPosternError(error, 'GRAPH_MESSAGE_TOO_LARGE')) throw error;
      const size = typeof error.details?.size === 'number' ? error.details.size : this.settings.maxMessageBytes + 1;
      try {
        const answer = headersAnswer.parse(
          await this.client.json({
            method: 'GET',
            path: `${path}?$select=internetMessageHeaders,receivedDateTime`,
          }),
        );
        return { ...base, raw: headerSection(answer.internetMessageHeaders ?? []), size, headersOnly: true };
      } catch (again) {
        if (gone(again)) return undefined;
        throw again;
      }
    }
  }

  /**
   * After a commit: the after-fetch action of the group's messages in `$batch`es of 20, oversize
   * ones moved aside instead, one by one.
   */
  private async afterCommit(
    folder: GraphFolder,
    messages: readonly GraphFetchedMessage[],
    notices: GraphOversizeNotice[],
  ): Promise<void> {
    const oversize = messages.filter((message) => message.headersOnly === true);
    const normal = messages.filter((message) => message.headersOnly !== true);
    // What the mailbox holds is touched only once the database's copy is on disk.
    if (oversize.length > 0 || (normal.length > 0 && this.settings.afterFetch !== 'none')) await this.store.durable();
    const moved = await mapLimited(oversize, PARALLEL, async (message) => {
      const done = await this.tolerate('move to the oversize folder', () =>
        this.move(message.graphId, this.settings.oversizeFolder),
      );
      const notice: GraphOversizeNotice = {
        folder: folder.name,
        graphId: message.graphId,
        size: message.size ?? message.raw.length,
        limit: this.settings.maxMessageBytes,
        movedTo: done ? this.settings.oversizeFolder : null,
      };
      notices.push(notice);
      this.log.warn({ ...notice }, 'message larger than the account limit: header stored, message moved aside');
      this.onOversize(notice);
      return done;
    });
    const outcomes = [...moved, ...(await this.applyActions(normal.map((message) => message.graphId)))];
    for (const ok of outcomes) {
      if (ok === undefined) continue;
      if (ok) this.lastRoundActions.applied += 1;
      else this.lastRoundActions.failed += 1;
    }
  }

  /**
   * The account's after-fetch action on these messages, in `$batch`es: per message true when done
   * (or gone meanwhile), false when it failed (retried on the next reconciliation), undefined for
   * none. Stopping and throttling go on up.
   */
  private async applyActions(graphIds: readonly string[]): Promise<Array<boolean | undefined>> {
    const action = this.settings.afterFetch;
    if (action === 'none' || graphIds.length === 0) return graphIds.map(() => undefined);
    const failedAll = (error: unknown): boolean[] => {
      if (error instanceof GraphCallStopped || isPosternError(error, 'GRAPH_THROTTLED')) throw error;
      this.log.warn({ err: error, what: action }, 'mailbox action failed; it is retried on the next round');
      return graphIds.map(() => false);
    };
    let itemOf: (graphId: string) => GraphBatchItem;
    switch (action) {
      case 'mark_seen':
        itemOf = (graphId) => ({ method: 'PATCH', path: messagePath(graphId), body: { isRead: true } });
        break;
      case 'delete':
        itemOf = (graphId) => ({ method: 'DELETE', path: messagePath(graphId) });
        break;
      case 'move': {
        let destinationId: string;
        try {
          destinationId = await this.ensureFolder(this.settings.afterFetchFolder ?? 'Archive');
        } catch (error) {
          return failedAll(error);
        }
        itemOf = (graphId) => ({ method: 'POST', path: `${messagePath(graphId)}/move`, body: { destinationId } });
        break;
      }
    }
    let outcomes: GraphBatchOutcome[];
    try {
      outcomes = await this.client.batch(graphIds.map(itemOf));
    } catch (error) {
      return failedAll(error);
    }
    let throttled: PosternError | undefined;
    const results = outcomes.map((outcome) => {
      if (outcome.ok || gone(outcome.error)) return true;
      if (isPosternError(outcome.error, 'GRAPH_THROTTLED')) throttled ??= outcome.error;
      else
        this.log.warn({ err: outcome.error, what: action }, 'mailbox action failed; it is retried on the next round');
      return false;
    });
    if (throttled !== undefined) throw throttled;
    return results;
  }

  private async move(graphId: string, target: string): Promise<void> {
    const destinationId = await this.ensureFolder(target);
    await this.client.json({
      method: 'POST',
      path: `/messages/${encodeURIComponent(graphId)}/move`,
      body: { json: { destinationId } },
    });
  }

  /** A folder's id by path, created (at the top of the mailbox, or under its parent) when missing. */
  private async ensureFolder(path: string): Promise<string> {
    const found = await this.findFolder(path);
    if (found !== undefined) return found;
    const parts = path.split('/').filter((part) => part.length > 0);
    const name = parts.pop() ?? path;
    const parent = parts.length === 0 ? undefined : await this.ensureFolder(parts.join('/'));
    const created = folderAnswer.parse(
      await this.client.json({
        method: 'POST',
        path: parent === undefined ? '/mailFolders' : `/mailFolders/${encodeURIComponent(parent)}/childFolders`,
        body: { json: { displayName: name } },
      }),
    );
    this.log.info({ folder: path }, 'created folder');
    this.folderIds.set(path.toLowerCase(), created.id);
    return created.id;
  }

  /**
   * Re-applies actions that may have been lost: oversize messages still in the folder, stored
   * messages still there when they should have been moved or deleted, and recently stored
   * messages still unread.
   */
  private async reconcile(folder: GraphFolder): Promise<{ applied: number; failed: number }> {
    const unreadOnly = this.settings.afterFetch === 'mark_seen' || this.settings.afterFetch === 'none';
    const ids = await this.listFolder(folder, unreadOnly);
    if (ids.length === 0) return { applied: 0, failed: 0 };
    const stored = await this.store.storedGraphIds(ids);
    const since = this.settings.clock().getTime() - this.settings.reconcileWindowMs;
    let applied = 0;
    let failed = 0;
    const entries = [...stored];
    const oversize = entries.filter(([, info]) => (info.rawSize ?? 0) > this.settings.maxMessageBytes);
    const normal = entries.filter(
      ([, info]) =>
        (info.rawSize ?? 0) <= this.settings.maxMessageBytes &&
        !(this.settings.afterFetch === 'mark_seen' && Date.parse(info.storedAt) < since),
    );
    if (entries.length > 0) await this.store.durable();
    const outcomes = [
      ...(await mapLimited(oversize, PARALLEL, ([graphId]) =>
        this.tolerate('move to the oversize folder', () => this.move(graphId, this.settings.oversizeFolder)),
      )),
      ...(await this.applyActions(normal.map(([graphId]) => graphId))),
    ];
    for (const ok of outcomes) {
      if (ok === true) applied += 1;
      else if (ok === false) failed += 1;
    }
    if (applied + failed > 0)
      this.log.info(
        { folder: folder.name, applied, failed, action: this.settings.afterFetch },
        'applied after-fetch actions left over from an earlier round',
      );
    return { applied, failed };
  }

  /** Ids of the folder's messages (unread ones only, when asked), newest first, up to the limit. */
  private async listFolder(folder: GraphFolder, unreadOnly: boolean): Promise<string[]> {
    const filter = unreadOnly ? `&$filter=${encodeURIComponent('isRead eq false')}` : '';
    let link: string | undefined =
      `/mailFolders/${encodeURIComponent(folder.id)}/messages?$select=id&$top=100${filter}`;
    const ids: string[] = [];
    while (link !== undefined && ids.length < this.settings.reconcileLimit) {
      const page = listPage.parse(await this.client.json({ method: 'GET', path: link }));
      ids.push(...page.value.map((item) => item.id));
      link = page['@odata.nextLink'];
    }
    return ids.slice(0, this.settings.reconcileLimit);
  }

  /** Runs a mailbox action after a commit; true when it worked. Stopping and throttling go on up. */
  private async tolerate(what: string, action: () => Promise<void>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (error) {
      if (gone(error)) return true;
      if (error instanceof GraphCallStopped || isPosternError(error, 'GRAPH_THROTTLED')) throw error;
      this.log.warn({ err: error, what }, 'mailbox action failed; it is retried on the next round');
      return false;
    }
  }
}

/** What a round that starts from the folder itself takes in. */
interface SyncWindow {
  /** Messages received on or after this; null: everything. */
  readonly since: Date | null;
  /** Take in nothing already there: only mail that comes later. */
  readonly fromNow: boolean;
}

/**
 * The window of a fresh start: the account's first-sync setting; after an expired link, the same
 * window, or for "new mail only" from the day before the old link was stored.
 */
export function windowOf(
  firstSync: FirstSync,
  reset: 'first-sync' | 'delta-expired',
  checkpoint: DeltaCheckpoint | undefined,
  now: Date,
): SyncWindow {
  switch (firstSync.kind) {
    case 'all':
      return { since: null, fromNow: false };
    case 'days':
      return { since: new Date(now.getTime() - Math.max(1, firstSync.days) * DAY_MS), fromNow: false };
    case 'new': {
      if (reset === 'first-sync' || checkpoint === undefined) return { since: null, fromNow: true };
      const stored = Date.parse(checkpoint.updatedAt);
      return { since: new Date((Number.isNaN(stored) ? now.getTime() : stored) - DAY_MS), fromNow: false };
    }
  }
}

/** The header section of a message from Graph's `internetMessageHeaders`, capped. */
export function headerSection(headers: ReadonlyArray<{ readonly name: string; readonly value: string }>): Buffer {
  const lines: string[] = [];
  let length = 2;
  for (const header of headers) {
    // A name with a colon or a line break, or a value with a bare line break, would forge headers.
    if (header.name.length === 0 || /[\s:]/.test(header.name)) continue;
    const line = `${header.name}: ${header.value.replace(/\r?\n(?![ \t])/g, ' ')}\r\n`;
    if (length + line.length > MAX_HEADER_BYTES) break;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(`${lines.join('')}\r\n`, 'utf8');
}

function dateOf(value: string | undefined): { internalDate?: Date } {
  if (value === undefined) return {};
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? {} : { internalDate: date };
}

function messagePath(graphId: string): string {
  return `/messages/${encodeURIComponent(graphId)}`;
}

/** The message went away meanwhile (deleted or moved by someone else): nothing to do. */
function gone(error: unknown): boolean {
  return isPosternError(error) && error.details?.status === 404;
}

/** Maps with at most `limit` calls in flight; results in input order. The first failure stops the rest. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  const queue = [...items.entries()];
  let failed = false;
  const lane = async (): Promise<void> => {
    for (let entry = queue.shift(); entry !== undefined && !failed; entry = queue.shift()) {
      try {
        results[entry[0]] = await work(entry[1]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
