/**
 * The emulator's TLS material: a private CA and a server certificate for localhost, 127.0.0.1
 * and ::1 (and, when asked, Microsoft's global host names: {@link MICROSOFT_HOST_NAMES}) signed by it, generated with node-forge into the data directory on first start and
 * reused afterwards. Clients trust the emulator through the CA file (`NODE_EXTRA_CA_CERTS`, or
 * the client's own `ca` option) — MSAL-style clients refuse plain http authorities.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/msal-client-application-configuration#authority (https only)
 * @see https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6 (subjectAltName)
 */
import { generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** PEM material and file paths for the HTTPS/IMAPS/SMTP servers and their clients. */
export interface TlsMaterial {
  /** The CA certificate file clients must trust. */
  caFile: string;
  caPem: string;
  certFile: string;
  certPem: string;
  keyFile: string;
  keyPem: string;
}

/** Names the server certificate covers. */
export interface TlsNames {
  hostnames: string[];
  ips: string[];
}

export const DEFAULT_TLS_NAMES: TlsNames = { hostnames: ['localhost'], ips: ['127.0.0.1', '::1'] };

/**
 * The host names of Microsoft's global cloud that Postern's `global` configuration reaches: the
 * identity platform, Microsoft Graph, Exchange Online's IMAP (and the Outlook resource's host)
 * and SMTP submission. Only for tests that resolve these names to the emulator on loopback: a
 * CA that signs them must never be trusted outside such a test (see emulator/README.md).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 */
export const MICROSOFT_HOST_NAMES: readonly string[] = [
  'login.microsoftonline.com',
  'graph.microsoft.com',
  'outlook.office365.com',
  'outlook.office.com',
  'smtp.office365.com',
];

/** `names` with Microsoft's global host names added (the emulator's `microsoftHostNames` option). */
export function withMicrosoftHostNames(names: TlsNames): TlsNames {
  const hostnames = [...names.hostnames];
  for (const host of MICROSOFT_HOST_NAMES) if (!hostnames.includes(host)) hostnames.push(host);
  return { hostnames, ips: [...names.ips] };
}

const FILES = { ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const;
const DAY_MS = 86_400_000;

const generateRsa = promisify(generateKeyPair);

/** An RSA-2048 key pair from Node's native generator (off the main thread), in forge's types. */
async function rsaKeyPair(): Promise<forge.pki.rsa.KeyPair> {
  const { privateKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgePrivate = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: forgePrivate, publicKey: forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e) };
}

function serialNumber(): string {
  // A positive serial: clear the top bit.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function createCa(keys: forge.pki.rsa.KeyPair, now: Date): { certPem: string; keyPem: string } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - DAY_MS);
  cert.validity.notAfter = new Date(now.getTime() + 3650 * DAY_MS);
  const subject = [
    { name: 'commonName', value: 'Postern Emulator Test CA' },
    { name: 'organizationName', value: 'Postern emulator (not Microsoft)' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

function createServerCert(
  keys: forge.pki.rsa.KeyPair,
  ca: { certPem: string; keyPem: string },
  names: TlsNames,
  now: Date,
): { certPem: string; keyPem: string } {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - DAY_MS);
  cert.validity.notAfter = new Date(now.getTime() + 825 * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: names.hostnames[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...names.hostnames.map((value) => ({ type: 2, value })),
    ...names.ips.map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
}

/** Whether a PEM server certificate is still usable for `names` at `now` and was issued by `caPem`. */
function serverCertUsable(certPem: string, caPem: string, names: TlsNames, now: Date): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.verify(ca.publicKey)) return false;
    if (new Date(cert.validTo).getTime() < now.getTime() + 30 * DAY_MS) return false;
    return (
      names.hostnames.every((h) => cert.checkHost(h) !== undefined) &&
      names.ips.every((ip) => cert.checkIP(ip) !== undefined)
    );
  } catch {
    return false;
  }
}

/**
 * Returns the CA and server certificate in `dataDir`, creating what is missing: the CA once
 * (kept for years so clients configured with it keep working), the server certificate again
 * whenever it does not cover `names` or is about to expire.
 */
export async function loadOrCreateTls(
  dataDir: string,
  names: TlsNames = DEFAULT_TLS_NAMES,
  now: Date = new Date(),
): Promise<TlsMaterial> {
  for (const ip of names.ips) if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
  await mkdir(dataDir, { recursive: true });
  const file = (name: string): string => path.join(dataDir, name);
  let caPem = await readOptional(file(FILES.ca));
  let caKeyPem = await readOptional(file(FILES.caKey));
  const certOnDisk = await readOptional(file(FILES.cert));
  const keyOnDisk = await readOptional(file(FILES.key));
  const needCa = caPem === null || caKeyPem === null;
  // Generate the keys that will be needed concurrently: RSA generation dominates start-up time.
  const [caKeys, serverKeys] = await Promise.all([
    needCa ? rsaKeyPair() : Promise.resolve(null),
    needCa || certOnDisk === null || keyOnDisk === null ? rsaKeyPair() : Promise.resolve(null),
  ]);
  if (caPem === null || caKeyPem === null) {
    const ca = createCa(caKeys ?? (await rsaKeyPair()), now);
    caPem = ca.certPem;
    caKeyPem = ca.keyPem;
    await writeFile(file(FILES.caKey), caKeyPem, { mode: 0o600 });
    await writeFile(file(FILES.ca), caPem, { mode: 0o644 });
  }
  let certPem = certOnDisk;
  let keyPem = keyOnDisk;
  if (certPem === null || keyPem === null || !serverCertUsable(certPem, caPem, names, now)) {
    const server = createServerCert(
      serverKeys ?? (await rsaKeyPair()),
      { certPem: caPem, keyPem: caKeyPem },
      names,
      now,
    );
    certPem = server.certPem;
    keyPem = server.keyPem;
    await writeFile(file(FILES.key), keyPem, { mode: 0o600 });
    await writeFile(file(FILES.cert), certPem, { mode: 0o644 });
  }
  return { caFile: file(FILES.ca), caPem, certFile: file(FILES.cert), certPem, keyFile: file(FILES.key), keyPem };
}
