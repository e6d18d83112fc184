/**
 * Certificate credentials end to end (issue 14, point 5): Postern generates a key pair or takes an
 * uploaded one, offers the certificate for Azure, and signs client assertions (`x5t#S256`, aud =
 * token endpoint) that the emulator verifies against the certificates uploaded to the app
 * registration — as an administrator uploads Postern's certificate in the Azure portal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateClientCertificate } from '../../src/providers/microsoft/client-certificate.js';
import { sqliteBytes } from '../helpers/postern.js';
import { CONTOSO, createProvider, startPair, type Pair } from './helpers.js';

const DAY_MS = 86_400_000;
let pair: Pair;
beforeAll(async () => {
  pair = await startPair();
});
afterAll(async () => pair.close());

const api = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
  pair.postern.app.inject({
    method,
    url,
    headers: { authorization: pair.admin },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

/** A daemon provider (client credentials) holding a certificate instead of a secret. */
async function certificateProvider(certificate: Record<string, unknown> = { generate: true }): Promise<number> {
  return createProvider(pair, {
    applicationId: CONTOSO.daemon.appId,
    grantType: 'client_credentials',
    clientSecret: undefined,
    clientSecretExpiresAt: undefined,
    clientCertificate: certificate,
  });
}

/** What an administrator does in the Azure portal: upload the provider's certificate to the app. */
async function uploadToAzure(providerId: number): Promise<void> {
  const download = await api('GET', `/api/cloudProviders/${providerId}/clientCertificate`);
  await pair.emulator.control('POST', `/apps/${CONTOSO.daemon.appId}/certificates`, { certificate: download.body });
}

describe('a generated certificate', () => {
  it('is shown by thumbprint, subject and expiry, downloads without its key, and never shows the key', async () => {
    const id = await certificateProvider();
    const provider = (await api('GET', `/api/cloudProviders/${id}`)).json();
    expect(provider.clientSecret).toBeNull();
    expect(provider.clientCertificate).toMatchObject({
      thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/),
      subject: expect.stringContaining('CN=Postern'),
      expiresInDays: expect.any(Number),
    });
    const days = Math.round(
      (Date.parse(provider.clientCertificate.expiresAt) - pair.emulator.handle.clock.nowMs()) / DAY_MS,
    );
    expect(days).toBe(365);
    const download = await api('GET', `/api/cloudProviders/${id}/clientCertificate`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename=".+\.pem"$/);
    expect(download.body).toContain('-----BEGIN CERTIFICATE-----');
    expect(download.body).not.toContain('PRIVATE KEY');
    // The private key is sealed at rest and absent from every answer and log.
    const key = pair.postern.runtime.services.providers;
    const conn = await key.connection(id);
    const pem = conn.clientCertificate?.privateKeyPem ?? '';
    expect(pem).toContain('PRIVATE KEY');
    const body = pem.split('\n')[1] ?? 'missing';
    expect(JSON.stringify(provider)).not.toContain(body);
    expect(sqliteBytes(pair.postern.dataDir)).not.toContain(body);
    expect(pair.postern.logText()).not.toContain(body);
  });

  it('is refused by Microsoft until uploaded to the app registration (AADSTS700027), then signs the app in', async () => {
    const id = await certificateProvider();
    const before = await api('POST', `/api/cloudProviders/${id}/authenticate`, {});
    expect(before.statusCode).toBe(409);
    expect(before.json().error).toMatchObject({
      code: 'AUTH_CERTIFICATE_INVALID',
      details: { aadsts: 'AADSTS700027' },
      remedy: expect.stringContaining('Upload certificate'),
    });
    expect(before.json().error.details.microsoftMessage).toContain('The key was not found.');
    expect((await api('GET', `/api/cloudProviders/${id}`)).json()).toMatchObject({
      status: 'error',
      lastError: { code: 'AUTH_CERTIFICATE_INVALID' },
    });

    await uploadToAzure(id);
    const after = await api('POST', `/api/cloudProviders/${id}/authenticate`, {});
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json()).toMatchObject({ method: 'completed', grant: { upn: null, state: 'active' } });
    expect((await api('GET', `/api/cloudProviders/${id}`)).json().status).toBe('authenticated');
    // The app-only token carries the admin-consented roles.
    const check = await api('POST', `/api/cloudProviders/${id}/grants/${after.json().grant.id}/check`, {
      resource: 'exchange',
    });
    expect(check.statusCode, check.body).toBe(200);
    // No client secret was sent: the token request authenticated with the assertion only.
    const last = pair.emulator.handle.requestLog.list({ endpoint: 'token', clientId: CONTOSO.daemon.appId }).at(-1);
    expect(last).toMatchObject({ status: 200, grantType: 'client_credentials' });
    expect(last?.params).toMatchObject({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: '[redacted]',
    });
    expect(last?.params.client_secret).toBeUndefined();
  });

  it("Microsoft refuses it once the certificate has expired on Microsoft's clock", async () => {
    const id = await certificateProvider();
    await uploadToAzure(id);
    expect((await api('POST', `/api/cloudProviders/${id}/authenticate`, {})).statusCode).toBe(200);
    pair.emulator.handle.clock.advance(366 * DAY_MS);
    try {
      const expired = await api('POST', `/api/cloudProviders/${id}/authenticate`, {});
      expect(expired.json().error).toMatchObject({ code: 'AUTH_CERTIFICATE_INVALID' });
      expect(expired.json().error.details.microsoftMessage).toContain('The key used is expired.');
    } finally {
      pair.emulator.handle.clock.reset();
    }
  });
});

