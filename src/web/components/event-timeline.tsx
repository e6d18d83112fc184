/** A timeline of events, newest first, with older pages loaded on demand. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api/client.js';
import type { EventPage, TimelineEvent } from '../api/schemas.js';
import { formatDateTime } from '../lib/format.js';
import { toApiError } from '../lib/use-resource.js';
import { ErrorNotice } from './notice.js';

export function EventTimeline({
  load,
  refreshKey,
}: {
  load: (before?: number) => Promise<EventPage>;
  refreshKey: string;
}): JSX.Element {
  const [events, setEvents] = useState<TimelineEvent[] | undefined>(undefined);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const fetchPage = async (before: number | undefined): Promise<void> => {
    setBusy(true);
    try {
      const page = await load(before);
      setEvents((old) => (before === undefined ? page.items : [...(old ?? []), ...page.items]));
      setNext(page.nextBefore);
      setError(undefined);
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void fetchPage(undefined);
  }, [refreshKey]);

  return (
    <div class="timeline">
      {error === undefined ? null : <ErrorNotice error={error} />}
      {events === undefined ? null : events.length === 0 ? (
        <p class="muted">Nothing has happened yet.</p>
      ) : (
        <ol class="timeline-list">
          {events.map((event) => (
            <li key={event.id} class={`timeline-item timeline-${event.level}`}>
              <time dateTime={event.createdAt}>{formatDateTime(event.createdAt)}</time>
              <span class={`level level-${event.level}`}>{event.level}</span>
              <span class="timeline-message">{event.message}</span>
              <code class="timeline-type">{event.type}</code>
            </li>
          ))}
        </ol>
      )}
      {next === null ? null : (
        <button type="button" class="button" disabled={busy} onClick={() => void fetchPage(next)}>
          Load older events
        </button>
      )}
    </div>
  );
}
