/**
 * An outgoing message's delivery in the words an agent uses: "Sent", "Waiting: Exchange asked us to
 * slow down — next try 10:42", "Failed: … — Retry". The server's own reply (an SMTP status line, a
 * Graph error) is kept for a "Details" disclosure, never the headline.
 */
import type { MessageDelivery } from '../api/schemas.js';

export type DeliveryTone = 'ok' | 'neutral' | 'warn' | 'error';

export interface DeliveryWords {
  /** The badge: Sent, Sending…, Queued, Waiting, Not sent, Cancelled. */
  readonly badge: string;
  readonly tone: DeliveryTone;
  /** One sentence under the message, or null when the badge says it all. */
  readonly sentence: string | null;
  /** What someone can do, when something can be done. */
  readonly remedy: string | null;
  /** The raw details (error code and text, the server's reply), for the disclosure. */
  readonly details: string | null;
}

/** Why a send is waiting, by catalogue code: the reasons an agent can picture. */
const WAITING_REASONS: Readonly<Record<string, string>> = {
  SMTP_SENDER_THROTTLED: 'Exchange asked us to slow down',
  SMTP_CONCURRENCY_LIMIT: 'Exchange asked us to slow down',
  GRAPH_THROTTLED: 'Exchange asked us to slow down',
  SMTP_QUOTA_EXCEEDED: "the mailbox's sending limit is reached for now",
  GRAPH_QUOTA_EXCEEDED: "the mailbox's sending limit is reached for now",
  OUTBOX_OVER_DAILY_LIMIT: "the mailbox's daily sending limit is reached",
  SMTP_TEMPORARY_FAILURE: 'the mail server was busy',
  GRAPH_UNAVAILABLE: 'Microsoft 365 was busy',
  SMTP_CONNECTION_FAILED: 'the mail server could not be reached',
  SMTP_TLS_FAILED: 'the secure connection to the mail server failed',
  GRAPH_CONNECTION_FAILED: 'Microsoft 365 could not be reached',
  SMTP_MAILBOX_LOGON_FAILED: 'the mailbox could not be opened',
};

/** Reasons by code prefix, when the code itself is not listed. */
const WAITING_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['AUTH_', 'signing in to the mailbox failed'],
  ['SMTP_AUTH', 'signing in to the mailbox failed'],
  ['GRAPH_AUTH', 'signing in to the mailbox failed'],
];

function reasonOf(code: string, message: string): string {
  const listed = WAITING_REASONS[code];
  if (listed !== undefined) return listed;
  for (const [prefix, reason] of WAITING_PREFIXES) if (code.startsWith(prefix)) return reason;
  // The catalogue's own sentence, without its final full stop, reads as a reason too.
  return message.endsWith('.') ? message.slice(0, -1) : message;
}

function detailsOf(delivery: MessageDelivery | null, error: string | null): string | null {
  const parts: string[] = [];
  if (delivery?.error != null) parts.push(`${delivery.error.code}: ${delivery.error.message}`);
  else if (error !== null) parts.push(error);
  if (delivery?.serverResponse != null) parts.push(`Server reply: ${delivery.serverResponse}`);
  if (delivery !== null && delivery.attempts > 0) parts.push(`Attempts: ${delivery.attempts}`);
  return parts.length === 0 ? null : parts.join('\n');
}

/**
 * The words for a message's delivery `state` (queued, sending, sent, failed, cancelled), given the
 * outbox's account when the server sent it, and `formatTime` for the next attempt.
 */
export function deliveryWords(
  state: string,
  delivery: MessageDelivery | null,
  error: string | null,
  formatTime: (iso: string) => string,
): DeliveryWords {
  const details = detailsOf(delivery, error);
  switch (state) {
    case 'sent':
      return { badge: 'Sent', tone: 'ok', sentence: null, remedy: null, details };
    case 'sending':
      return { badge: 'Sending…', tone: 'neutral', sentence: null, remedy: null, details: null };
    case 'queued': {
      const problem = delivery?.error ?? null;
      if (problem === null && error === null) {
        return { badge: 'Queued', tone: 'neutral', sentence: null, remedy: null, details: null };
      }
      const reason = problem === null ? 'the last attempt did not go through' : reasonOf(problem.code, problem.message);
      const next = delivery?.nextAttemptAt ?? null;
      return {
        badge: 'Waiting',
        tone: 'warn',
        sentence: `Waiting: ${reason}${next === null ? '' : ` — next try ${formatTime(next)}`}.`,
        remedy: null,
        details,
      };
    }
    case 'failed': {
      const problem = delivery?.error ?? null;
      const message = problem?.message ?? error ?? 'The message could not be sent.';
      return {
        badge: 'Not sent',
        tone: 'error',
        sentence: `Failed: ${message}`,
        remedy: problem?.remedy ?? null,
        details,
      };
    }
    case 'cancelled':
      return { badge: 'Cancelled', tone: 'neutral', sentence: 'Sending was cancelled.', remedy: null, details };
    default:
      return { badge: state, tone: 'neutral', sentence: null, remedy: null, details };
  }
}
