/** A webhook's delivery log, newest first, with Redeliver for the ones that failed. */
import type { JSX } from 'preact';
import { redeliver, webhookDeliveries } from '../../api/webhooks.js';
import type { Delivery } from '../../api/schemas.js';
import { Badge } from '../../components/badge.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import type { Badge as BadgeData } from '../../lib/provider-status.js';
import { usePolling } from '../../lib/use-polling.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';

const STATES: Record<Delivery['state'], BadgeData> = {
  pending: { tone: 'neutral', text: 'Pending' },
  delivering: { tone: 'neutral', text: 'Delivering' },
  delivered: { tone: 'ok', text: 'Delivered' },
  failed: { tone: 'error', text: 'Failed' },
};

export function Deliveries({ webhookId, refreshKey }: { webhookId: number; refreshKey: number }): JSX.Element {
  const log = useResource(() => webhookDeliveries(webhookId), `${webhookId}-${refreshKey}`);
  const action = useSubmit();
  usePolling(() => void log.reload(), 5000, String(webhookId));
  const items = log.data ?? [];
  return (
    <div class="deliveries">
      {log.error === undefined ? null : <ErrorNotice error={log.error} />}
      {action.error === undefined ? null : <ErrorNotice error={action.error} />}
      {items.length === 0 ? (
        <p class="muted">No delivery yet. Use Ping to send a test event.</p>
      ) : (
        <div class="table-wrap">
          <table class="table table-compact">
            <caption class="visually-hidden">Deliveries</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Answer</th>
                <th scope="col" class="hide-narrow">
                  Time
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id}>
                  <td>
                    <code>{d.eventType}</code>
                  </td>
                  <td>
                    <Badge badge={STATES[d.state]} />
                  </td>
                  <td>{d.attempts}</td>
                  <td>
                    {d.responseStatus === null ? '' : `HTTP ${d.responseStatus}`}
                    {d.lastError === null ? null : <span class="muted block">{d.lastError}</span>}
                    {d.nextAttemptAt === null ? null : (
                      <span class="muted block">next try {formatDateTime(d.nextAttemptAt)}</span>
                    )}
                  </td>
                  <td class="hide-narrow">{formatDateTime(d.deliveredAt ?? d.createdAt)}</td>
                  <td class="row-actions">
                    {d.state === 'failed' || d.state === 'delivered' ? (
                      <button
                        type="button"
                        class="button button-small"
                        disabled={action.busy}
                        onClick={() =>
                          void action.run(async () => {
                            await redeliver(webhookId, d.id);
                            await log.reload();
                          })
                        }
                      >
                        Redeliver
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
