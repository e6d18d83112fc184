/** The signed-in user's own signature, inserted in their replies above the account's. */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getOwnSignature, setOwnSignature, SIGNATURE_MAX } from '../../api/canned-answers.js';
import { TextArea, problemsByField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';

export function OwnSignature(): JSX.Element {
  const stored = useResource(getOwnSignature, 'own-signature');
  const [text, setText] = useState('');
  const [done, setDone] = useState(false);
  const submit = useSubmit();
  const problems = problemsByField(submit.error?.fields ?? []);

  useEffect(() => {
    if (stored.data !== undefined) setText(stored.data ?? '');
  }, [stored.data]);

  const onSubmit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setDone(false);
    void submit
      .run(async () => {
        setText((await setOwnSignature(text.trim() === '' ? null : text)) ?? '');
      })
      .then((ok) => setDone(ok));
  };

  return (
    <form class="card form" onSubmit={onSubmit} aria-labelledby="signature-title">
      <h2 id="signature-title">Your signature</h2>
      <p class="field-help">
        Put under your replies when the composer opens, above the email account's signature, after a line "-- ". Plain
        text; {'{{agent.name}}'} and the other placeholders of canned answers are filled in.
      </p>
      {stored.error === undefined ? null : <ErrorNotice error={stored.error} />}
      {done ? <Notice tone="success">Your signature has been saved.</Notice> : null}
      {submit.error === undefined ? null : <ErrorNotice error={submit.error} />}
      <TextArea
        label="Signature"
        value={text}
        onValue={(value) => {
          setDone(false);
          setText(value);
        }}
        rows={4}
        // Typing before the stored signature arrives would be overwritten by it.
        readOnly={stored.data === undefined}
        help={`At most ${SIGNATURE_MAX.toLocaleString()} characters; empty: no signature of your own.`}
        problem={problems.signature}
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submit.busy || stored.data === undefined}>
          Save signature
        </button>
      </div>
    </form>
  );
}
