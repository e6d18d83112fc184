/**
 * Reply drafts keep the HTML of the formatted editor next to its text: a draft restored after a
 * reload is as bold as it was. Null for drafts saved before (the composer then shows their text).
 */
import type { PosternMigration } from './migration.js';

export const replyDraftHtmlMigration: PosternMigration = {
  name: '0033-reply-draft-html',
  async up(db) {
    await db.schema.alterTable('reply_drafts').addColumn('html', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('reply_drafts').dropColumn('html').execute();
  },
};
