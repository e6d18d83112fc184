/**
 * The transport each direction of an account of transport `auto` uses now, with why and since
 * when. Such an account starts on IMAP (reading) and SMTP (sending); when Exchange refuses SMTP
 * AUTH (`535 5.7.139`) or IMAP for the mailbox, and the grant holds the Graph permission for that
 * direction, the direction switches to Microsoft Graph by itself and the switch is recorded here.
 * Null in `*_via` means the direction's starting transport; accounts of transport `imap_smtp` and
 * `graph` never write these columns.
 */
import type { PosternMigration } from './migration.js';

const COLUMNS = [
  'inbound_via',
  'inbound_via_reason',
  'inbound_via_since',
  'outbound_via',
  'outbound_via_reason',
  'outbound_via_since',
] as const;

export const effectiveTransportMigration: PosternMigration = {
  name: '0019-effective-transport',
  async up(db) {
    for (const column of COLUMNS) await db.schema.alterTable('email_accounts').addColumn(column, 'text').execute();
  },
  async down(db) {
    for (const column of [...COLUMNS].reverse())
      await db.schema.alterTable('email_accounts').dropColumn(column).execute();
  },
};
