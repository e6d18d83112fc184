/**
 * Binds the IMAP sync engine's storage port to one account: checkpoints from the store, and
 * fetched messages through `ingest-message.ts` — one message alone, or a group of messages in one
 * transaction (a group commit). Each message is parsed as soon as it arrives, by default on the
 * process's parse pool (worker threads, see mail/mime/parse-pool.ts), so that parsing overlaps
 * with the fetch and with the commits before it; a transaction opens only once its messages are
 * parsed, so the write lock is held for the SQL alone.
 *
 * A storage failure (a full disk, a read-only or vanished database) comes out as the store's
 * catalogue error (`STORE_DISK_FULL`…): the sync engine must not report it as an IMAP failure.
 */
import type { FetchedMessage, SyncStore } from '../../mail/imap/folder-sync.js';
import { sharedParsePool } from '../../mail/mime/parse-pool.js';
import { advanceCheckpoint, findStoredUids, getCheckpoint, resetCheckpoint, type Database } from '../../store/index.js';
import {
  ingestPrepared,
  prepareMessage,
  type IngestAccount,
  type IngestResult,
  type ParseFunction,
  type PreparedMessage,
} from './ingest-message.js';

/** Options of {@link createSyncStore}. */
export interface SyncStoreOptions {
  /**
   * Called after each message is stored or recognised as a duplicate (webhooks, metrics) — once
   * its transaction has committed, in UID order.
   */
  readonly onIngested?: (result: IngestResult, message: FetchedMessage) => void;
  /** How messages are parsed; default the process's parse pool. */
  readonly parse?: ParseFunction;
  /**
   * Several nodes: checks, inside each write's transaction, that this node still holds the
   * mailbox's lease (throws MAILBOX_LEASE_LOST otherwise). Absent on a single node.
   */
  readonly fence?: (tx: Database) => Promise<void>;
}

/** The sync engine's storage for `account`. */
export function createSyncStore(db: Database, account: IngestAccount, options: SyncStoreOptions = {}): SyncStore {
  const parse = options.parse ?? ((raw: Buffer) => sharedParsePool().parse(raw));
  const { fence } = options;
  const fenced = <T>(write: (tx: Database) => Promise<T>): Promise<T> =>
    fence === undefined
      ? write(db)
      : db.transaction(async (tx) => {
          await fence(tx);
          return write(tx);
        });
  // Parses started by prepare(), until their message is ingested (or dropped with its batch).
  const preparing = new WeakMap<FetchedMessage, Promise<PreparedMessage>>();
  const prepared = (message: FetchedMessage): Promise<PreparedMessage> =>
    preparing.get(message) ?? prepareMessage(message, parse);

  const ingestMany = async (messages: readonly FetchedMessage[]): Promise<IngestResult[]> => {
    const ready = await Promise.all(messages.map(prepared));
    const results = await storing(
      db,
      () => ingestPrepared(db, account, ready, { ...(fence === undefined ? {} : { fence }), durability: 'deferred' }),
      'write',
    );
    for (const [index, result] of results.entries()) {
      const message = messages[index];
      if (message !== undefined) options.onIngested?.(result, message);
    }
    return results;
  };

  return {
    async getCheckpoint(folder) {
      const checkpoint = await storing(db, () => getCheckpoint(db, account.id, folder));
      return checkpoint === undefined
        ? undefined
        : { uidValidity: checkpoint.uidValidity, lastUid: checkpoint.lastUid, updatedAt: checkpoint.updatedAt };
    },
    resetCheckpoint: (folder, uidValidity, lastUid) =>
      storing(db, () => fenced((tx) => resetCheckpoint(tx, account.id, folder, uidValidity, lastUid)), 'write'),
    advanceCheckpoint: (folder, uidValidity, uid) =>
      storing(db, () => fenced((tx) => advanceCheckpoint(tx, account.id, folder, uidValidity, uid)), 'write'),
    prepare(message) {
      if (preparing.has(message)) return;
      const promise = prepareMessage(message, parse);
      // Never rejects (parsing never fails); the guard keeps an abandoned batch from surfacing.
      promise.catch(() => undefined);
      preparing.set(message, promise);
    },
    async ingest(message) {
      const [result] = await ingestMany([message]);
      if (result === undefined) throw new Error(`no ingest result for UID ${message.uid}`);
      return result;
    },
    ingestMany,
    durable: () => storing(db, () => db.synced(), 'write'),
    storedUids: (folder, uidValidity, uids) =>
      storing(db, () => findStoredUids(db, account.id, folder, uidValidity, uids)),
  };
}

/**
 * Runs a store call, turning a storage failure into its catalogue error (see the module comment)
 * and telling the store's health about it; a write that succeeds tells it the store writes again.
 */
async function storing<T>(db: Database, call: () => Promise<T>, kind: 'read' | 'write' = 'read'): Promise<T> {
  let result: T;
  try {
    result = await call();
  } catch (error) {
    throw db.health.failed(error, 'ingest') ?? error;
  }
  if (kind === 'write') db.health.succeeded('ingest');
  return result;
}
