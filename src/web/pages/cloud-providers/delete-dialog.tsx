/** Delete a provider; the API refuses while email accounts use it and names them. */
import type { JSX } from 'preact';
import { deleteProvider } from '../../api/cloud-providers.js';
import type { Provider } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

export function DeleteDialog({
  provider,
  open,
  onClose,
  onDeleted,
}: {
  provider: Provider;
  open: boolean;
  onClose: () => void;
  onDeleted: () => void;
}): JSX.Element {
  const submission = useSubmit();
  const close = (): void => {
    submission.clear();
    onClose();
  };
  const confirm = (): void => {
    void submission.run(async () => {
      await deleteProvider(provider.id);
      onDeleted();
    });
  };
  return (
    <Dialog title={`Delete ${provider.name}?`} open={open} onClose={close}>
      <div class="form">
        <p>
          The provider, its client secret and the tokens of{' '}
          {provider.grants.length === 1
            ? 'its signed-in identity'
            : `its ${provider.grants.length} signed-in identities`}{' '}
          are deleted. The app registration in Azure is not changed.
        </p>
        {submission.error === undefined ? null : (
          <ErrorNotice error={submission.error} title="The provider was not deleted" />
        )}
        <div class="form-actions">
          <button type="button" class="button button-danger" disabled={submission.busy} onClick={confirm}>
            Delete
          </button>
          <button type="button" class="button" onClick={close}>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  );
}
