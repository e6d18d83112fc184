/**
 * Webhooks: URLs an administrator registers with the event types they want. The signing secret is
 * sealed in `secret_enc` (context `webhooks.secret`) here; the record carries it sealed, the
 * dispatcher alone opens it with {@link openWebhookSecret}, and presenters never name it.
 *
 * A subscription is a list of patterns: an exact type (`message.received`), a family
 * (`message.*`), or everything (`*`). `failure_count` counts failed attempts since the last
 * successful delivery; the dispatcher disables a webhook whose deliveries keep failing.
 */
import { z } from 'zod';
import { PosternError } from '../errors/index.js';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import type { Row, Sealed, Timestamp } from './schema.js';
import type { SecretBox } from './secret-box.js';
import { SEALED_LATER } from './encrypted-columns.js';
import { toDbTime } from './time.js';

/** A subscription pattern: `family.name`, `family.*` or `*`. */
export const EVENT_PATTERN = /^(\*|[a-z][a-z0-9_]*\.(\*|[a-z][a-z0-9_.]*))$/;

const patternList = z.array(z.string().regex(EVENT_PATTERN));
const SECRET = 'webhooks.secret';

/** A webhook as stored, its secret sealed. */
export interface WebhookRecord {
  readonly id: number;
  readonly url: string;
  readonly description: string | null;
  /** Subscription patterns, e.g. `["message.received", "account.*"]`. */
  readonly events: readonly string[];
  /** The sealed signing secret; only the dispatcher opens it. */
  readonly sealedSecret: Sealed;
  readonly active: boolean;
  /** Failed attempts since the last successful delivery. */
  readonly failureCount: number;
  readonly lastSuccessAt: Timestamp | null;
  readonly lastFailureAt: Timestamp | null;
  readonly createdAt: Timestamp;
  readonly updatedAt: Timestamp;
}

/** What creating a webhook needs. */
export interface NewWebhook {
  readonly url: string;
  readonly description?: string | null;
  readonly events: readonly string[];
  /** The signing secret in plain text; sealed on the way in. */
  readonly secret: string;
  readonly active?: boolean;
}

/** What an update may change. */
export interface WebhookChanges {
  readonly url?: string;
  readonly description?: string | null;
  readonly events?: readonly string[];
  readonly active?: boolean;
}

/** True when an event of `type` is wanted by a subscription of `patterns`. */
export function matchesSubscription(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
    return pattern === type;
  });
}

