/**
 * Binds the Graph sync engine's storage port to one account, as `mailbox-sync-store.ts` does for
 * IMAP: the folder's delta link from the store, and fetched messages through `ingest-message.ts`
 * — the same parse and the same transaction, so that raw MIME, threading, contacts, events and
 * webhooks are exactly those of mail read over IMAP. A message's position is its Graph id; the
 * round's delta link is written in the transaction of the last messages it covered.
 */
import type { FetchedMessage } from '../../mail/imap/folder-sync.js';
import type { GraphFetchedMessage, GraphSyncStore } from '../../mail/graph/graph-sync.js';
import { sharedParsePool } from '../../mail/mime/parse-pool.js';
import { findStoredGraphIds, getDeltaLink, setDeltaLink, type Database } from '../../store/index.js';
import {
  ingestPrepared,
  prepareMessage,
  type IngestAccount,
  type IngestInput,
  type PreparedMessage,
} from './ingest-message.js';
import type { SyncStoreOptions } from './mailbox-sync-store.js';

/** The Graph sync engine's storage for `account`. */
export function createGraphSyncStore(
  db: Database,
  account: IngestAccount,
  options: SyncStoreOptions = {},
): GraphSyncStore {
  const parse = options.parse ?? ((raw: Buffer) => sharedParsePool().parse(raw));
  const preparing = new WeakMap<GraphFetchedMessage, Promise<PreparedMessage>>();
  const prepared = (message: GraphFetchedMessage): Promise<PreparedMessage> =>
    preparing.get(message) ?? prepareMessage(inputOf(message), parse);

  return {
    async getDeltaLink(folder) {
      return storing(db, () => getDeltaLink(db, account.id, folder));
    },
    prepare(message) {
      if (preparing.has(message)) return;
      const promise = prepareMessage(inputOf(message), parse);
      promise.catch(() => undefined);
      preparing.set(message, promise);
    },
    async ingestMany(messages, checkpoint) {
      const ready = await Promise.all(messages.map(prepared));
      const results = await storing(db, () =>
        ingestPrepared(db, account, ready, {
          ...(options.fence === undefined ? {} : { fence: options.fence }),
          durability: 'deferred',
          ...(checkpoint === undefined
            ? {}
            : {
                inTransaction: (tx: Database) => setDeltaLink(tx, account.id, checkpoint.folder, checkpoint.deltaLink),
              }),
        }),
      );
      for (const [index, result] of results.entries()) {
        const message = ready[index];
        if (message !== undefined) options.onIngested?.(result, message.input);
      }
      return results;
    },
    durable: () => storing(db, () => db.synced()),
    storedGraphIds: (graphIds) => storing(db, () => findStoredGraphIds(db, account.id, graphIds)),
  };
}

/**
 * The ingest input of a Graph message: its Graph id is its position; `uidvalidity` and `uid` are
 * zero here and stored as null (see IngestInput.graphId).
 */
function inputOf(message: GraphFetchedMessage): IngestInput & FetchedMessage {
  return {
    folder: message.folder,
    uidvalidity: 0,
    uid: 0,
    graphId: message.graphId,
    raw: message.raw,
    isJunk: message.isJunk,
    ...(message.internalDate === undefined ? {} : { internalDate: message.internalDate }),
    ...(message.size === undefined ? {} : { size: message.size }),
    ...(message.headersOnly === undefined ? {} : { headersOnly: message.headersOnly }),
    ...(message.initialImport === undefined ? {} : { initialImport: message.initialImport }),
  };
}

/** Runs a store call, turning a storage failure into its catalogue error, which the store's health records. */
async function storing<T>(db: Database, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw db.health.failed(error, 'ingest') ?? error;
  }
}
