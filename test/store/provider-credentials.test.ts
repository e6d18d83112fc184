/**
 * A Cloud Provider's credential in the store (migration 0014): a client secret or a certificate,
 * never both; the certificate's private key sealed to its column and row, re-sealed by key
 * rotation, and never in clear in the database.
 */
import crypto from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createProvider,
  ensureKeyCheck,
  openProviderCertificate,
  openProviderSecret,
  requireProvider,
  rotateSecretKey,
  SecretBox,
  setProviderCertificate,
  setProviderSecret,
  type ProviderFields,
} from '../../src/store/index.js';
import { forEachEngine, type FreshDatabase } from '../helpers/store.js';

const KEY =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC.private-key-marker\n-----END PRIVATE KEY-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIC.public-certificate\n-----END CERTIFICATE-----\n';

const fields = (name: string): ProviderFields => ({
  name,
  service: 'microsoft-azure',
  type: 'outlook365',
  applicationId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03',
  tenantId: 'contoso.onmicrosoft.com',
  redirectUri: null,
  cloud: 'global',
  authorityUrl: null,
  caFile: null,
  grantType: 'client_credentials',
  scopes: ['https://outlook.office365.com/.default'],
});

forEachEngine((_engine, openFresh) => {
  let db: FreshDatabase;
  const box = new SecretBox(crypto.randomBytes(32));
  beforeAll(async () => {
    db = await openFresh();
    await ensureKeyCheck(db, box);
  });

  it('stores a certificate credential sealed, and switching credentials clears the other one', async () => {
    const expiresAt = new Date('2027-12-02T00:00:00.000Z');
    const created = await createProvider(db, box, fields('Cert'), {
      kind: 'certificate',
      privateKeyPem: KEY,
      certificatePem: CERT,
      expiresAt,
    });
    expect(created).toMatchObject({
      sealedSecret: null,
      clientCertificatePem: CERT,
      clientCertificateExpiresAt: expiresAt.toISOString(),
    });
    expect(openProviderCertificate(box, created)).toEqual({ privateKeyPem: KEY, certificatePem: CERT });
    const raw = await sql<Record<string, unknown>>`select * from cloud_providers`.execute(db.kysely);
    expect(JSON.stringify(raw.rows)).not.toContain('private-key-marker');

    const secret = await setProviderSecret(db, box, created.id, { secret: 'a-new-secret-value', expiresAt: null });
    expect(secret).toMatchObject({
      sealedClientKey: null,
      clientCertificatePem: null,
      clientCertificateExpiresAt: null,
    });
    expect(openProviderSecret(box, secret)).toBe('a-new-secret-value');
    expect(openProviderCertificate(box, secret)).toBeNull();

    const back = await setProviderCertificate(db, box, created.id, {
      privateKeyPem: KEY,
      certificatePem: CERT,
      expiresAt,
    });
    expect(back).toMatchObject({ sealedSecret: null, clientSecretHint: null });
    expect(openProviderCertificate(box, back)?.privateKeyPem).toBe(KEY);
  });

  it('key rotation re-seals the private key', async () => {
    const provider = await createProvider(db, box, fields('Rotated'), {
      kind: 'certificate',
      privateKeyPem: KEY,
      certificatePem: CERT,
      expiresAt: new Date('2027-12-02T00:00:00.000Z'),
    });
    const newBox = new SecretBox(crypto.randomBytes(32));
    const rotated = await rotateSecretKey(db, box, newBox);
    expect(rotated.find((c) => c.column === 'client_key_enc')?.count).toBeGreaterThanOrEqual(1);
    const after = await requireProvider(db, provider.id);
    expect(openProviderCertificate(newBox, after)?.privateKeyPem).toBe(KEY);
    expect(() => openProviderCertificate(box, after)).toThrow();
  });
});

describe('credential kinds', () => {
  it('are exclusive in the type: a certificate input has no secret', () => {
    const input: Parameters<typeof createProvider>[3] = { kind: 'secret', secret: null, expiresAt: null };
    expect(input.kind).toBe('secret');
  });
});
