/**
 * The storage layer: open the database, migrate it, seal secrets, and one module per aggregate.
 * Everything outside `src/store` imports from here.
 */
export {
  openDatabase,
  type Database,
  type Engine,
  type OpenDatabaseOptions,
  type TransactionOptions,
} from './database.js';
export { parseDatabaseUrl, redactDatabaseUrl, type DatabaseLocation } from './database-url.js';
export {
  migrateToLatest,
  migrateDown,
  getMigrationStates,
  MIGRATIONS,
  type MigrationReport,
  type MigrationState,
} from './migrations/index.js';
export type * from './schema.js';
export { toDbTime, fromDbTime } from './time.js';
export {
  readConstraintViolation,
  storageErrorOf,
  asStorageError,
  STORAGE_ERROR_CODES,
  type ConstraintViolation,
  type ConstraintKind,
} from './sql-errors.js';
export { StoreHealth, type StoreFailure } from './store-health.js';
export { normalizePage, clampPageSize, type Page, type PageRequest } from './pagination.js';
export { hashToken, randomToken } from './token-hash.js';

export { SecretBox, keyIdOf, sealedKeyId, sealedFormat, type RowKey } from './secret-box.js';
export { loadSecretKey, decodeKeyText, type LoadedSecretKey, type SecretKeySource } from './secret-key.js';
export {
  ensureKeyCheck,
  rotateSecretKey,
  verifySealedColumns,
  type KeyCheckOutcome,
  type RotatedColumn,
} from './key-rotation.js';
export { upgradeSealedValues, type SealedUpgrade, type UnreadableSealedValue } from './sealed-upgrade.js';
export { ENCRYPTED_COLUMNS, KEY_CHECK_CONTEXT, type EncryptedColumn, type SecretContext } from './encrypted-columns.js';

export * from './users.js';
export * from './sessions.js';
export * from './login-throttle.js';
export * from './api-tokens.js';
export * from './lists.js';
export * from './contacts.js';
export * from './events.js';
export * from './group-writes.js';
export * from './row-ids.js';
export * from './providers.js';
export * from './grants.js';
export * from './oauth-states.js';
export * from './email-accounts.js';
export * from './mailbox-checkpoints.js';
export * from './graph-subscriptions.js';
export * from './interactions.js';
export * from './reply-drafts.js';
export * from './notes.js';
export * from './canned-answers.js';
export * from './messages.js';
export * from './message-retention.js';
export * from './compaction.js';
export * from './sweep-claims.js';
export * from './message-bounces.js';
export * from './outbox.js';
export * from './rate-counters.js';
export * from './outgoing-messages.js';
export * from './sending-settings.js';
export * from './idempotency-keys.js';
export * from './webhooks.js';
export * from './webhook-deliveries.js';
export * from './operational-counts.js';
export {
  registerNode,
  beatNodeHeartbeat,
  markNodeStopped,
  withdrawNodeRole,
  nodeIdsInRegistrationOrder,
  deleteNode,
  deleteNodesSilentSince,
  listNodes,
  type NodeRecord,
  type NodeIdentity,
} from './nodes.js';
export {
  ensureMailboxLeaseRows,
  countActiveAccounts,
  renewMailboxLeases,
  claimMailboxLeases,
  releaseMailboxLeases,
  holdsMailboxLease,
  listMailboxLeases,
  expireMailboxLease,
  type HeldLease,
  type LeaseHolder,
} from './mailbox-leases.js';
export {
  CHANGE_CHANNEL,
  notifyChange,
  listenForChanges,
  type ChangeListener,
  type ChangeListenerHandlers,
} from './change-channel.js';
