/**
 * An account's sending held until a time, with the reason: Exchange Online blocks every SMTP AUTH
 * submission of a mailbox for a while after continuous errors (`550 5.2.251`–`5.2.255 Sender
 * throttled`), and submitting into the block can extend it. While `sending_held_until` is in the
 * future the dispatcher claims none of the account's messages (on every node: it is in the database).
 *
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
 */
import type { PosternMigration } from './migration.js';

const COLUMNS = ['sending_held_until', 'sending_hold_code', 'sending_hold_message', 'sending_hold_remedy'] as const;

export const sendingHoldMigration: PosternMigration = {
  name: '0013-sending-hold',
  async up(db) {
    for (const column of COLUMNS) await db.schema.alterTable('email_accounts').addColumn(column, 'text').execute();
  },
  async down(db) {
    for (const column of [...COLUMNS].reverse())
      await db.schema.alterTable('email_accounts').dropColumn(column).execute();
  },
};
