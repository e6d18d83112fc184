/**
 * Certificate: replace the provider's credential by a certificate — one Postern generates (the
 * private key never leaves the server; the certificate downloads for Azure) or an uploaded PEM key
 * and certificate. The client secret is removed.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { updateClientCertificate } from '../../api/cloud-providers.js';
import type { Provider } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { SelectField, TextArea, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

export function CertificateDialog({
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
    <Dialog title="Certificate" open={open} onClose={onClose}>
      {open ? <CertificateForm provider={provider} onClose={onClose} onSaved={onSaved} /> : null}
    </Dialog>
  );
}

function CertificateForm({
  provider,
  onClose,
  onSaved,
}: {
  provider: Provider;
  onClose: () => void;
  onSaved: () => void;
}): JSX.Element {
  const [mode, setMode] = useState<'generate' | 'upload'>('generate');
  const [privateKey, setPrivateKey] = useState('');
  const [certificate, setCertificate] = useState('');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);
  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      await updateClientCertificate(
        provider.id,
        mode === 'generate' ? { generate: true } : { privateKey, certificate },
      );
      onSaved();
    });
  };
  return (
    <form class="form" onSubmit={save}>
      <p>
        The provider will sign in with a certificate instead of
        {provider.clientSecret === null
          ? ' its current credential'
          : ` the client secret ${provider.clientSecret.hint}`}
        . Upload the certificate to the app registration in the Azure portal (Certificates &amp; secrets → Certificates)
        before the next sign-in.
      </p>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <SelectField
        label="Certificate"
        value={mode}
        onValue={(value) => setMode(value === 'upload' ? 'upload' : 'generate')}
        options={[
          { value: 'generate', label: 'Generate a new key pair (RSA 2048, valid one year)' },
          { value: 'upload', label: 'Upload a PEM private key and certificate' },
        ]}
      />
      {mode === 'upload' ? (
        <>
          <TextArea
            label="Private key (PEM, unencrypted)"
            rows={6}
            value={privateKey}
            onValue={setPrivateKey}
            required
            placeholder="-----BEGIN PRIVATE KEY-----"
            problem={problems.privateKey}
          />
          <TextArea
            label="Certificate (PEM)"
            rows={6}
            value={certificate}
            onValue={setCertificate}
            required
            placeholder="-----BEGIN CERTIFICATE-----"
            problem={problems.certificate}
          />
        </>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          {mode === 'generate' ? 'Generate' : 'Save'}
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
