/**
 * A question before an action that cannot be undone, in the console's own dialog (never the
 * browser's `confirm()`, which looks like another site's and cannot say more than a line).
 *
 *     const [confirm, confirmation] = useConfirm();
 *     if (!(await confirm({ title: 'Delete the list "VIP"?', action: 'Delete' }))) return;
 *     …
 *     return <>{…}{confirmation}</>;
 */
import type { ComponentChildren, JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { Dialog } from './dialog.js';

export interface Question {
  /** The question, as the dialog's title: "Delete the contact "Ada"?" */
  readonly title: string;
  /** What follows from it, when the title does not say it all. */
  readonly body?: ComponentChildren;
  /** The button that goes ahead: "Delete", "Revoke", "Forget". */
  readonly action: string;
}

/** `confirm(question)` resolves true when the person goes ahead, false when they cancel or close. */
export function useConfirm(): [confirm: (question: Question) => Promise<boolean>, dialog: JSX.Element] {
  const [question, setQuestion] = useState<Question | null>(null);
  const answer = useRef<((yes: boolean) => void) | null>(null);
  const settle = (yes: boolean): void => {
    answer.current?.(yes);
    answer.current = null;
    setQuestion(null);
  };
  const confirm = (asked: Question): Promise<boolean> => {
    answer.current?.(false);
    setQuestion(asked);
    return new Promise((resolve) => {
      answer.current = resolve;
    });
  };
  const dialog = (
    <Dialog title={question?.title ?? ''} open={question !== null} onClose={() => settle(false)}>
      <div class="form">
        {question?.body === undefined ? null : <p>{question.body}</p>}
        <div class="form-actions">
          <button type="button" class="button button-danger" onClick={() => settle(true)}>
            {question?.action}
          </button>
          <button type="button" class="button" onClick={() => settle(false)}>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  );
  return [confirm, dialog];
}
