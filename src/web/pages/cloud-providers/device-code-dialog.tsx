/**
 * Device code sign-in: starts the flow, shows the code and the address to enter it at, and waits
 * (polling Postern, which polls Microsoft) until the user has signed in, declined, or the code
 * expired.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { authenticate, deviceFlowStatus } from '../../api/cloud-providers.js';
import type { ApiError } from '../../api/client.js';
import type { DeviceFlow, Grant, Provider } from '../../api/schemas.js';
import { CopyField } from '../../components/copy-field.js';
import { Dialog } from '../../components/dialog.js';
import { ErrorNotice } from '../../components/notice.js';
import { formatDateTime } from '../../lib/format.js';
import { grantIdentity } from '../../lib/provider-status.js';
import { toApiError } from '../../lib/use-resource.js';

const POLL_MS = 2000;

export function DeviceCodeDialog({
  provider,
  open,
  onClose,
  onSignedIn,
}: {
  provider: Provider;
  open: boolean;
  onClose: () => void;
  onSignedIn: (grant: Grant) => void;
}): JSX.Element {
  return (
    <Dialog title={`Sign in with a device code — ${provider.name}`} open={open} onClose={onClose}>
      {open ? <DeviceFlowView provider={provider} onClose={onClose} onSignedIn={onSignedIn} /> : null}
    </Dialog>
  );
}

function DeviceFlowView({
  provider,
  onClose,
  onSignedIn,
}: {
  provider: Provider;
  onClose: () => void;
  onSignedIn: (grant: Grant) => void;
}): JSX.Element {
  const [flow, setFlow] = useState<DeviceFlow | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const poll = async (flowId: string): Promise<void> => {
      try {
        const status = await deviceFlowStatus(provider.id, flowId);
        if (stopped) return;
        setFlow(status);
        if (status.state === 'pending') timer = window.setTimeout(() => void poll(flowId), POLL_MS);
        else if (status.state === 'completed' && status.grant !== undefined) onSignedIn(status.grant);
      } catch (caught) {
        if (!stopped) setError(toApiError(caught));
      }
    };
    authenticate(provider.id).then(
      (reply) => {
        if (stopped) return;
        if (reply.method !== 'device_code') {
          if (reply.method === 'completed') onSignedIn(reply.grant);
          return;
        }
        setFlow(reply.flow);
        timer = window.setTimeout(() => void poll(reply.flow.flowId), POLL_MS);
      },
      (caught: unknown) => {
        if (!stopped) setError(toApiError(caught));
      },
    );
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [provider.id]);

  return (
    <div class="form">
      {error === undefined ? null : <ErrorNotice error={error} />}
      {flow === undefined ? (
        error === undefined ? (
          <p role="status">Asking Microsoft for a code…</p>
        ) : null
      ) : (
        <>
          <p>
            On any device, open{' '}
            <a href={flow.verificationUri} target="_blank" rel="noreferrer">
              {flow.verificationUri}
            </a>{' '}
            and enter this code, then sign in with the mailbox user:
          </p>
          <div class="device-code" aria-label="Device code">
            {flow.userCode}
          </div>
          <CopyField label="device code" value={flow.userCode} />
          <p class="hint">The code expires at {formatDateTime(flow.expiresAt)}.</p>
          <FlowState flow={flow} />
        </>
      )}
      <div class="form-actions">
        <button type="button" class="button" onClick={onClose}>
          {flow?.state === 'completed' ? 'Close' : 'Cancel'}
        </button>
      </div>
    </div>
  );
}

function FlowState({ flow }: { flow: DeviceFlow }): JSX.Element {
  if (flow.state === 'pending') {
    return (
      <p class="waiting" role="status">
        <span class="spinner" aria-hidden="true" /> Waiting for the sign-in…
      </p>
    );
  }
  if (flow.state === 'completed') {
    return (
      <p class="notice notice-success" role="status">
        Signed in{flow.grant === undefined ? '' : ` as ${grantIdentity(flow.grant)}`}.
      </p>
    );
  }
  return (
    <div class="notice notice-error" role="alert">
      <p>{flow.error?.message ?? 'The sign-in did not complete.'}</p>
      {flow.error?.remedy === undefined ? null : (
        <p>
          <strong>What to do:</strong> {flow.error.remedy}
        </p>
      )}
      {flow.error === undefined ? null : (
        <p class="notice-code">
          Error code: <code>{flow.error.code}</code>
        </p>
      )}
    </div>
  );
}
