/**
 * Inbound attachments are no longer stored twice. Their bytes are already in the message's raw
 * MIME (`message_raw.raw`); a row with `raw_part` set keeps an empty `content` and is read back by
 * parsing the raw MIME and taking its `raw_part`-th attachment (0-based, in the parser's order).
 * Rows written before keep `raw_part` null and their `content`; outgoing attachments, composed by
 * Postern, keep storing their content.
 */
import type { PosternMigration } from './migration.js';

export const attachmentsInRawMigration: PosternMigration = {
  name: '0009-attachments-in-raw',
  async up(db) {
    await db.schema.alterTable('attachments').addColumn('raw_part', 'integer').execute();
  },
  async down(db) {
    await db.schema.alterTable('attachments').dropColumn('raw_part').execute();
  },
};
