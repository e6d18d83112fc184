/** Register a webhook: the URL that receives signed POSTs, and the events it wants. */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createWebhook } from '../../api/webhooks.js';
import type { Webhook } from '../../api/schemas.js';
import { TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

export function WebhookForm({
  onCreated,
  onCancel,
}: {
  onCreated: (created: Webhook & { secret: string }) => void;
  onCancel: () => void;
}): JSX.Element {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState('message.received');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);
  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () =>
      onCreated(
        await createWebhook({
          url: url.trim(),
          description: description.trim() === '' ? null : description.trim(),
          events: events
            .split(/[\s,]+/)
            .map((e) => e.trim())
            .filter((e) => e !== ''),
        }),
      ),
    );
  };
  return (
    <form class="form" onSubmit={submit}>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <TextField
        label="URL"
        type="url"
        value={url}
        onValue={setUrl}
        required
        placeholder="https://crm.example.com/postern"
        help="Postern POSTs each event here as JSON, signed in the Postern-Signature header."
        problem={problems.url}
      />
      <TextField label="Description" value={description} onValue={setDescription} problem={problems.description} />
      <TextField
        label="Events"
        value={events}
        onValue={setEvents}
        required
        help="Event types separated by commas: message.received, message.sent, message.failed, a family such as account.*, or * for everything."
        problem={problems.events}
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          Create webhook
        </button>
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
