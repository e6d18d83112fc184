/**
 * Admin consent: a one-time link (24 hours) for a tenant administrator, who grants the app's
 * application permissions for the whole tenant; Microsoft returns to the provider's redirect URI.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { adminConsentLink } from '../../api/cloud-providers.js';
import type { Provider } from '../../api/schemas.js';
import { CopyField } from '../../components/copy-field.js';
import { Dialog } from '../../components/dialog.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatDate } from '../../lib/format.js';
import { useSubmit } from '../../lib/use-submit.js';

export function AdminConsentDialog({
  provider,
  open,
  onClose,
}: {
  provider: Provider;
  open: boolean;
  onClose: () => void;
}): JSX.Element {
  return (
    <Dialog title="Admin consent" open={open} onClose={onClose}>
      {open ? <AdminConsentLink provider={provider} onClose={onClose} /> : null}
    </Dialog>
  );
}

function AdminConsentLink({ provider, onClose }: { provider: Provider; onClose: () => void }): JSX.Element {
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const submission = useSubmit();
  useEffect(() => {
    void submission.run(async () => setLink(await adminConsentLink(provider.id)));
    // One link per opening of the dialog.
  }, [provider.id]);
  return (
    <div class="form">
      <p>
        A Global, Application or Cloud Application Administrator of the tenant opens this link, signs in and accepts:
        the app's application permissions (for app-only access) then apply to every mailbox of the tenant.
      </p>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      {link === null ? null : (
        <>
          <CopyField label="admin consent link" value={link.url} />
          <p class="hint">Valid until {formatDate(link.expiresAt)}, once.</p>
        </>
      )}
      <div class="form-actions">
        {link === null ? null : (
          <a class="button button-primary" href={link.url}>
            Open the admin consent page
          </a>
        )}
        <button type="button" class="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
