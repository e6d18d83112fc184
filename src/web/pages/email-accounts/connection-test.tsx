/**
 * Test connection: each step (sign-in, token, IMAP login, folder, SMTP AUTH, Send As) with its
 * outcome in plain words. Send As of a shared mailbox is tested only by its own button, which
 * says that it sends a message.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { testAccount } from '../../api/email-accounts.js';
import type { ConnectionTest } from '../../api/schemas.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

const STEP_NAMES: Record<string, string> = {
  grant: 'Sign-in under the Cloud Provider',
  token: 'Access token for Exchange',
  'graph-token': 'Access token for Microsoft Graph',
  'imap-login': 'IMAP sign-in',
  folder: 'Folder',
  'smtp-auth': 'SMTP AUTH',
  'send-as': 'Send As',
};

export function ConnectionTestPanel({ accountId, onDone }: { accountId: number; onDone: () => void }): JSX.Element {
  const [result, setResult] = useState<ConnectionTest | null>(null);
  const submission = useSubmit();
  const run = (sendTest: boolean): void => {
    setResult(null);
    void submission.run(async () => {
      setResult(await testAccount(accountId, { sendTest }));
      onDone();
    });
  };
  const sendAsUntested = result?.steps.some((step) => step.step === 'send-as' && step.skipped === true) ?? false;
  return (
    <div class="connection-test">
      <button type="button" class="button" onClick={() => run(false)} disabled={submission.busy}>
        {submission.busy ? 'Testing…' : 'Test connection'}
      </button>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      {result === null ? null : (
        <div
          class={result.ok ? 'notice notice-success test-result' : 'notice notice-error test-result'}
          role={result.ok ? 'status' : 'alert'}
        >
          <div class="notice-body">
            <p class="notice-title">{result.ok ? 'The connection works.' : 'The connection failed.'}</p>
            <ol class="test-steps">
              {result.steps.map((step) => (
                <li
                  key={step.step}
                  class={step.skipped === true ? 'step-skipped' : step.ok ? 'step-ok' : 'step-failed'}
                >
                  <span aria-hidden="true">{step.skipped === true ? '–' : step.ok ? '✓' : '✗'}</span>{' '}
                  <strong>{STEP_NAMES[step.step] ?? step.step}</strong>
                  <span class="visually-hidden">
                    {step.skipped === true ? ' not tested' : step.ok ? ' succeeded' : ' failed'}
                  </span>
                  : {step.detail}
                </li>
              ))}
            </ol>
            {result.error?.remedy === null || result.error === null ? null : (
              <p class="notice-remedy">
                <strong>What to do:</strong> {result.error.remedy}
              </p>
            )}
            {result.error === null ? null : (
              <p class="notice-code">
                Error code: <code>{result.error.code}</code>
              </p>
            )}
            {!sendAsUntested ? null : (
              <button type="button" class="button" onClick={() => run(true)} disabled={submission.busy}>
                Send a test message
              </button>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
