import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { emailAccountBody } from './email-account-fields.js';
import { MAX_CA_CERTIFICATES, MAX_CA_PEM_CHARS, readCaPem, summarizeCaPem } from './tls-ca-pem.js';

/** A self-signed CA certificate (PEM) with this common name. */
function caPem(commonName: string): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2026-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2036-01-01T00:00:00Z');
  const name = [{ name: 'commonName', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const first = caPem('Company Mail CA');
const second = caPem('Company Mail CA 2');

describe('readCaPem', () => {
  it('keeps only the certificates, re-encoded, and describes each by SHA-256 fingerprint and subject', () => {
    const reading = readCaPem(
      `a comment\r\n${first}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${second}`,
    );
    expect(reading.ok).toBe(true);
    if (!reading.ok) return;
    expect(reading.pem).not.toContain('comment');
    expect(reading.pem).not.toContain('PRIVATE KEY');
    expect(reading.certificates.map((c) => c.subject)).toEqual(['CN=Company Mail CA', 'CN=Company Mail CA 2']);
    expect(reading.certificates[0]?.fingerprintSha256).toMatch(/^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/);
    expect(reading.certificates[0]?.notAfter).toBe('2036-01-01T00:00:00.000Z');
    expect(summarizeCaPem(reading.pem)).toEqual(reading.certificates);
  });

  it('refuses text without a certificate, a block that is not X.509, an unterminated block, too many or too much', () => {
    expect(readCaPem('hello')).toEqual({ ok: false, problem: expect.stringContaining('at least one') });
    expect(readCaPem('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n')).toEqual({
      ok: false,
      problem: 'certificate 1 is not a valid X.509 certificate',
    });
    expect(readCaPem(first.slice(0, first.indexOf('-----END')))).toMatchObject({ ok: false });
    expect(readCaPem(first.repeat(MAX_CA_CERTIFICATES + 1))).toMatchObject({ ok: false });
    expect(readCaPem(`${first}${' '.repeat(MAX_CA_PEM_CHARS)}`)).toMatchObject({ ok: false });
  });

  it('is what the account fields accept: the PEM re-encoded, null to remove it, an error naming the field otherwise', () => {
    const base = { name: 'Support', key: 'SUP', emailAddress: 'support@company.example' };
    const reread = readCaPem(first);
    expect(emailAccountBody.parse({ ...base, tlsCaPem: `# ours\n${first}` }).tlsCaPem).toBe(
      reread.ok ? reread.pem : 'unreadable',
    );
    expect(emailAccountBody.parse({ ...base, tlsCaPem: null }).tlsCaPem).toBeNull();
    const refused = emailAccountBody.safeParse({ ...base, tlsCaPem: 'not a certificate' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(['tlsCaPem']);
  });
});
