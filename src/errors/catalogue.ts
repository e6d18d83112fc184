/**
 * The catalogue of every error Postern can report. A code names an area and a condition
 * (`AREA_CONDITION`); once published, a code is never reused for another meaning. Retired codes stay
 * listed in `RETIRED_CODES`.
 *
 * Kinds decide behaviour, never the message text:
 * - `transient`: retry with backoff, the thing will probably work later;
 * - `permanent`: this item fails, retrying it unchanged will fail again;
 * - `needs-admin`: a person must act; the owning object changes status and an event is raised.
 *
 * `docs/ERRORS.md` is generated from this file (`npm run docs:errors`); a test keeps them in step.
 */
import { COMPOSER_ERRORS } from './areas/composer.js';
import { CONTACT_ERRORS } from './areas/contacts.js';
import { GRAPH_ERRORS } from './areas/graph.js';
import { IDENTITY_ERRORS } from './areas/identity.js';
import { MAIL_ERRORS } from './areas/mail.js';
import { OUTBOUND_ERRORS } from './areas/outbound.js';

export type ErrorKind = 'transient' | 'permanent' | 'needs-admin';

export interface CatalogueEntry {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly remedy?: string;
}

const GENERAL_ERRORS = {
  INTERNAL: {
    status: 500,
    kind: 'transient',
    message: 'An internal error occurred.',
    remedy: 'Try again. If it persists, look for the details in the email-error log file.',
  },
  CONFIG_INVALID: {
    status: 500,
    kind: 'needs-admin',
    message: 'The configuration is invalid.',
    remedy: 'Correct the variables listed and start Postern again.',
  },
  VALIDATION_FAILED: {
    status: 400,
    kind: 'permanent',
    message: 'The request is invalid.',
    remedy: 'Correct the fields listed in details and send the request again.',
  },
  WEBHOOK_TARGET_REFUSED: {
    status: 422,
    kind: 'permanent',
    message: 'The webhook URL points at an address Postern does not deliver webhooks to.',
    remedy:
      'Use a receiver on a public address, or list its network in POSTERN_WEBHOOK_ALLOWED_NETWORKS if it is meant to be on your own network.',
  },
  REQUEST_MALFORMED: {
    status: 400,
    kind: 'permanent',
    message: 'The request body could not be read.',
    remedy: 'Send a well-formed JSON body with the header Content-Type: application/json.',
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    kind: 'permanent',
    message: 'The request body is too large.',
    remedy: 'Send a smaller body.',
  },
  REQUEST_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    kind: 'permanent',
    message: 'The request body has an unsupported content type.',
    remedy: 'Send the body as application/json.',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    kind: 'permanent',
    message: 'There is no such route.',
    remedy: 'Check the method and the path against the API document at /api/docs.',
  },
  RESOURCE_NOT_FOUND: {
    status: 404,
    kind: 'permanent',
    message: 'The resource was not found.',
  },
  RESOURCE_CONFLICT: {
    status: 409,
    kind: 'permanent',
    message: 'The resource conflicts with an existing one.',
  },
  AUTH_REQUIRED: {
    status: 401,
    kind: 'permanent',
    message: 'Authentication is required.',
    remedy: 'Sign in, or send an API token as "Authorization: Bearer <token>".',
  },
  AUTH_INVALID_CREDENTIALS: {
    status: 401,
    kind: 'permanent',
    message: 'The username or password is wrong.',
    remedy: 'Check the username and password; an administrator can reset it with "postern users passwd".',
  },
  AUTH_TOKEN_INVALID: {
    status: 401,
    kind: 'permanent',
    message: 'The API token is unknown or revoked.',
    remedy: 'Create a new API token with "postern tokens create".',
  },
  AUTH_SESSION_EXPIRED: {
    status: 401,
    kind: 'permanent',
    message: 'The session has expired.',
    remedy: 'Sign in again.',
  },
  AUTH_FORBIDDEN: {
    status: 403,
    kind: 'permanent',
    message: 'You do not have permission to do this.',
    remedy: 'Ask an administrator for access.',
  },
  INTERACTION_NOT_OPEN: {
    status: 409,
    kind: 'permanent',
    message: 'Only an open conversation can be snoozed.',
    remedy: "Reopen the conversation first, or leave it closed: the customer's next message reopens it.",
  },
  NOTE_NOT_AUTHOR: {
    status: 403,
    kind: 'permanent',
    message: 'Only the author of an internal note, or an administrator, may change or delete it.',
    remedy: 'Add a note of your own instead, or ask its author or an administrator to change it.',
  },
  AUTH_CSRF_FAILED: {
    status: 403,
    kind: 'permanent',
    message: 'The request is missing a valid CSRF token.',
    remedy: 'Send the value of the postern_csrf cookie in the X-CSRF-Token header, or reload the page.',
  },
  AUTH_RATE_LIMITED: {
    status: 429,
    kind: 'transient',
    message: 'Too many attempts: sign-ins, or password changes.',
    remedy: 'Wait the number of seconds given in the Retry-After header, then try again.',
  },
  STREAM_TOO_MANY: {
    status: 429,
    kind: 'transient',
    message: 'This session or API token already has as many live streams open as Postern allows.',
    remedy:
      'Each browser tab of the console holds one stream: close Postern tabs you no longer use (a closed tab frees its stream at once), or sign in again in a separate browser profile. An integration needs one stream per token; reconnect it with Last-Event-ID instead of opening another.',
  },
  SECRET_KEY_INVALID: {
    status: 500,
    kind: 'needs-admin',
    message: 'The stored secrets cannot be decrypted with the configured secret key.',
    remedy:
      'Set POSTERN_SECRET_KEY (or the key file) back to the key the data was written with; after a rotation use the new key.',
  },
  SECRET_KEY_MALFORMED: {
    status: 500,
    kind: 'needs-admin',
    message: 'The secret key is malformed.',
    remedy: 'POSTERN_SECRET_KEY must be 32 bytes, written as 64 hexadecimal characters or 44 base64 characters.',
  },
  SECRET_VALUE_CORRUPT: {
    status: 500,
    kind: 'needs-admin',
    message: 'A stored secret is damaged or was copied from another field or row, so it cannot be decrypted.',
    remedy:
      'Enter the secret again (Update Client Secret, authenticate the provider again, or set the password again).',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    kind: 'transient',
    message: 'The database is not reachable.',
    remedy: 'Check POSTERN_DATABASE_URL and that the database server is running.',
  },
  MAILBOX_LEASE_LOST: {
    status: 409,
    kind: 'transient',
    message: 'Another node has taken over this mailbox: this node may no longer store anything for it.',
    remedy:
      'Nothing to do: the node that holds the mailbox now reads it from the last stored message. If it happens often, check that the nodes reach the database without long pauses (a lease lasts POSTERN_MAILBOX_LEASE_SECONDS).',
  },
  STORE_SQLITE_IN_USE: {
    status: 409,
    kind: 'needs-admin',
    message:
      'Another Postern process already runs the worker role on this SQLite database: two would read the same mailboxes.',
    remedy:
      'Stop the other process (its host and pid are named) before starting this one, or start this one with --roles web only. To share the mailboxes between several nodes, move to PostgreSQL (POSTERN_DATABASE_URL).',
  },
  STORE_DISK_FULL: {
    status: 507,
    kind: 'needs-admin',
    message: 'The disk that holds the database is full: nothing new can be stored.',
    remedy:
      "Free space on the disk of the data directory (POSTERN_DATA_DIR; for PostgreSQL, the server's data directory) or move the data to a larger disk. Postern tries again by itself: once it can write, mail waiting in the mailboxes is fetched and replies waiting in the outbox are sent, and nothing is lost.",
  },
  STORE_READ_ONLY: {
    status: 503,
    kind: 'needs-admin',
    message: 'The database refuses writes: its file or file system is read-only.',
    remedy:
      'Check that the file system of the data directory is mounted read-write and that the user running Postern owns postern.db, postern.db-wal and postern.db-shm (for PostgreSQL, that POSTERN_DATABASE_URL names the primary, not a read-only replica). Postern tries again by itself.',
  },
  STORE_CORRUPT: {
    status: 500,
    kind: 'needs-admin',
    message: 'The database file is damaged.',
    remedy:
      'Stop Postern, copy the data directory aside, and run: sqlite3 postern.db "PRAGMA integrity_check". If it reports errors, restore the latest good backup; mail still in the mailboxes is fetched again after the restore.',
  },
  STORE_MIGRATION_FAILED: {
    status: 500,
    kind: 'needs-admin',
    message: 'The database schema could not be migrated.',
    remedy: 'Read the email-error log for the failing migration, fix the cause and run "postern migrate".',
  },
  STORE_ATTACHMENT_MISMATCH: {
    status: 500,
    kind: 'permanent',
    message:
      "An attachment could not be read back from its message's raw MIME: the part is missing or its bytes differ from those stored at ingest.",
    remedy:
      'Download the raw message (.eml) and open the attachment from it in a mail client. If many attachments fail after an upgrade, the MIME parser now splits messages differently: report it with the email-error log.',
  },
  MESSAGE_ORIGINAL_EXPIRED: {
    status: 410,
    kind: 'permanent',
    message:
      "The original of this message (its raw MIME and the files attached to it) was removed after the account's retention period; the conversation's text is kept.",
    remedy:
      'Read the message in the conversation. A removed original cannot be restored: download it from the mailbox itself if it is still there. To keep originals longer, raise or clear the account\'s "Keep originals for" setting (rawRetentionDays; empty keeps them for ever).',
  },
  STORE_VACUUM_REFUSED: {
    status: 409,
    kind: 'needs-admin',
    message: 'The database was not compacted: VACUUM cannot run safely now.',
    remedy:
      'On SQLite, stop every Postern process that uses the data directory (the message names the one still running) and make free disk space about the size of postern.db, then run "postern vacuum" again. Nothing was changed.',
  },
} as const satisfies Record<string, CatalogueEntry>;

const entries = {
  ...GENERAL_ERRORS,
  ...IDENTITY_ERRORS,
  ...MAIL_ERRORS,
  ...GRAPH_ERRORS,
  ...OUTBOUND_ERRORS,
  ...CONTACT_ERRORS,
  ...COMPOSER_ERRORS,
};

export type ErrorCode = keyof typeof entries;

export const CATALOGUE: Readonly<Record<ErrorCode, CatalogueEntry>> = entries;

/** Codes that once existed and must never be given a new meaning. */
export const RETIRED_CODES: readonly string[] = [];
