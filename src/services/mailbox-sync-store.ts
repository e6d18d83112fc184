/**
 * Binds the IMAP sync engine's storage port to one account: checkpoints from the store, and
 * every fetched message through `ingestMessage` (one transaction per message).
 */
import type { FetchedMessage, SyncStore } from '../mail/imap/folder-sync.js';
import { findStoredUids, getCheckpoint, resetCheckpoint, type Database } from '../store/index.js';
import { ingestMessage, type IngestAccount, type IngestResult } from './ingest-message.js';

/** Options of {@link createSyncStore}. */
export interface SyncStoreOptions {
  /** Called after each message is stored or recognised as a duplicate (webhooks, metrics). */
  readonly onIngested?: (result: IngestResult, message: FetchedMessage) => void;
}

/** The sync engine's storage for `account`. */
export function createSyncStore(db: Database, account: IngestAccount, options: SyncStoreOptions = {}): SyncStore {
  return {
    async getCheckpoint(folder) {
      const checkpoint = await getCheckpoint(db, account.id, folder);
      return checkpoint === undefined ? undefined : { uidValidity: checkpoint.uidValidity, lastUid: checkpoint.lastUid, updatedAt: checkpoint.updatedAt };
    },
    resetCheckpoint: (folder, uidValidity, lastUid) => resetCheckpoint(db, account.id, folder, uidValidity, lastUid),
    async ingest(message) {
      const result = await ingestMessage(db, account, message);
      options.onIngested?.(result, message);
      return result;
    },
    storedUids: (folder, uidValidity, uids) => findStoredUids(db, account.id, folder, uidValidity, uids),
  };
}
