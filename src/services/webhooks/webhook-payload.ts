/**
 * The body of a webhook delivery: the event, named field by field (an allowlist, as presenters
 * are), serialised once so that the signature covers exactly the bytes sent.
 *
 * @see docs/WEBHOOKS.md
 */
import type { EventData, EventLevel, EventRecord, EventScope } from '../../store/index.js';

/** What a receiver gets. */
export interface WebhookPayload {
  /** The event id: unique, increasing; use it to drop a delivery seen twice. */
  readonly id: number;
  readonly type: string;
  readonly level: EventLevel;
  readonly scope: EventScope;
  readonly scopeId: number | null;
  /** A sentence for people. */
  readonly message: string;
  /** The event's facts; for `message.received` the summary of the message. */
  readonly data: EventData;
  /** When the event happened (ISO-8601 UTC). */
  readonly createdAt: string;
}

/** The payload of an event. */
function webhookPayload(event: EventRecord): WebhookPayload {
  return {
    id: event.id,
    type: event.type,
    level: event.level,
    scope: event.scope,
    scopeId: event.scopeId,
    message: event.message,
    data: event.data ?? {},
    createdAt: event.createdAt,
  };
}

/** The exact body sent (and signed). */
export function webhookBodyText(event: EventRecord): string {
  return JSON.stringify(webhookPayload(event));
}

/**
 * A webhook URL as it may appear in events and logs: scheme, host and path, without the query
 * string, which integrators sometimes use to carry a token.
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
