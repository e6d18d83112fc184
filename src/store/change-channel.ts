/**
 * The nodes' change channel: PostgreSQL LISTEN/NOTIFY on one channel, `postern_changes`, whose
 * payloads are small JSON notes (`{ origin, kind, id, op? }`: what changed, never its content).
 * A note is sent with `pg_notify` on the pool and delivered, once its transaction commits, to
 * every connection listening — each node keeps one dedicated connection for that (a pooled one
 * would be handed to other queries). On SQLite there is one node and no channel.
 *
 * @see https://www.postgresql.org/docs/current/sql-notify.html
 */
import pg from 'pg';
import { sql } from 'kysely';
import type { Database } from './database.js';

/** The channel's name. */
export const CHANGE_CHANNEL = 'postern_changes';

/** Sends one note (a JSON text under PostgreSQL's 8,000-byte payload limit) to every listening node. */
export async function notifyChange(db: Database, payload: string): Promise<void> {
  if (db.engine !== 'postgres') return;
  await sql`select pg_notify(${CHANGE_CHANNEL}, ${payload})`.execute(db.kysely);
}

/** A listening connection. */
export interface ChangeListener {
  close(): Promise<void>;
}

/** Callbacks of {@link listenForChanges}. */
export interface ChangeListenerHandlers {
  /** Each note's payload. */
  readonly onNote: (payload: string) => void;
  /** The connection failed or ended (the caller reconnects; notes sent meanwhile are lost). */
  readonly onLost: (error: Error) => void;
}

/** Opens a dedicated connection to `url` and listens on the channel until closed. */
export async function listenForChanges(url: string, handlers: ChangeListenerHandlers): Promise<ChangeListener> {
  const client = new pg.Client({ connectionString: url, keepAlive: true, application_name: 'postern-listen' });
  let closing = false;
  let lost = false;
  const lose = (error: Error): void => {
    if (closing || lost) return;
    lost = true;
    handlers.onLost(error);
  };
  client.on('error', lose);
  client.on('end', () => lose(new Error('the listening connection ended')));
  client.on('notification', (message) => {
    if (message.channel === CHANGE_CHANNEL && message.payload !== undefined) handlers.onNote(message.payload);
  });
  try {
    await client.connect();
    await client.query(`listen ${CHANGE_CHANNEL}`);
  } catch (error) {
    closing = true;
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    async close() {
      closing = true;
      await client.end().catch(() => undefined);
    },
  };
}
