/**
 * Idempotency keys of the API (`Idempotency-Key` header): a retried request with the same key
 * and the same body gets the first request's answer instead of doing the work twice. A key is
 * scoped to its owner (the caller) and expires after a day. The key is reserved in the same
 * transaction as the work, so a crash leaves either both or neither.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
 */
import { z } from 'zod';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import { toDbTime } from './time.js';

/** What reserving a key found. */
export type IdempotencyReservation =
  | { readonly kind: 'new'; readonly id: number }
  | { readonly kind: 'replay'; readonly status: number; readonly response: unknown }
  | { readonly kind: 'mismatch' };

/** What reserving a key needs. */
export interface IdempotencyRequest {
  readonly owner: string;
  readonly key: string;
  /** SHA-256 of the request (route and body): a key reused for another request is refused. */
  readonly requestHash: string;
  readonly expiresAt: Date;
}

const anyJson = z.json();

/**
 * Reserves a key, or reports the stored answer of the request that used it first. Call inside
 * the transaction that does the work; on PostgreSQL a concurrent request with the same key waits
 * for the first one's transaction and then sees its answer.
 */
export async function reserveIdempotencyKey(
  db: Database,
  request: IdempotencyRequest,
): Promise<IdempotencyReservation> {
  const now = toDbTime(db.now());
  await db.kysely
    .deleteFrom('idempotency_keys')
    .where('owner', '=', request.owner)
    .where('key', '=', request.key)
    .where('expires_at', '<=', now)
    .execute();
  const inserted = await db.kysely
    .insertInto('idempotency_keys')
    .values({
      owner: request.owner,
      key: request.key,
      request_hash: request.requestHash,
      created_at: now,
      expires_at: toDbTime(request.expiresAt),
    })
    .onConflict((conflict) => conflict.columns(['owner', 'key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted !== undefined) return { kind: 'new', id: inserted.id };
  const existing = await db.kysely
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_json'])
    .where('owner', '=', request.owner)
    .where('key', '=', request.key)
    .executeTakeFirstOrThrow();
  if (existing.request_hash !== request.requestHash) return { kind: 'mismatch' };
  return {
    kind: 'replay',
    status: existing.response_status ?? 202,
    response:
      existing.response_json === null
        ? null
        : fromJsonText(existing.response_json, anyJson, 'idempotency_keys.response_json'),
  };
}

/** Stores the answer given under a reserved key. */
export async function completeIdempotencyKey(
  db: Database,
  id: number,
  status: number,
  response: unknown,
): Promise<void> {
  await db.kysely
    .updateTable('idempotency_keys')
    .set({ response_status: status, response_json: toJsonText(response) })
    .where('id', '=', id)
    .execute();
}

/** Deletes expired keys. Returns how many. */
export async function deleteExpiredIdempotencyKeys(db: Database, now: Date): Promise<number> {
  const result = await db.kysely
    .deleteFrom('idempotency_keys')
    .where('expires_at', '<=', toDbTime(now))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
