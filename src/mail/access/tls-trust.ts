/**
 * Whom a mailbox connection trusts, decided once for IMAP and SMTP alike: the system's CAs (Node
 * adds `NODE_EXTRA_CA_CERTS` to them), for a Cloud Provider with a custom authority (the
 * emulator, a proxy) its CA file in addition — the same rule as the identity calls'
 * (`providers/microsoft/http-fetch.ts`): a CA file adds to the roots, it never replaces them —, and
 * the account's own CAs (a PEM stored on the account, for a server a private CA signed), which add
 * to them the same way.
 *
 * @see https://nodejs.org/api/tls.html#tlscreatesecurecontextoptions
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { PosternError } from '../../errors/index.js';

/** The trust a route resolves to: the system's CAs, plus this CA file and these CAs (PEM) when not null. */
export interface TlsTrust {
  readonly caFile: string | null;
  /** The account's own CAs (PEM). */
  readonly caPem?: string | null;
}

/** TLS options every mailbox connection uses. */
export interface TrustOptions {
  readonly minVersion: 'TLSv1.2';
  readonly secureContext?: tls.SecureContext;
}

/**
 * The trust's extra CAs (PEM): the CA file's and the account's own, together; null when the
 * system's CAs suffice. A file that cannot be read is the protocol's TLS error, with a remedy that
 * names the file.
 */
export function loadCa(trust: TlsTrust, protocol: 'imap' | 'smtp' | 'graph'): string | null {
  const own = trust.caPem ?? null;
  const file = readCaFile(trust, protocol);
  if (file === null) return own;
  return own === null ? file : `${file}\n${own}`;
}

function readCaFile(trust: TlsTrust, protocol: 'imap' | 'smtp' | 'graph'): string | null {
  if (trust.caFile === null) return null;
  try {
    return fs.readFileSync(trust.caFile, 'utf8');
  } catch (error) {
    throw new PosternError(
      protocol === 'imap' ? 'IMAP_TLS_FAILED' : protocol === 'smtp' ? 'SMTP_TLS_FAILED' : 'GRAPH_TLS_FAILED',
      {
        message: `The CA file ${trust.caFile} of the Cloud Provider cannot be read.`,
        remedy:
          protocol === 'smtp'
            ? 'Correct the CA file of the Cloud Provider, then retry the message.'
            : 'Correct the CA file of the Cloud Provider (a PEM certificate Postern can read), or remove it.',
        cause: error,
      },
    );
  }
}

/** The TLS options of a connection that trusts the system's CAs and, when given, this extra CA (PEM). */
export function trustOptions(ca: string | Buffer | null | undefined): TrustOptions {
  return ca === null || ca === undefined
    ? { minVersion: 'TLSv1.2' }
    : { minVersion: 'TLSv1.2', secureContext: secureContextFor(ca) };
}

const secureContexts = new Map<string, tls.SecureContext>();

/**
 * One TLS context per extra CA, shared by every connection that trusts it: building a context
 * parses the whole root store, which costs more than the handshake itself.
 */
function secureContextFor(ca: string | Buffer): tls.SecureContext {
  const key = createHash('sha256').update(ca).digest('hex');
  let context = secureContexts.get(key);
  if (context === undefined) {
    const pem = typeof ca === 'string' ? ca : ca.toString('utf8');
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, pem], minVersion: 'TLSv1.2' });
    secureContexts.set(key, context);
  }
  return context;
}
