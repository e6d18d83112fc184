/**
 * The nodes on this database: each `postern start` process registers itself with a random id, its
 * roles and version, and beats a heartbeat; a clean stop records `stopped_at`. Read by the mailbox
 * leases (how many nodes share the mailboxes) and by `GET /api/system/nodes` / `postern nodes`.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from './database.js';
import { fromJsonText, toJsonText } from './json-column.js';
import type { Row, Timestamp } from './schema.js';
import { toDbTime } from './time.js';

/** A node as stored, with the mailboxes it holds now. */
export interface NodeRecord {
  readonly id: string;
  readonly roles: readonly string[];
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: Timestamp;
  readonly heartbeatAt: Timestamp;
  readonly stoppedAt: Timestamp | null;
  /** Mailboxes whose lease the node holds and that have not expired. */
  readonly mailboxesHeld: number;
}

/** What a node says about itself when it registers. */
export interface NodeIdentity {
  readonly id: string;
  readonly roles: readonly string[];
  readonly version: string;
  readonly host: string;
  readonly pid: number;
}

const rolesColumn = z.array(z.string());

/** Records a node as started now (a heartbeat too). */
export async function registerNode(db: Database, node: NodeIdentity): Promise<void> {
  const now = toDbTime(db.now());
  await db.kysely
    .insertInto('nodes')
    .values({
      id: node.id,
      roles: toJsonText(node.roles),
      version: node.version,
      host: node.host,
      pid: node.pid,
      started_at: now,
      heartbeat_at: now,
    })
    .onConflict((conflict) =>
      conflict.column('id').doUpdateSet({ roles: toJsonText(node.roles), heartbeat_at: now, stopped_at: null }),
    )
    .execute();
}

/** Beats the node's heartbeat; false when its row is gone (deleted by someone), so that it registers again. */
export async function beatNodeHeartbeat(db: Database, id: string): Promise<boolean> {
  const result = await db.kysely
    .updateTable('nodes')
    .set({ heartbeat_at: toDbTime(db.now()) })
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Takes one role off a node's record (a role that stops while the node goes on, or before it stops). */
export async function withdrawNodeRole(db: Database, id: string, role: string): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await tx.kysely.selectFrom('nodes').select('roles').where('id', '=', id).executeTakeFirst();
    if (row === undefined) return;
    const roles = fromJsonText(row.roles, rolesColumn, 'nodes.roles').filter((held) => held !== role);
    await tx.kysely
      .updateTable('nodes')
      .set({ roles: toJsonText(roles) })
      .where('id', '=', id)
      .execute();
  });
}

/** Records a clean stop. */
export async function markNodeStopped(db: Database, id: string): Promise<void> {
  const now = toDbTime(db.now());
  await db.kysely.updateTable('nodes').set({ stopped_at: now, heartbeat_at: now }).where('id', '=', id).execute();
}

/**
 * The nodes' ids in the order their rows were first written (SQLite only: its rowid, given under
 * the database's write lock, so two processes registering at once agree on who came first).
 */
export async function nodeIdsInRegistrationOrder(db: Database): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`select id from nodes order by rowid`.execute(db.kysely);
  return rows.map((row) => row.id);
}

/** Forgets one node (a process that gave way before it started). */
export async function deleteNode(db: Database, id: string): Promise<void> {
  await db.kysely.deleteFrom('nodes').where('id', '=', id).execute();
}

/** Forgets nodes whose last heartbeat is older than `before` (stopped or dead long ago). */
export async function deleteNodesSilentSince(db: Database, before: Date): Promise<number> {
  const result = await db.kysely.deleteFrom('nodes').where('heartbeat_at', '<', toDbTime(before)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Every node, newest start first, with the mailboxes each holds now. */
export async function listNodes(db: Database): Promise<NodeRecord[]> {
  const now = toDbTime(db.now());
  const rows = await db.kysely
    .selectFrom('nodes')
    .selectAll('nodes')
    .select((eb) =>
      eb
        .selectFrom('mailbox_leases')
        .select((inner) => inner.fn.countAll<number>().as('held'))
        .whereRef('mailbox_leases.node_id', '=', 'nodes.id')
        .where('mailbox_leases.expires_at', '>', now)
        .as('held'),
    )
    .orderBy('started_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map((row) => toNode(row, Number(row.held ?? 0)));
}

function toNode(row: Row<'nodes'>, held: number): NodeRecord {
  return {
    id: row.id,
    roles: fromJsonText(row.roles, rolesColumn, 'nodes.roles'),
    version: row.version,
    host: row.host,
    pid: row.pid,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    stoppedAt: row.stopped_at,
    mailboxesHeld: held,
  };
}
