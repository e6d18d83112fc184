/**
 * Mail read through Microsoft Graph: a message's Graph id beside (instead of) its IMAP position,
 * unique per account, so that a delta round redone after a crash or an expired delta token finds
 * what it already stored. The folder's checkpoint, the delta link, lives in
 * `mailbox_checkpoints.delta_link` (there since 0004).
 *
 * @see https://learn.microsoft.com/graph/delta-query-messages
 */
import { addIndex } from './columns.js';
import type { PosternMigration } from './migration.js';

const INDEX = 'messages_account_id_graph_id_key';

export const graphInboundMigration: PosternMigration = {
  name: '0016-graph-inbound',
  async up(db) {
    await db.schema.alterTable('messages').addColumn('graph_id', 'text').execute();
    await addIndex(db, 'messages', ['account_id', 'graph_id'], { unique: true, name: INDEX });
  },
  async down(db) {
    await db.schema.dropIndex(INDEX).execute();
    await db.schema.alterTable('messages').dropColumn('graph_id').execute();
  },
};
