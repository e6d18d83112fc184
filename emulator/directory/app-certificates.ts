/**
 * Certificates of app registrations ("Certificates & secrets → Certificates → Upload"): only the
 * public certificate is held, with the thumbprints a client assertion names it by.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 */
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { EmulatorError } from '../errors.js';
import type { AppCertificate } from './model.js';

/** Longest certificate PEM accepted. */
const MAX_PEM = 16_384;

/** Reads an uploaded certificate; refuses what is not a PEM certificate (never a private key). */
export function toAppCertificate(input: { pem: string; id?: string; displayName?: string }): AppCertificate {
  if (input.pem.length > MAX_PEM || !input.pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new EmulatorError('invalid', 'certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  if (input.pem.includes('PRIVATE KEY'))
    throw new EmulatorError('invalid', 'upload the certificate only, never its private key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(input.pem);
  } catch {
    throw new EmulatorError('invalid', 'certificate is not a readable X.509 certificate');
  }
  const der = cert.raw;
  const sha1 = createHash('sha1').update(der).digest();
  return {
    id: (input.id ?? randomUUID()).toLowerCase(),
    displayName: input.displayName ?? cert.subject.split('\n')[0] ?? 'certificate',
    pem: cert.toString(),
    thumbprint: sha1.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    startsAt: new Date(cert.validFrom),
    expiresAt: new Date(cert.validTo),
  };
}
