/**
 * Several nodes on one database (issue 17): `nodes` (each `postern start` process: its id, roles,
 * version, start and last heartbeat) and `mailbox_leases` (one row per email account: the node
 * that reads the mailbox, until when, and a fencing epoch that grows at every claim). The unused
 * `leases` table of 0001 is dropped: a generic name → holder lease could not carry the epoch that
 * makes a lost lease unable to commit, nor join the accounts.
 */
import { sql } from 'kysely';
import { addIndex, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const nodesAndMailboxLeasesMigration: PosternMigration = {
  name: '0021-nodes-and-mailbox-leases',
  async up(db) {
    await db.schema.dropTable('leases').execute();
    await db.schema
      .createTable('nodes')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('roles', 'text', required)
      .addColumn('version', 'text', required)
      .addColumn('host', 'text', required)
      .addColumn('pid', 'integer', required)
      .addColumn('started_at', 'text', required)
      .addColumn('heartbeat_at', 'text', required)
      .addColumn('stopped_at', 'text')
      .execute();
    await db.schema
      .createTable('mailbox_leases')
      .addColumn('account_id', 'integer', (column) => reference('email_accounts', 'cascade')(column).primaryKey())
      .addColumn('node_id', 'text')
      .addColumn('epoch', 'integer', (column) => column.notNull().defaultTo(sql`0`))
      .addColumn('acquired_at', 'text')
      .addColumn('expires_at', 'text')
      .execute();
    await addIndex(db, 'mailbox_leases', ['node_id']);
  },
  async down(db) {
    await db.schema.dropTable('mailbox_leases').execute();
    await db.schema.dropTable('nodes').execute();
    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (column) => column.primaryKey())
      .addColumn('holder', 'text', required)
      .addColumn('acquired_at', 'text', required)
      .addColumn('expires_at', 'text', required)
      .execute();
    await addIndex(db, 'leases', ['expires_at']);
  },
};
