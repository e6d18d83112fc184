/**
 * An account's own certificate authorities, given as PEM: the private CA that signed its IMAP and
 * SMTP servers' certificates. Read in linear time (line by line, no regular expression), capped in
 * size and count, and kept only as the certificates it holds — re-encoded, so that comments,
 * private keys or anything else pasted around them are never stored.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7468#section-5 (textual encoding of certificates)
 */
import { X509Certificate } from 'node:crypto';

/** The largest PEM accepted (characters): a chain of a few certificates fits many times over. */
export const MAX_CA_PEM_CHARS = 64 * 1024;
/** The most certificates one account may trust. */
export const MAX_CA_CERTIFICATES = 16;

/** One trusted certificate as shown: its SHA-256 fingerprint (colon-separated hex) and subject. */
export interface CaCertificateSummary {
  readonly fingerprintSha256: string;
  readonly subject: string;
  readonly notAfter: string;
}

/** The certificates read from a PEM, re-encoded, or why it cannot be used. */
export type CaPemReading =
  { ok: true; pem: string; certificates: CaCertificateSummary[] } | { ok: false; problem: string };

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** Reads the certificates of a PEM text; anything outside BEGIN/END CERTIFICATE blocks is ignored. */
export function readCaPem(text: string): CaPemReading {
  if (text.length > MAX_CA_PEM_CHARS) return { ok: false, problem: `must be at most ${MAX_CA_PEM_CHARS} characters` };
  const blocks: string[] = [];
  let current: string[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === null) {
      if (line === BEGIN) current = [];
    } else if (line === END) {
      blocks.push(`${BEGIN}\n${current.join('\n')}\n${END}\n`);
      current = null;
    } else {
      current.push(line);
    }
  }
  if (current !== null) return { ok: false, problem: `has a certificate without its ${END} line` };
  if (blocks.length === 0) return { ok: false, problem: `must contain at least one ${BEGIN} block` };
  if (blocks.length > MAX_CA_CERTIFICATES)
    return { ok: false, problem: `may hold at most ${MAX_CA_CERTIFICATES} certificates` };
  const pems: string[] = [];
  const certificates: CaCertificateSummary[] = [];
  for (const [index, block] of blocks.entries()) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block);
    } catch {
      return { ok: false, problem: `certificate ${index + 1} is not a valid X.509 certificate` };
    }
    pems.push(certificate.toString());
    certificates.push(summarize(certificate));
  }
  return { ok: true, pem: pems.join(''), certificates };
}

/** The summaries of a stored PEM (already checked by {@link readCaPem}); empty when null. */
export function summarizeCaPem(pem: string | null): CaCertificateSummary[] {
  if (pem === null) return [];
  const reading = readCaPem(pem);
  return reading.ok ? reading.certificates : [];
}

function summarize(certificate: X509Certificate): CaCertificateSummary {
  return {
    fingerprintSha256: certificate.fingerprint256,
    subject: certificate.subject.split('\n').join(', '),
    notAfter: new Date(certificate.validTo).toISOString(),
  };
}
