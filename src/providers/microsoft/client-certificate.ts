/**
 * Certificate credentials for an app registration: the key pair Postern generates (RSA 2048, a
 * self-signed certificate to upload into Azure), the checks on a key and certificate an
 * administrator uploads, and the facts the API shows (thumbprints, subject, validity). The signed
 * client assertion itself is built in `identity-client.ts`, on openid-client's `PrivateKeyJwt`.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/certificate-credentials
 * @see https://learn.microsoft.com/entra/identity-platform/howto-create-self-signed-certificate
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { PosternError } from '../../errors/index.js';

/** A certificate credential in PEM: the private key (a secret) and its certificate (public). */
export interface ClientCertificate {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

/** What may be shown of a certificate: never the key. */
export interface CertificateFacts {
  /** SHA-1 of the DER certificate, upper-case hex: what the Azure portal lists as "Thumbprint". */
  readonly thumbprint: string;
  /** base64url SHA-256 of the DER certificate: the assertion's `x5t#S256` header. */
  readonly x5tS256: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Longest PEM accepted for a key or a certificate (a 4096-bit key is about 3.3 KB). */
export const MAX_PEM_LENGTH = 16_384;
/** Validity of a generated certificate. Microsoft advises short-lived certificates; a year is the portal's own choice. */
export const GENERATED_VALIDITY_DAYS = 365;
const DAY_MS = 86_400_000;

const generateRsa = promisify(generateKeyPair);

/**
 * A new RSA-2048 key pair and a self-signed certificate (SHA-256) for it, valid from a minute
 * before `now` for {@link GENERATED_VALIDITY_DAYS} days.
 */
export async function generateClientCertificate(options: {
  commonName: string;
  now: Date;
}): Promise<ClientCertificate> {
  const { privateKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(options.now.getTime() - 60_000);
  cert.validity.notAfter = new Date(options.now.getTime() + GENERATED_VALIDITY_DAYS * DAY_MS);
  const subject = [{ name: 'commonName', value: options.commonName.slice(0, 64) }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(forgeKey, forge.md.sha256.create());
  return { privateKeyPem: privateKey, certificatePem: forge.pki.certificateToPem(cert) };
}

/** The facts of a certificate PEM. @throws PosternError VALIDATION_FAILED naming `field`. */
export function certificateFacts(certificatePem: string, field = 'certificate'): CertificateFacts {
  const cert = parseCertificate(certificatePem, field);
  return factsOf(cert);
}

/**
 * Checks an uploaded key and certificate: both parse, the key is RSA of at least 2048 bits
 * (assertions are RS256), and the certificate is this key's. Returns the key as PKCS#8 PEM (what
 * is stored) and the certificate's facts.
 *
 * @throws PosternError VALIDATION_FAILED naming `privateKey` or `certificate`.
 */
export function readClientCertificate(input: ClientCertificate): {
  credential: ClientCertificate;
  facts: CertificateFacts;
} {
  const cert = parseCertificate(input.certificatePem, 'certificate');
  const key = parsePrivateKey(input.privateKeyPem);
  if (!cert.checkPrivateKey(key))
    throw fieldError('certificate', 'is not the certificate of this private key (their public keys differ)');
  const privateKeyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { credential: { privateKeyPem, certificatePem: cert.toString() }, facts: factsOf(cert) };
}

function parseCertificate(pem: string, field: string): X509Certificate {
  if (pem.length > MAX_PEM_LENGTH) throw fieldError(field, `must be at most ${MAX_PEM_LENGTH} characters`);
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw fieldError(field, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  try {
    return new X509Certificate(pem);
  } catch {
    throw fieldError(field, 'is not a readable X.509 certificate');
  }
}

function parsePrivateKey(pem: string): KeyObject {
  const field = 'privateKey';
  if (pem.length > MAX_PEM_LENGTH) throw fieldError(field, `must be at most ${MAX_PEM_LENGTH} characters`);
  if (pem.includes('ENCRYPTED PRIVATE KEY') || pem.includes('Proc-Type: 4,ENCRYPTED'))
    throw fieldError(field, 'is encrypted: export it without a passphrase (PEM, PKCS#8 or PKCS#1)');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw fieldError(field, 'is not a readable PEM private key');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048)
    throw fieldError(field, 'must be an RSA key of at least 2048 bits (client assertions are signed with RS256)');
  return key;
}

function factsOf(cert: X509Certificate): CertificateFacts {
  const der = cert.raw;
  return {
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
    subject: cert.subject.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

function fieldError(field: string, problem: string): PosternError {
  return new PosternError('VALIDATION_FAILED', {
    message: `The request body is invalid: ${field}: ${problem}.`,
    details: { in: 'body', fields: [{ field, problem }] },
  });
}
