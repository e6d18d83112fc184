/** "Diagnose": runs the doctor for one provider or account and shows the findings in a dialog. */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { runDiagnostics } from '../api/diagnostics.js';
import type { Diagnosis } from '../api/schemas.js';
import { useSubmit } from '../lib/use-submit.js';
import { Dialog } from './dialog.js';
import { DiagnosisReport } from './diagnosis-report.js';
import { ErrorNotice } from './notice.js';

export function DiagnoseButton({
  target,
  label,
}: {
  target: { account: number } | { provider: number };
  label: string;
}): JSX.Element {
  const [open, setOpen] = useState(false);
  const [result, setResult] = useState<Diagnosis | null>(null);
  const submission = useSubmit();
  const run = (sendTest: boolean): void => {
    setOpen(true);
    setResult(null);
    void submission.run(async () => setResult(await runDiagnostics(target, { sendTest })));
  };
  return (
    <>
      <button type="button" class="button" onClick={() => run(false)}>
        Diagnose
      </button>
      <Dialog title={`Diagnosis — ${label}`} open={open} onClose={() => setOpen(false)} wide>
        {submission.busy ? <p role="status">Running the checks…</p> : null}
        {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
        {result === null ? null : (
          <DiagnosisReport diagnosis={result} onSendTest={() => run(true)} sending={submission.busy} />
        )}
      </Dialog>
    </>
  );
}
