/**
 * PostgreSQL: the raw MIME of inbound mail is stored out of line WITHOUT compression (storage
 * `external`). MIME is mostly base64 (attachments, images) that pglz barely shrinks: on the
 * 2,000-message benchmark mailbox (130 MB) compression saved 6 % of the space and made the inserts
 * 3.6 times slower (6.9 s against 1.9 s of server time), on the commit path of every message.
 * Rows stored before keep their compression; reading either is the same. SQLite never compresses,
 * so there is nothing to do there.
 */
import { sql } from 'kysely';
import type { PosternMigration } from './migration.js';

export const rawMimeUncompressedMigration: PosternMigration = {
  name: '0025-raw-mime-uncompressed',
  async up(db, kit) {
    if (kit.engine === 'postgres') await sql`alter table message_raw alter column raw set storage external`.execute(db);
  },
  async down(db, kit) {
    if (kit.engine === 'postgres') await sql`alter table message_raw alter column raw set storage extended`.execute(db);
  },
};
