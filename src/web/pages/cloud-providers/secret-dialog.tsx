/** Update Client Secret: a write-only value and its expiry date, as the guide's 3-dots menu does. */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { updateClientSecret } from '../../api/cloud-providers.js';
import type { Provider } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';
import { HELP } from './azure-help.js';
import { secretIdWarning } from '../../lib/secret-shape.js';
import { FIELD_LIMITS } from '../../lib/field-limits.js';

export function SecretDialog({
  provider,
  open,
  onClose,
  onSaved,
}: {
  provider: Provider;
  open: boolean;
  onClose: () => void;
  onSaved: () => void;
}): JSX.Element {
  return (
    <Dialog title="Update Client Secret" open={open} onClose={onClose}>
      {open ? <SecretForm provider={provider} onClose={onClose} onSaved={onSaved} /> : null}
    </Dialog>
  );
}

function SecretForm({
  provider,
  onClose,
  onSaved,
}: {
  provider: Provider;
  onClose: () => void;
  onSaved: () => void;
}): JSX.Element {
  const [secret, setSecret] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);
  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      await updateClientSecret(provider.id, { clientSecret: secret, expiresAt });
      onSaved();
    });
  };
  return (
    <form class="form" onSubmit={save}>
      <p>
        Generate a new client secret in the Azure portal (Certificates &amp; secrets → New client secret) and enter its
        value here. The current secret
        {provider.clientSecret === null ? ' is not set' : ` ends with ${provider.clientSecret.hint}`}.
      </p>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <TextField
        label="New Client Secret"
        type="password"
        autocomplete="off"
        value={secret}
        onValue={setSecret}
        required
        maxLength={FIELD_LIMITS.clientSecret}
        help={HELP.clientSecret}
        warning={secretIdWarning(secret)}
        problem={problems.clientSecret}
      />
      <TextField
        label="Expires on"
        type="date"
        value={expiresAt}
        onValue={setExpiresAt}
        help={HELP.secretExpiry}
        problem={problems.expiresAt}
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy || secret === ''}>
          Save
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
