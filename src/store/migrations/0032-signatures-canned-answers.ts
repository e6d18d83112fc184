/**
 * Signatures and canned answers for the reply composer. An email account has a signature set by
 * administrators, each user their own; both are plain text. A canned answer is shared (every agent
 * sees it, administrators manage it; no owner) or personal (its owner's alone, gone with the
 * owner). The index serves the composer's list: the shared answers and one user's own.
 */
import { addIndex, flag, optionalReference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const signaturesCannedAnswersMigration: PosternMigration = {
  name: '0032-signatures-canned-answers',
  async up(db, kit) {
    await db.schema.alterTable('email_accounts').addColumn('signature', 'text').execute();
    await db.schema.alterTable('users').addColumn('signature', 'text').execute();
    await db.schema
      .createTable('canned_answers')
      .addColumn('id', 'integer', kit.id)
      .addColumn('owner_user_id', 'integer', optionalReference('users', 'cascade'))
      .addColumn('shared', 'integer', flag('shared', 0))
      .addColumn('title', 'text', required)
      .addColumn('body', 'text', required)
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addIndex(db, 'canned_answers', ['owner_user_id']);
  },
  async down(db) {
    await db.schema.dropTable('canned_answers').execute();
    await db.schema.alterTable('users').dropColumn('signature').execute();
    await db.schema.alterTable('email_accounts').dropColumn('signature').execute();
  },
};
