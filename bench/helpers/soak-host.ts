/**
 * The host under the fault soak (`bench/soak.ts`): a small file system for Postern's data
 * directory that fills up and empties again, and the database Postern writes, read from outside
 * for the checks at the end.
 *
 * The disk is a tmpfs mounted for the run (root only; elsewhere the full-disk fault is not
 * injected and the summary says so). Filling it writes a file until the kernel answers ENOSPC,
 * so that every writer on it — SQLite's database and journal, the log files — meets a real full
 * disk, as on the host of issue 16; removing the file gives the space back.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';

const FILL_CHUNK_BYTES = 1_048_576;
const FILL_TAIL_BYTES = 4096;

/** The file system that holds Postern's data directory. */
export interface SmallDisk {
  /** Postern's data directory, on the disk. */
  readonly dataDir: string;
  /** Why the disk cannot be filled (not mounted), or undefined when it can. */
  readonly cannotFill: string | undefined;
  /** Fills the disk to the last block; returns the bytes written. */
  fill(): number;
  /** Gives the space back. */
  free(): void;
  /** Unmounts and removes it. */
  remove(): void;
}

/** Mounts a tmpfs of `sizeMb` (or, without the right to mount, makes a plain directory). */
export function makeSmallDisk(sizeMb: number): SmallDisk {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-soak-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', root], {
    encoding: 'utf8',
  });
  const cannotFill =
    mounted.status === 0
      ? undefined
      : `a tmpfs could not be mounted (${(mounted.stderr || mounted.error?.message || 'mount failed').trim()}); run as root to inject a full disk`;
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const filler = path.join(root, 'filler');
  return {
    dataDir,
    cannotFill,
    fill() {
      if (cannotFill !== undefined) throw new Error(cannotFill);
      const fd = fs.openSync(filler, 'a');
      let written = 0;
      try {
        for (const size of [FILL_CHUNK_BYTES, FILL_TAIL_BYTES]) {
          const chunk = Buffer.alloc(size);
          for (;;) {
            try {
              written += fs.writeSync(fd, chunk);
            } catch (error) {
              if (error instanceof Error && 'code' in error && error.code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        fs.closeSync(fd);
      }
      return written;
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    remove() {
      if (cannotFill === undefined) spawnSync('umount', ['-l', root]);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A message Postern stored from a mailbox. */
export interface StoredInbound {
  readonly mailbox: string;
  readonly messageId: string | null;
}

/** An outgoing message and its outbox row. */
export interface StoredOutgoing {
  readonly id: number;
  readonly messageId: string | null;
  readonly state: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

/** Postern's database, read from outside. */
export interface SoakStore {
  inbound(): Promise<StoredInbound[]>;
  outgoing(): Promise<StoredOutgoing[]>;
  /** What the integrity checks found wrong (empty when all pass), each with its check's name. */
  integrity(): Promise<string[]>;
  close(): Promise<void>;
}

const INBOUND_SQL =
  "select a.email_address as mailbox, m.message_id as message_id from messages m join email_accounts a on a.id = m.account_id where m.direction = 'in'";
const OUTGOING_SQL =
  "select m.id as id, m.message_id as message_id, o.state as state, o.last_error_code as error_code, o.last_error_message as error_message from messages m left join outbox o on o.message_id = m.id where m.direction = 'out'";

/**
 * Checks both engines answer alike, each a query counting what should not exist: a message filed
 * in another account's conversation, an inbound message without its raw MIME, an outbox row whose
 * state its message does not show, a claim still held once everything has drained.
 */
const INVARIANTS: ReadonlyArray<readonly [name: string, sql: string]> = [
  [
    'message in another account’s conversation',
    'select count(*) as n from messages m join interactions i on i.id = m.interaction_id where i.account_id <> m.account_id',
  ],
  [
    'inbound message without raw MIME',
    "select count(*) as n from messages m where m.direction = 'in' and not exists (select 1 from message_raw r where r.message_id = m.id)",
  ],
  [
    'outbox state differs from the message’s delivery state',
    'select count(*) as n from outbox o join messages m on m.id = o.message_id where m.delivery_state is null or m.delivery_state <> o.state',
  ],
  ['outbox row still being sent', "select count(*) as n from outbox where state = 'sending'"],
  [
    'the same Message-ID stored twice in one account',
    "select count(*) as n from (select account_id, message_id from messages where direction = 'in' and message_id is not null group by account_id, message_id having count(*) > 1) d",
  ],
];

const inboundRow = z.object({ mailbox: z.string(), message_id: z.string().nullable() });
const outgoingRow = z.object({
  id: z.coerce.number(),
  message_id: z.string().nullable(),
  state: z.string().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
});
const countRow = z.object({ n: z.coerce.number() });

function toInbound(rows: unknown[]): StoredInbound[] {
  return z
    .array(inboundRow)
    .parse(rows)
    .map((row) => ({ mailbox: row.mailbox.toLowerCase(), messageId: row.message_id }));
}

function toOutgoing(rows: unknown[]): StoredOutgoing[] {
  return z
    .array(outgoingRow)
    .parse(rows)
    .map((row) => ({
      id: row.id,
      messageId: row.message_id,
      state: row.state,
      errorCode: row.error_code,
      errorMessage: row.error_message,
    }));
}

async function checkInvariants(count: (sql: string) => Promise<number>): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, sql] of INVARIANTS) {
    const n = await count(sql);
    if (n !== 0) problems.push(`${name}: ${n}`);
  }
  return problems;
}

/** The SQLite file in `dataDir`, opened read-only beside the running server (WAL allows it). */
export function openSqliteStore(file: string): SoakStore {
  const open = (): Sqlite.Database => new Sqlite(file, { readonly: true, fileMustExist: true });
  const read = (sql: string): unknown[] => {
    const db = open();
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  };
  return {
    inbound: () => Promise.resolve(toInbound(read(INBOUND_SQL))),
    outgoing: () => Promise.resolve(toOutgoing(read(OUTGOING_SQL))),
    async integrity() {
      const problems: string[] = [];
      const integrity = z.array(z.object({ integrity_check: z.string() })).parse(read('pragma integrity_check'));
      const verdict = integrity.map((row) => row.integrity_check).join('; ');
      if (verdict !== 'ok') problems.push(`pragma integrity_check: ${verdict}`);
      const foreign = read('pragma foreign_key_check');
      if (foreign.length > 0) problems.push(`pragma foreign_key_check: ${foreign.length} rows`);
      problems.push(
        ...(await checkInvariants((sql) => Promise.resolve(z.array(countRow).parse(read(sql))[0]?.n ?? -1))),
      );
      return problems;
    },
    close: () => Promise.resolve(),
  };
}

/** Postern's PostgreSQL database at `url`, one short connection per read. */
export function openPostgresStore(url: string): SoakStore {
  const read = async (sql: string): Promise<unknown[]> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      const { rows }: { rows: unknown[] } = await client.query(sql);
      return rows;
    } finally {
      await client.end();
    }
  };
  return {
    inbound: async () => toInbound(await read(INBOUND_SQL)),
    outgoing: async () => toOutgoing(await read(OUTGOING_SQL)),
    // Foreign keys and unique indexes are enforced by the server itself; what is left to check
    // are the rules between rows.
    integrity: () => checkInvariants(async (sql) => z.array(countRow).parse(await read(sql))[0]?.n ?? -1),
    close: () => Promise.resolve(),
  };
}
