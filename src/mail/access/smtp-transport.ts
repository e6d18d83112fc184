/**
 * The one place an SMTP connection's settings are made — for the outbox's pooled submitter and the
 * doctor's check alike: the endpoint's TLS mode (implicit TLS on 465, otherwise STARTTLS required:
 * Exchange offers AUTH only after it), the route's trust, and a timeout for every network step.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3207 (STARTTLS), https://www.rfc-editor.org/rfc/rfc8314 (implicit TLS)
 * @see https://nodemailer.com/smtp/ (secure, requireTLS, tls, timeouts)
 */
import { SUBMISSIONS_PORT, type TlsMode } from './mailbox-route.js';
import { trustOptions, type TrustOptions } from './tls-trust.js';

/** Where to submit. */
export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  /** An extra CA certificate (PEM) to trust besides the system's, for a private server. */
  readonly ca?: string | null;
  /** Default: implicit on 465, STARTTLS on any other port. */
  readonly tls?: TlsMode;
}

/** How long each network step may take. */
export interface SmtpTimeouts {
  readonly connectionMs: number;
  readonly greetingMs: number;
  readonly socketMs: number;
}

/** Short-lived connections (the doctor): a person is waiting for the answer. */
export const SMTP_PROBE_TIMEOUTS: SmtpTimeouts = { connectionMs: 20_000, greetingMs: 20_000, socketMs: 30_000 };

/** nodemailer's connection options for an endpoint (add `auth`, pooling and logging). */
export interface SmtpConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly tls: TrustOptions;
  readonly connectionTimeout: number;
  readonly greetingTimeout: number;
  readonly socketTimeout: number;
}

/** The connection options of an SMTP endpoint. */
export function smtpConnectionOptions(endpoint: SmtpEndpoint, timeouts: SmtpTimeouts): SmtpConnectionOptions {
  const implicit = (endpoint.tls ?? (endpoint.port === SUBMISSIONS_PORT ? 'implicit' : 'starttls')) === 'implicit';
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: implicit,
    requireTLS: !implicit,
    tls: trustOptions(endpoint.ca),
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
  };
}
