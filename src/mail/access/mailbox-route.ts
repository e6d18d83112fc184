/**
 * How one mailbox is reached, resolved once from its account: the IMAP and SMTP endpoints (host,
 * port, TLS mode), the TLS trust, who signs in and how. Pure: the caller looks the Cloud Provider
 * up and obtains credentials (tokens, unsealed passwords); `mail` never reads the store.
 *
 * - **Modern Authentication** (Microsoft 365): the hosts of the provider's cloud unless the account
 *   overrides them, the provider's CA file for a custom authority, SASL XOAUTH2 with the delegate's
 *   token; `user=` is the mailbox (a shared mailbox's own address).
 * - **Without** (service `imap`, another server): the account's own hosts, the system's CAs, the
 *   username and password (LOGIN). The Cloud Provider plays no part, even if one is still set.
 * - Either way, the account's own CAs (a PEM stored on it) are trusted besides: the private CA of
 *   a company's own server, without `NODE_EXTRA_CA_CERTS` for the whole process.
 *
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/pop3-and-imap4/pop3-and-imap4 (outlook.office365.com:993)
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission (smtp.office365.com:587, STARTTLS)
 * @see https://www.rfc-editor.org/rfc/rfc8314 (implicit TLS: 993 for IMAP, 465 for submission)
 */
import { PosternError } from '../../errors/index.js';
import type { TlsTrust } from './tls-trust.js';

/** IMAP over implicit TLS. */
export const IMAPS_PORT = 993;
/** Message submission, STARTTLS required (Exchange offers AUTH only after it). */
export const SUBMISSION_PORT = 587;
/** Message submission over implicit TLS. */
export const SUBMISSIONS_PORT = 465;

/** The account's settings the route depends on. */
export interface AccessAccount {
  readonly key: string;
  readonly username: string;
  readonly modernAuth: boolean;
  readonly imapHost: string | null;
  readonly imapPort: number | null;
  readonly smtpHost: string | null;
  readonly smtpPort: number | null;
  /** The account's own CAs (PEM), trusted besides the system's; null or absent when none. */
  readonly tlsCaPem?: string | null;
}

/** What the account's Cloud Provider contributes: its cloud's mail hosts and, for a custom authority, a CA file. */
export interface AccessCloud {
  readonly imapHost: string;
  readonly smtpHost: string;
  /** Microsoft Graph's API root with its version (`https://graph.microsoft.com/v1.0`). */
  readonly graphApi: string;
  readonly caFile: string | null;
}

/** `implicit`: TLS from the first byte; `starttls`: plain text until STARTTLS, which is required. */
export type TlsMode = 'implicit' | 'starttls';

export interface MailEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMode;
}

/** How the account signs in: SASL XOAUTH2 with an access token, or its username and password. */
export type SignInKind = 'xoauth2' | 'password';

/** Where the mailbox is reached through Microsoft Graph: `/users/{mailbox}` under the API root. */
export interface GraphEndpoint {
  readonly apiBase: string;
  readonly mailbox: string;
}

/** One mailbox's route; null endpoints are reported by {@link requireImap} / {@link requireSmtp} / {@link requireGraph}. */
export interface MailboxRoute {
  readonly key: string;
  readonly modernAuth: boolean;
  readonly imap: MailEndpoint | null;
  readonly smtp: MailEndpoint | null;
  /** Only with Modern Authentication and a Cloud Provider: Graph is Microsoft 365's. */
  readonly graph: GraphEndpoint | null;
  readonly trust: TlsTrust;
  readonly signIn: SignInKind;
  /** The mailbox to open: `user=` of XOAUTH2, or the login name with a password. */
  readonly user: string;
}

/** Resolves an account (and its provider's cloud, null without one) to its route. */
export function resolveMailboxRoute(account: AccessAccount, cloud: AccessCloud | null): MailboxRoute {
  const own = account.modernAuth ? cloud : null;
  const imapHost = account.modernAuth ? (own === null ? null : (account.imapHost ?? own.imapHost)) : account.imapHost;
  const smtpHost = account.smtpHost ?? own?.smtpHost ?? null;
  const smtpPort = account.smtpPort ?? SUBMISSION_PORT;
  return {
    key: account.key,
    modernAuth: account.modernAuth,
    imap: imapHost === null ? null : { host: imapHost, port: account.imapPort ?? IMAPS_PORT, tls: 'implicit' },
    smtp:
      smtpHost === null
        ? null
        : { host: smtpHost, port: smtpPort, tls: smtpPort === SUBMISSIONS_PORT ? 'implicit' : 'starttls' },
    graph: own === null ? null : { apiBase: own.graphApi, mailbox: account.username },
    trust: { caFile: own?.caFile ?? null, caPem: account.tlsCaPem ?? null },
    signIn: account.modernAuth ? 'xoauth2' : 'password',
    user: account.username,
  };
}

/** The route's IMAP endpoint, or the error that says what the account lacks. */
export function requireImap(route: MailboxRoute): MailEndpoint {
  if (route.imap !== null) return route.imap;
  if (route.modernAuth) {
    throw new PosternError('VALIDATION_FAILED', {
      message: `Email account ${route.key} uses Modern Authentication without a Cloud Provider.`,
      remedy: 'Choose a Cloud Provider for the account.',
    });
  }
  throw new PosternError('VALIDATION_FAILED', {
    message: `Email account ${route.key} has no IMAP host: an account without Modern Authentication names its server.`,
    remedy: 'Set the IMAP host (and port, 993 by default) of the account.',
    details: { in: 'body', fields: [{ field: 'imapHost', problem: 'is required for an IMAP account' }] },
  });
}

/** The route's SMTP endpoint, or the error that says what the account lacks. */
export function requireSmtp(route: MailboxRoute): MailEndpoint {
  if (route.smtp !== null) return route.smtp;
  throw new PosternError('SMTP_CONNECTION_FAILED', {
    message: `Email account ${route.key} has no SMTP host.`,
    remedy: "Set the account's SMTP host (smtp.office365.com for Microsoft 365), or choose its Cloud Provider.",
  });
}

/** The route's Graph endpoint, or the error that says what the account lacks. */
export function requireGraph(route: MailboxRoute): GraphEndpoint {
  if (route.graph !== null) return route.graph;
  throw new PosternError('VALIDATION_FAILED', {
    message: route.modernAuth
      ? `Email account ${route.key} uses Modern Authentication without a Cloud Provider.`
      : `Email account ${route.key} does not use Modern Authentication: Microsoft Graph reaches only Microsoft 365 mailboxes.`,
    remedy: route.modernAuth
      ? 'Choose a Cloud Provider for the account.'
      : 'Use the IMAP and SMTP transport for this account, or turn Modern Authentication on and choose a Cloud Provider.',
  });
}