describe('an uploaded key and certificate', () => {
  it('are checked: the certificate must be the key’s, the key RSA and unencrypted', async () => {
    const id = await createProvider(pair, { applicationId: CONTOSO.daemon.appId, grantType: 'client_credentials' });
    const now = new Date(pair.emulator.handle.clock.nowMs());
    const a = await generateClientCertificate({ commonName: 'Uploaded A', now });
    const b = await generateClientCertificate({ commonName: 'Uploaded B', now });
    const mismatch = await api('PUT', `/api/cloudProviders/${id}/clientCertificate`, {
      privateKey: a.privateKeyPem,
      certificate: b.certificatePem,
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().error.details.fields).toEqual([
      { field: 'certificate', problem: expect.stringContaining('not the certificate of this private key') },
    ]);
    const garbage = await api('PUT', `/api/cloudProviders/${id}/clientCertificate`, {
      privateKey: 'not a key',
      certificate: a.certificatePem,
    });
    expect(garbage.json().error.details.fields[0].field).toBe('privateKey');

    const set = await api('PUT', `/api/cloudProviders/${id}/clientCertificate`, {
      privateKey: a.privateKeyPem,
      certificate: a.certificatePem,
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ clientSecret: null, clientCertificate: { subject: 'CN=Uploaded A' } });
    expect(set.body).not.toContain('PRIVATE KEY');
    await pair.emulator.control('POST', `/apps/${CONTOSO.daemon.appId}/certificates`, {
      certificate: a.certificatePem,
    });
    expect((await api('POST', `/api/cloudProviders/${id}/authenticate`, {})).statusCode).toBe(200);

    // Back to a secret: the certificate goes.
    const secret = await api('PUT', `/api/cloudProviders/${id}/clientSecret`, { clientSecret: CONTOSO.daemon.secret });
    expect(secret.json()).toMatchObject({ clientCertificate: null, clientSecret: { hint: '…890' } });
    expect((await api('POST', `/api/cloudProviders/${id}/authenticate`, {})).statusCode).toBe(200);
  });
});

describe('certificate expiry', () => {
  it('is warned on the provider and by the token keeper, like the secret’s', async () => {
    const id = await certificateProvider();
    const upkeep = pair.postern.runtime.services.tokenUpkeep;
    const expiresAt = Date.parse((await api('GET', `/api/cloudProviders/${id}`)).json().clientCertificate.expiresAt);
    const raised = await upkeep.warnExpiringSecrets(expiresAt - 10 * DAY_MS);
    expect(raised).toContainEqual({ providerId: id, daysLeft: 10 });
    const events = (await api('GET', `/api/cloudProviders/${id}/events`)).json().items;
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'provider.certificate_expiring',
        message: expect.stringContaining('certificate'),
      }),
    );
    // Once per threshold.
    expect((await upkeep.warnExpiringSecrets(expiresAt - 10 * DAY_MS)).filter((w) => w.providerId === id)).toEqual([]);
    pair.emulator.handle.clock.set(new Date(expiresAt - 5.5 * DAY_MS));
    try {
      const view = (await api('GET', `/api/cloudProviders/${id}`)).json();
      expect(view.warnings.join(' ')).toMatch(/certificate expires in 5 day/);
    } finally {
      pair.emulator.handle.clock.reset();
    }
  });
});