/** Parses a stored subscription; a damaged one subscribes to nothing rather than failing a write. */
export function readSubscription(text: string): readonly string[] {
  try {
    const parsed = patternList.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/** Registers a webhook. */
export async function createWebhook(db: Database, box: SecretBox, input: NewWebhook): Promise<WebhookRecord> {
  const now = toDbTime(db.now());
  // The secret is sealed for the row's id, known once inserted: same transaction.
  return db.transaction(async (tx) => {
    const { id } = await tx.kysely
      .insertInto('webhooks')
      .values({
        url: input.url,
        description: input.description ?? null,
        events_json: toJsonText([...input.events]),
        secret_enc: SEALED_LATER,
        active: input.active === false ? 0 : 1,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = await tx.kysely
      .updateTable('webhooks')
      .set({ secret_enc: box.seal(input.secret, SECRET, id) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toWebhookRecord(row);
  });
}

/**
 * Replaces a webhook's signing secret.
 *
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function setWebhookSecret(
  db: Database,
  box: SecretBox,
  id: number,
  secret: string,
): Promise<WebhookRecord> {
  const row = await db.kysely
    .updateTable('webhooks')
    .set({ secret_enc: box.seal(secret, SECRET, id), updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no webhook ${id}.`, details: { webhookId: id } });
  return toWebhookRecord(row);
}

/** A webhook's signing secret in plain text, for the dispatcher's signature alone. */
export function openWebhookSecret(
  box: SecretBox,
  webhook: { readonly id: number; readonly sealedSecret: Sealed },
): string {
  return box.open(webhook.sealedSecret, SECRET, webhook.id);
}

/** The webhook with this id, if any. */
async function getWebhook(db: Database, id: number): Promise<WebhookRecord | undefined> {
  const row = await db.kysely.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toWebhookRecord(row);
}

/**
 * The webhook with this id.
 *
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function requireWebhook(db: Database, id: number): Promise<WebhookRecord> {
  const found = await getWebhook(db, id);
  if (found === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no webhook ${id}.`, details: { webhookId: id } });
  return found;
}

/** Every webhook, oldest first. */
export async function listWebhooks(db: Database): Promise<WebhookRecord[]> {
  const rows = await db.kysely.selectFrom('webhooks').selectAll().orderBy('id').execute();
  return rows.map(toWebhookRecord);
}

/**
 * Changes a webhook. Enabling it again clears its failure count, so that it gets a full retry
 * window before it can be disabled again.
 *
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function updateWebhook(db: Database, id: number, changes: WebhookChanges): Promise<WebhookRecord> {
  const row = await db.kysely
    .updateTable('webhooks')
    .set({
      ...(changes.url === undefined ? {} : { url: changes.url }),
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(changes.events === undefined ? {} : { events_json: toJsonText([...changes.events]) }),
      ...(changes.active === undefined ? {} : { active: changes.active ? 1 : 0 }),
      ...(changes.active === true ? { failure_count: 0 } : {}),
      updated_at: toDbTime(db.now()),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no webhook ${id}.`, details: { webhookId: id } });
  return toWebhookRecord(row);
}

/**
 * Deletes a webhook and its delivery log.
 *
 * @throws PosternError RESOURCE_NOT_FOUND
 */
export async function deleteWebhook(db: Database, id: number): Promise<void> {
  const result = await db.kysely.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no webhook ${id}.`, details: { webhookId: id } });
}

/** A delivery succeeded: the failure streak ends. */
export async function recordWebhookSuccess(db: Database, id: number, at: Date): Promise<void> {
  await db.kysely
    .updateTable('webhooks')
    .set({ failure_count: 0, last_success_at: toDbTime(at) })
    .where('id', '=', id)
    .execute();
}

/** A delivery attempt failed; returns the failed attempts since the last success. */
export async function recordWebhookFailure(db: Database, id: number, at: Date): Promise<number> {
  const row = await db.kysely
    .updateTable('webhooks')
    .set((eb) => ({ failure_count: eb('failure_count', '+', 1), last_failure_at: toDbTime(at) }))
    .where('id', '=', id)
    .returning('failure_count')
    .executeTakeFirst();
  return row?.failure_count ?? 0;
}

/**
 * Disables an active webhook. Returns false when it was already inactive (another node disabled
 * it first), so that the event is raised once.
 */
export async function disableWebhook(db: Database, id: number): Promise<boolean> {
  const result = await db.kysely
    .updateTable('webhooks')
    .set({ active: 0, updated_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .where('active', '=', 1)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Counts of webhooks by state, for metrics. */
export async function countWebhooks(db: Database): Promise<{ active: number; disabled: number }> {
  const rows = await db.kysely
    .selectFrom('webhooks')
    .select((eb) => ['active', eb.fn.countAll<number | string>().as('total')])
    .groupBy('active')
    .execute();
  let active = 0;
  let disabled = 0;
  for (const row of rows) {
    if (row.active === 1) active += Number(row.total);
    else disabled += Number(row.total);
  }
  return { active, disabled };
}

function toWebhookRecord(row: Row<'webhooks'>): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: fromJsonText(row.events_json, patternList, `webhooks.events_json of webhook ${row.id}`),
    sealedSecret: row.secret_enc,
    active: row.active === 1,
    failureCount: row.failure_count,
    lastSuccessAt: row.last_success_at,
    lastFailureAt: row.last_failure_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
