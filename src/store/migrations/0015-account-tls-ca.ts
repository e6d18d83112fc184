/**
 * An account's own certificate authorities (PEM): the private CA that signed its IMAP and SMTP
 * servers' certificates (a company's Dovecot and Postfix, say), trusted for that account's
 * connections besides the system's CAs. Before this, such a CA could only be trusted for the whole
 * process through `NODE_EXTRA_CA_CERTS`. Null (the default) trusts the system's CAs alone.
 */
import type { PosternMigration } from './migration.js';

export const accountTlsCaMigration: PosternMigration = {
  name: '0015-account-tls-ca',
  async up(db) {
    await db.schema.alterTable('email_accounts').addColumn('tls_ca_pem', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('email_accounts').dropColumn('tls_ca_pem').execute();
  },
};
