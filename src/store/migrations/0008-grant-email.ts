/**
 * The email address an ID token reveals besides the UPN (`email` claim). A user whose UPN differs
 * from the primary SMTP address (andrea@contoso.onmicrosoft.com vs andrea@contoso.com) is then
 * matched on either, case-insensitively, and a mismatch is reported rather than guessed.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
 */
import { sql } from 'kysely';
import type { PosternMigration } from './migration.js';

export const grantEmailMigration: PosternMigration = {
  name: '0008-grant-email',
  async up(db) {
    await db.schema.alterTable('grants').addColumn('email', 'text').execute();
    await db.schema
      .createIndex('grants_provider_id_email_lower_idx')
      .on('grants')
      .columns(['provider_id'])
      .expression(sql`lower(${sql.ref('email')})`)
      .execute();
  },
  async down(db) {
    await db.schema.dropIndex('grants_provider_id_email_lower_idx').execute();
    await db.schema.alterTable('grants').dropColumn('email').execute();
  },
};
