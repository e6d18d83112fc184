import { createHash, createSign, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { toAppCertificate } from '../directory/app-certificates.js';
import type { AppRegistration } from '../directory/model.js';
import { AadstsError } from './aadsts.js';
import { JWT_BEARER, verifyClientAssertion } from './client-assertion.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const APP_ID = '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03';
const TOKEN_URL = 'https://127.0.0.1:8443/contoso.onmicrosoft.com/oauth2/v2.0/token';

/** A key pair and a self-signed certificate valid around NOW. */
function keyAndCertificate(): { keyPem: string; certPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(NOW - 86_400_000);
  cert.validity.notAfter = new Date(NOW + 30 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'assertion test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'assertion test' }]);
  cert.sign(key, forge.md.sha256.create());
  return { keyPem: privateKey, certPem: forge.pki.certificateToPem(cert) };
}

const signer = keyAndCertificate();
const stranger = keyAndCertificate();
const app: AppRegistration = {
  appId: APP_ID,
  tenantId: 'tenant-1',
  displayName: 'Daemon',
  signInAudience: 'AzureADMyOrg',
  redirectUris: { web: [], spa: [], publicClient: [] },
  secrets: [],
  certificates: [toAppCertificate({ pem: signer.certPem })],
  allowPublicClient: false,
  permissions: { delegated: [], application: [] },
};

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A client assertion signed by `keyPem`, naming `certPem` by x5t#S256, with claims overridden. */
function assertion(
  options: {
    keyPem?: string;
    certPem?: string;
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
  } = {},
): string {
  const der = new X509Certificate(options.certPem ?? signer.certPem).raw;
  const header = {
    alg: 'RS256',
    typ: 'JWT',
    'x5t#S256': createHash('sha256').update(der).digest('base64url'),
    ...options.header,
  };
  const now = Math.floor(NOW / 1000);
  const claims = { aud: TOKEN_URL, iss: APP_ID, sub: APP_ID, jti: 'j1', nbf: now, exp: now + 300, ...options.claims };
  const input = `${b64(header)}.${b64(claims)}`;
  const signature = createSign('RSA-SHA256')
    .update(input)
    .sign(options.keyPem ?? signer.keyPem)
    .toString('base64url');
  return `${input}.${signature}`;
}

function refusal(clientAssertion: string, nowMs = NOW): AadstsError {
  try {
    verifyClientAssertion({
      app,
      params: { client_assertion_type: JWT_BEARER, client_assertion: clientAssertion },
      audiences: [TOKEN_URL],
      nowMs,
    });
  } catch (error) {
    if (error instanceof AadstsError) return error;
    throw error;
  }
  throw new Error('the assertion was accepted');
}

describe('client assertions', () => {
  it('accepts an RS256 assertion naming an uploaded certificate by x5t#S256 (or x5t)', () => {
    const input = { app, audiences: [TOKEN_URL], nowMs: NOW };
    expect(() =>
      verifyClientAssertion({ ...input, params: { client_assertion_type: JWT_BEARER, client_assertion: assertion() } }),
    ).not.toThrow();
    const x5t = createHash('sha1').update(new X509Certificate(signer.certPem).raw).digest('base64url');
    const byX5t = assertion({ header: { 'x5t#S256': undefined, x5t } });
    expect(() =>
      verifyClientAssertion({ ...input, params: { client_assertion_type: JWT_BEARER, client_assertion: byX5t } }),
    ).not.toThrow();
  });

  it('AADSTS700027 for an unknown certificate, and for a signature by another key', () => {
    const unknown = refusal(assertion({ keyPem: stranger.keyPem, certPem: stranger.certPem }));
    expect(unknown).toMatchObject({ code: 700027, error: 'invalid_client', status: 401 });
    expect(unknown.text).toContain('[Reason - The key was not found., Thumbprint of key used by client:');
    expect(unknown.text).toContain(`for app Id '${APP_ID}'`);
    const forged = refusal(assertion({ keyPem: stranger.keyPem }));
    expect(forged.code).toBe(700027);
    expect(forged.text).toContain('Key was found, but use of the key to verify the signature failed.');
    expect(forged.text).toMatch(/Found key 'Start=\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d, End=/);
  });

  it('AADSTS700024 outside the time range, 700023 for another audience, 700021 for another issuer', () => {
    const late = refusal(assertion(), NOW + 3_600_000);
    expect(late).toMatchObject({ code: 700024, error: 'invalid_client' });
    expect(late.text).toMatch(
      /^Client assertion is not within its valid time range\. Current time: 2026-06-01T13:00:00\.0000000Z, assertion valid from 2026-06-01T12:00:00\.0000000Z, expiry time of assertion 2026-06-01T12:05:00\.0000000Z\./,
    );
    expect(refusal(assertion({ claims: { aud: 'https://127.0.0.1:8443/contoso.onmicrosoft.com/v2.0' } })).code).toBe(
      700023,
    );
    expect(refusal(assertion({ claims: { iss: 'someone-else' } })).code).toBe(700021);
  });

  it('AADSTS50027 for a malformed token or one without a thumbprint', () => {
    expect(refusal('not.a-jwt').code).toBe(50027);
    const noThumbprint = refusal(assertion({ header: { 'x5t#S256': undefined } }));
    expect(noThumbprint.text).toBe('Invalid JWT token. No certificate thumbprint specified in token header.');
  });
});
