/**
 * Certificate credentials for Cloud Providers, and admin-consent states.
 *
 * - `cloud_providers.client_key_enc`: the private key (PKCS#8 PEM), sealed like the client secret;
 *   `client_certificate_pem` its certificate (public, offered for download to upload into Azure),
 *   and `client_certificate_expires_at` the certificate's notAfter, watched like the secret's
 *   expiry. A provider holds a secret or a certificate, never both.
 * - `oauth_states.purpose`: `admin_consent` for a state sent to the admin-consent endpoint, which
 *   comes back without a code; null for a sign-in.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 * @see https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
 */
import type { PosternMigration } from './migration.js';

const PROVIDER_COLUMNS = ['client_key_enc', 'client_certificate_pem', 'client_certificate_expires_at'] as const;

export const clientCertificatesMigration: PosternMigration = {
  name: '0014-client-certificates',
  async up(db) {
    for (const column of PROVIDER_COLUMNS)
      await db.schema.alterTable('cloud_providers').addColumn(column, 'text').execute();
    await db.schema.alterTable('oauth_states').addColumn('purpose', 'text').execute();
  },
  async down(db) {
    await db.schema.alterTable('oauth_states').dropColumn('purpose').execute();
    for (const column of [...PROVIDER_COLUMNS].reverse())
      await db.schema.alterTable('cloud_providers').dropColumn(column).execute();
  },
};
