/**
 * The composer's account of the reply just sent, in the words of `lib/delivery-words.ts`: "Sent",
 * "Waiting: Exchange asked us to slow down — next try 10:42", "The reply could not be sent" with
 * what to do and Retry. The server's own reply and the error code are behind "Details".
 */
import type { JSX } from 'preact';
import type { Outgoing } from '../../api/schemas.js';
import { deliveryWords } from '../../lib/delivery-words.js';
import { formatTimeSoon } from '../../lib/format.js';

export function DeliveryDetails({ details }: { details: string | null }): JSX.Element | null {
  if (details === null) return null;
  return (
    <details class="delivery-details">
      <summary>Details</summary>
      <pre>{details}</pre>
    </details>
  );
}

export function DeliveryState({
  tracked,
  onRetry,
}: {
  tracked: { messageId: number; outgoing: Outgoing | null };
  onRetry: (id: number) => void;
}): JSX.Element {
  const state = tracked.outgoing?.state ?? 'queued';
  const delivery = tracked.outgoing?.delivery ?? null;
  const words = deliveryWords(state, delivery, null, formatTimeSoon);
  if (state === 'sent') {
    return (
      <div class="delivery delivery-sent" role="status">
        <p>Sent.</p>
        <DeliveryDetails details={words.details} />
      </div>
    );
  }
  if (state === 'failed' || state === 'cancelled') {
    return (
      <div class="notice notice-error" role="alert">
        <div class="notice-body">
          <p class="notice-title">{state === 'failed' ? 'The reply could not be sent.' : 'The reply was cancelled.'}</p>
          {delivery?.error == null ? null : <p>{delivery.error.message}</p>}
          {words.remedy === null ? null : (
            <p class="notice-remedy">
              <strong>What to do:</strong> {words.remedy}
            </p>
          )}
          <DeliveryDetails details={words.details} />
          <button type="button" class="button" onClick={() => onRetry(tracked.messageId)}>
            Retry
          </button>
        </div>
      </div>
    );
  }
  if (words.sentence !== null) {
    return (
      <div class="delivery delivery-waiting" role="status">
        <p>
          <span class="spinner" aria-hidden="true" /> {words.sentence}
        </p>
        <DeliveryDetails details={words.details} />
      </div>
    );
  }
  return (
    <p class="delivery" role="status">
      <span class="spinner" aria-hidden="true" /> {words.badge}
    </p>
  );
}
