import { describe, expect, it } from 'vitest';
import type { Grant, Provider } from '../api/schemas.js';
import { providerBadges } from './provider-status.js';

function buildGrant(fields: Partial<Grant> = {}): Grant {
  return {
    id: 1,
    upn: 'andrea@contoso.com',
    displayName: 'Andrea Rossi',
    objectId: 'a1',
    tenantId: 't1',
    scopes: [],
    state: 'active',
    lastInteractiveSignInAt: null,
    lastRefreshAt: null,
    lastError: null,
    ...fields,
  };
}

function buildProvider(fields: Partial<Provider> = {}): Provider {
  return {
    id: 1,
    name: 'Contoso',
    service: 'microsoft-azure',
    type: 'outlook365',
    applicationId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01',
    tenantId: '7a3c9f4e-2b1d-4e8a-9c6f-1d2e3f4a5b6c',
    clientSecret: { hint: '…789', expiresAt: '2099-12-31T00:00:00.000Z', expiresInDays: 20000 },
    clientCertificate: null,
    redirectUri: 'http://localhost:8080/api/cloudProviders/oauth2/microsoft/callback',
    cloud: 'global',
    authorityUrl: null,
    caFile: null,
    grantType: 'authorization_code',
    scopes: [],
    status: 'not_authenticated',
    lastError: null,
    warnings: [],
    grants: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

const texts = (provider: Provider): string[] => providerBadges(provider).map((b) => b.text);

describe('provider status badges', () => {
  it('says who the provider is authenticated as', () => {
    const provider = buildProvider({
      status: 'authenticated',
      grants: [buildGrant(), buildGrant({ id: 2, upn: 'marco@contoso.com', state: 'revoked' })],
    });
    expect(texts(provider)).toEqual(['Authenticated as andrea@contoso.com']);
    expect(providerBadges(provider)[0]?.tone).toBe('ok');
  });

  it('names the identities that must sign in again', () => {
    const provider = buildProvider({ status: 'reauth_required', grants: [buildGrant({ state: 'reauth_required' })] });
    expect(texts(provider)).toEqual(['Re-authentication required for andrea@contoso.com']);
  });

  it('shows an error with its code next to the identities still signed in', () => {
    const provider = buildProvider({
      status: 'error',
      lastError: { code: 'AUTH_ACCESS_DENIED', message: 'm', remedy: null },
      grants: [buildGrant()],
    });
    expect(texts(provider)).toEqual(['Error: AUTH_ACCESS_DENIED', 'Authenticated as andrea@contoso.com']);
  });

  it('counts down the client secret from 30 days, and says when it has expired', () => {
    const secret = (expiresInDays: number) => ({ hint: '…789', expiresAt: '2026-02-01T00:00:00.000Z', expiresInDays });
    expect(texts(buildProvider({ clientSecret: secret(30) }))).toEqual(['Not authenticated']);
    expect(texts(buildProvider({ clientSecret: secret(12) }))).toEqual([
      'Not authenticated',
      'Secret expires in 12 days',
    ]);
    expect(texts(buildProvider({ clientSecret: secret(1) }))).toContain('Secret expires in 1 day');
    expect(texts(buildProvider({ clientSecret: secret(0) }))).toContain('Secret expires today');
    expect(texts(buildProvider({ clientSecret: secret(-1) }))).toContain('Secret expired');
  });

  it('asks for a client secret only for the grant types that use one', () => {
    expect(texts(buildProvider({ clientSecret: null }))).toContain('No client secret');
    expect(texts(buildProvider({ clientSecret: null, grantType: 'device_code' }))).toEqual(['Not authenticated']);
  });

  it('watches a certificate instead of the secret when the provider has one', () => {
    const certificate = (days: number) => ({
      thumbprint: 'AB'.repeat(20),
      subject: 'CN=Postern Contoso',
      notBefore: '2026-01-01T00:00:00.000Z',
      expiresAt: '2027-01-01T00:00:00.000Z',
      expiresInDays: days,
    });
    expect(texts(buildProvider({ clientSecret: null, clientCertificate: certificate(200) }))).toEqual([
      'Not authenticated',
    ]);
    expect(texts(buildProvider({ clientSecret: null, clientCertificate: certificate(12) }))).toContain(
      'Certificate expires in 12 days',
    );
    expect(texts(buildProvider({ clientSecret: null, clientCertificate: certificate(-1) }))).toContain(
      'Certificate expired',
    );
  });

  it('names an app-only grant as the application', () => {
    const provider = buildProvider({
      status: 'authenticated',
      grantType: 'client_credentials',
      grants: [buildGrant({ upn: null, displayName: null, objectId: null })],
    });
    expect(texts(provider)).toEqual(['Authenticated as the application']);
  });
});
