/**
 * Canned answers: prepared replies an agent inserts in the composer (Canned answer, or type to
 * filter). Shared answers are for every agent and only administrators create, change or delete
 * them; personal answers are their owner's alone. Placeholders are filled for the conversation;
 * one Postern does not know is named here, since it would go out as typed.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import {
  CANNED_BODY_MAX,
  CANNED_TITLE_MAX,
  PLACEHOLDERS,
  createCannedAnswer,
  deleteCannedAnswer,
  listCannedAnswers,
  updateCannedAnswer,
  type CannedAnswer,
} from '../../api/canned-answers.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { Badge } from '../../components/badge.js';
import { Dialog } from '../../components/dialog.js';
import { CheckboxField, TextArea, TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { useSession } from '../../lib/session.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';

export function CannedAnswersPage(): JSX.Element {
  const { user } = useSession();
  const admin = user.role === 'admin';
  const answers = useResource(listCannedAnswers, 'canned-answers');
  const [editing, setEditing] = useState<CannedAnswer | 'new' | null>(null);
  const [removing, setRemoving] = useState<CannedAnswer | null>(null);
  const [saved, setSaved] = useState<CannedAnswer | null>(null);
  const remove = useSubmit();
  const mayChange = (answer: CannedAnswer): boolean => admin || !answer.shared;

  return (
    <section>
      <PageHeader
        title="Canned answers"
        actions={
          <button type="button" class="button button-primary" onClick={() => setEditing('new')}>
            New canned answer
          </button>
        }
      >
        <p class="lead">
          Prepared replies: in a conversation, use <strong>Canned answer</strong> in the reply and type part of a title.
          Shared answers are for every agent (administrators manage them); personal ones are yours alone.
        </p>
      </PageHeader>
      {saved === null ? null : (
        <Notice tone={saved.unknownPlaceholders.length === 0 ? 'success' : 'warn'} onDismiss={() => setSaved(null)}>
          Canned answer “{saved.title}” saved.
          {saved.unknownPlaceholders.length === 0 ? null : <UnknownPlaceholders names={saved.unknownPlaceholders} />}
        </Notice>
      )}
      {answers.error === undefined ? null : <ErrorNotice error={answers.error} />}
      {editing === null ? null : (
        <AnswerForm
          answer={editing === 'new' ? undefined : editing}
          admin={admin}
          onCancel={() => setEditing(null)}
          onSaved={(answer) => {
            setEditing(null);
            setSaved(answer);
            void answers.reload();
          }}
        />
      )}
      {answers.data === undefined ? (
        answers.error === undefined ? (
          <Loading what="canned answers" />
        ) : null
      ) : answers.data.length === 0 ? (
        <p class="muted">No canned answers yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Canned answers</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">For</th>
                <th scope="col" class="hide-narrow">
                  Text
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {answers.data.map((answer) => (
                <tr key={answer.id}>
                  <th scope="row">
                    {answer.title}
                    {answer.unknownPlaceholders.length === 0 ? null : (
                      <UnknownPlaceholders names={answer.unknownPlaceholders} />
                    )}
                  </th>
                  <td>
                    <Badge
                      badge={answer.shared ? { tone: 'ok', text: 'Shared' } : { tone: 'neutral', text: 'Personal' }}
                    />
                  </td>
                  <td class="hide-narrow muted">{preview(answer.body)}</td>
                  <td class="row-actions">
                    {mayChange(answer) ? (
                      <>
                        <button
                          type="button"
                          class="button button-small"
                          onClick={() => setEditing(answer)}
                          aria-label={`Edit ${answer.title}`}
                        >
                          Edit
                        </button>{' '}
                        <button
                          type="button"
                          class="button button-small button-danger"
                          onClick={() => {
                            remove.clear();
                            setRemoving(answer);
                          }}
                          aria-label={`Delete ${answer.title}`}
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title="Delete the canned answer" open={removing !== null} onClose={() => setRemoving(null)}>
        {removing === null ? null : (
          <>
            <p>
              Delete “{removing.title}”{removing.shared ? ', shared with every agent' : ''}? This cannot be undone.
            </p>
            {remove.error === undefined ? null : <ErrorNotice error={remove.error} />}
            <div class="form-actions">
              <button
                type="button"
                class="button button-danger"
                disabled={remove.busy}
                onClick={() =>
                  void remove
                    .run(() => deleteCannedAnswer(removing.id))
                    .then((ok) => {
                      if (!ok) return;
                      setRemoving(null);
                      void answers.reload();
                    })
                }
              >
                Delete
              </button>
              <button type="button" class="button" onClick={() => setRemoving(null)}>
                Cancel
              </button>
            </div>
          </>
        )}
      </Dialog>
    </section>
  );
}

function AnswerForm({
  answer,
  admin,
  onCancel,
  onSaved,
}: {
  answer: CannedAnswer | undefined;
  admin: boolean;
  onCancel: () => void;
  onSaved: (answer: CannedAnswer) => void;
}): JSX.Element {
  const [title, setTitle] = useState(answer?.title ?? '');
  const [body, setBody] = useState(answer?.body ?? '');
  const [shared, setShared] = useState(answer?.shared ?? false);
  const submit = useSubmit();
  const problems = problemsByField(submit.error?.fields ?? []);

  const onSubmit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const fields = { title, body, shared };
    void submit.run(async () => {
      onSaved(answer === undefined ? await createCannedAnswer(fields) : await updateCannedAnswer(answer.id, fields));
    });
  };

  return (
    <form class="card form" onSubmit={onSubmit} aria-labelledby="canned-form-title">
      <h2 id="canned-form-title">{answer === undefined ? 'New canned answer' : `Edit “${answer.title}”`}</h2>
      {submit.error === undefined ? null : <ErrorNotice error={submit.error} />}
      {answer === undefined || answer.unknownPlaceholders.length === 0 ? null : (
        <Notice tone="warn">
          <UnknownPlaceholders names={answer.unknownPlaceholders} />
        </Notice>
      )}
      <TextField
        label="Title"
        value={title}
        onValue={setTitle}
        required
        help={`What agents type to find it; at most ${CANNED_TITLE_MAX} characters.`}
        problem={problems.title}
      />
      <TextArea
        label="Text"
        value={body}
        onValue={setBody}
        rows={8}
        required
        help={`At most ${CANNED_BODY_MAX.toLocaleString()} characters. Placeholders: ${PLACEHOLDERS.map(([name, what]) => `${name} (${what})`).join(', ')}.`}
        problem={problems.body}
      />
      {admin ? (
        <CheckboxField
          label="Shared with all agents"
          checked={shared}
          onChecked={setShared}
          help="Unticked: the answer is yours alone."
        />
      ) : null}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submit.busy}>
          Save
        </button>
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function UnknownPlaceholders({ names }: { names: readonly string[] }): JSX.Element {
  return (
    <p class="field-problem">
      Unknown placeholder{names.length === 1 ? '' : 's'} {names.map((name) => `{{${name}}}`).join(', ')}: inserted as
      typed. Known ones: {PLACEHOLDERS.map(([name]) => name).join(', ')}.
    </p>
  );
}

function preview(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
