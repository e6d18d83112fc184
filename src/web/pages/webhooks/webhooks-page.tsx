/**
 * Webhooks for integrators: where Postern POSTs its events (signed with HMAC), which events, and
 * how the deliveries went. The signing secret is shown once, at creation or rotation.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { deleteWebhook, listWebhooks, pingWebhook, rotateWebhookSecret, updateWebhook } from '../../api/webhooks.js';
import type { Webhook } from '../../api/schemas.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { CopyField } from '../../components/copy-field.js';
import { useConfirm } from '../../components/confirm-dialog.js';
import { Dialog } from '../../components/dialog.js';
import { MenuButton } from '../../components/menu-button.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { Deliveries } from './deliveries.js';
import { WebhookForm } from './webhook-form.js';

export function WebhooksPage(): JSX.Element {
  const webhooks = useResource(listWebhooks, 'webhooks');
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  const action = useSubmit();
  const [confirm, confirmation] = useConfirm();

  const act = (done: string, run: () => Promise<unknown>): void => {
    void action.run(async () => {
      await run();
      setMessage(done);
      setRefresh((r) => r + 1);
      await webhooks.reload();
    });
  };
  const items = (hook: Webhook) => [
    { label: 'Ping', onSelect: () => act(`A webhook.ping is on its way to ${hook.url}.`, () => pingWebhook(hook.id)) },
    {
      label: 'Rotate secret',
      onSelect: () =>
        void action.run(async () => {
          const rotated = await rotateWebhookSecret(hook.id);
          setSecret({ url: rotated.url, secret: rotated.secret });
        }),
    },
    {
      label: hook.active ? 'Disable' : 'Enable',
      onSelect: () =>
        act(hook.active ? 'Webhook disabled.' : 'Webhook enabled; pending deliveries resume.', () =>
          updateWebhook(hook.id, { active: !hook.active }),
        ),
    },
    {
      label: 'Delete',
      danger: true,
      onSelect: () =>
        void confirm({
          title: 'Delete the webhook?',
          body: `Postern stops posting to ${hook.url}, and its delivery log is deleted.`,
          action: 'Delete',
        }).then((yes) => {
          if (yes) act('Webhook deleted.', () => deleteWebhook(hook.id));
        }),
    },
  ];

  return (
    <section>
      <PageHeader
        title="Webhooks"
        actions={
          <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
            New webhook
          </button>
        }
      >
        <p class="lead">
          Postern POSTs each event as JSON to these URLs, signed in the <code>Postern-Signature</code> header
          (HMAC-SHA256 with the webhook's secret), and retries for about 13 hours.
        </p>
      </PageHeader>
      {secret === null ? null : (
        <Notice tone="success" onDismiss={() => setSecret(null)}>
          <p>The signing secret of {secret.url}. Copy it now: it is not shown again.</p>
          <CopyField label="webhook secret" value={secret.secret} />
        </Notice>
      )}
      {message === null ? null : (
        <Notice tone="success" onDismiss={() => setMessage(null)}>
          {message}
        </Notice>
      )}
      {action.error === undefined ? null : <ErrorNotice error={action.error} />}
      {webhooks.error === undefined ? null : <ErrorNotice error={webhooks.error} />}
      {webhooks.data === undefined ? (
        webhooks.error === undefined ? (
          <Loading what="webhooks" />
        ) : null
      ) : webhooks.data.length === 0 ? (
        <p class="empty card">No webhook yet.</p>
      ) : (
        webhooks.data.map((hook) => (
          <section key={hook.id} class="card" aria-label={`Webhook ${hook.url}`}>
            <div class="page-header">
              <div>
                <h2 class="webhook-url">{hook.url}</h2>
                {hook.description === null ? null : <p class="muted">{hook.description}</p>}
                <span class="badges">
                  <Badge badge={hook.active ? { tone: 'ok', text: 'Active' } : { tone: 'warn', text: 'Disabled' }} />
                  {hook.failureCount > 0 ? (
                    <Badge badge={{ tone: 'error', text: `${hook.failureCount} failed attempts` }} />
                  ) : null}
                </span>
              </div>
              <MenuButton label="Actions" items={items(hook)} />
            </div>
            <p>
              Events:{' '}
              {hook.events.map((e) => (
                <code key={e} class="scope">
                  {e}
                </code>
              ))}
              <span class="muted">
                {' '}
                · last success {formatDateTime(hook.lastSuccessAt)} · last failure {formatDateTime(hook.lastFailureAt)}
              </span>
            </p>
            <Deliveries webhookId={hook.id} refreshKey={refresh} />
          </section>
        ))
      )}
      <Dialog title="New webhook" open={creating} onClose={() => setCreating(false)}>
        {creating ? (
          <WebhookForm
            onCancel={() => setCreating(false)}
            onCreated={(created) => {
              setCreating(false);
              setSecret({ url: created.url, secret: created.secret });
              void webhooks.reload();
            }}
          />
        ) : null}
      </Dialog>
      {confirmation}
    </section>
  );
}
