/** The doctor for everything: the reference guide's troubleshooting list as automatic checks. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { runDiagnostics } from '../../api/diagnostics.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { DiagnosisReport } from '../../components/diagnosis-report.js';
import { ErrorNotice } from '../../components/notice.js';
import { useResource } from '../../lib/use-resource.js';

export function DiagnosticsPage(): JSX.Element {
  // Opening the page (and "Check again") only looks; the Send As test message waits for its button.
  const [sendTest, setSendTest] = useState(0);
  const result = useResource(() => runDiagnostics({}, { sendTest: sendTest > 0 }), `diagnostics-${sendTest}`);
  return (
    <section>
      <PageHeader
        title="Doctor"
        actions={
          <button
            type="button"
            class="button"
            onClick={() => (sendTest > 0 ? setSendTest(0) : void result.reload())}
            disabled={result.loading}
          >
            {result.loading ? 'Checking…' : 'Check again'}
          </button>
        }
      >
        <p class="lead">
          Client secrets and their expiry, sign-ins and their age, the scopes tokens really carry, IMAP sign-in, SMTP
          AUTH and shared-mailbox access — each with what to do.
        </p>
      </PageHeader>
      {result.error === undefined ? null : <ErrorNotice error={result.error} />}
      {result.data === undefined ? (
        result.error === undefined ? (
          <Loading what="the diagnosis" />
        ) : null
      ) : (
        <DiagnosisReport
          diagnosis={result.data}
          onSendTest={() => setSendTest((n) => n + 1)}
          sending={result.loading && sendTest > 0}
        />
      )}
    </section>
  );
}
