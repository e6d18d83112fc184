/** The doctor's findings: each check with its result, what it saw, and what to do. */
import type { JSX } from 'preact';
import type { Diagnosis } from '../api/schemas.js';
import { formatDateTime, formatTimestampsIn } from '../lib/format.js';

const RESULTS: Record<Diagnosis['sections'][number]['checks'][number]['result'], { icon: string; label: string }> = {
  ok: { icon: '✓', label: 'passed' },
  warning: { icon: '!', label: 'warning' },
  failed: { icon: '✗', label: 'failed' },
  skipped: { icon: '–', label: 'skipped' },
};

/**
 * The report. When a shared mailbox's Send As was not tested (the doctor sends nothing unless
 * asked), `onSendTest` offers the button that submits the test message.
 */
export function DiagnosisReport({
  diagnosis,
  onSendTest,
  sending = false,
}: {
  diagnosis: Diagnosis;
  onSendTest?: () => void;
  sending?: boolean;
}): JSX.Element {
  const untested = diagnosis.sections.some((s) =>
    s.checks.some((c) => c.id === 'account.send-as' && c.result === 'skipped'),
  );
  const warnings = diagnosis.sections.flatMap((s) => s.checks).filter((c) => c.result === 'warning').length;
  const summary = !diagnosis.ok
    ? 'Some checks failed.'
    : warnings > 0
      ? `Everything works; ${warnings === 1 ? '1 warning needs' : `${warnings} warnings need`} attention.`
      : 'Every check passed.';
  const tone = !diagnosis.ok ? 'error' : warnings > 0 ? 'warn' : 'success';
  return (
    <div class="diagnosis">
      <p class={`notice notice-${tone}`} role={diagnosis.ok ? 'status' : 'alert'}>
        {summary} <span class="muted">Checked {formatDateTime(diagnosis.at)}.</span>
      </p>
      {!untested || onSendTest === undefined ? null : (
        <div class="send-test">
          <p class="hint">
            Exchange checks that a delegate may send as a shared mailbox only when a message is submitted. The test
            sends one message from each shared mailbox to its delegate.
          </p>
          <button type="button" class="button" onClick={onSendTest} disabled={sending}>
            {sending ? 'Sending…' : 'Send a test message'}
          </button>
        </div>
      )}
      {diagnosis.sections.map((section) => (
        <section key={section.subject} class="diagnosis-section" aria-label={section.subject}>
          <h3>{section.subject}</h3>
          <ul class="checks-list">
            {section.checks.map((check) => (
              <li key={check.id} class={`check check-${check.result}`}>
                <span class="check-icon" aria-hidden="true">
                  {RESULTS[check.result].icon}
                </span>
                <div>
                  <p class="check-title">
                    {check.title} <span class="visually-hidden">({RESULTS[check.result].label})</span>
                  </p>
                  <p class="check-evidence">{formatTimestampsIn(check.evidence)}</p>
                  {check.remedy === undefined ? null : (
                    <p class="check-remedy">
                      <strong>What to do:</strong> {check.remedy}
                    </p>
                  )}
                  {check.code === undefined ? null : (
                    <p class="notice-code">
                      Error code: <code>{check.code}</code>
                    </p>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
