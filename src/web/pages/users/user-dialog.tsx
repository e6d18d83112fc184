/** Create a user, or change one: name, role, disabled, and a password reset. */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { createUser, updateUser, type UserChange } from '../../api/users.js';
import type { User } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { CheckboxField, SelectField, TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice } from '../../components/notice.js';
import { useSubmit } from '../../lib/use-submit.js';

const ROLES = [
  { value: 'agent', label: 'Agent' },
  { value: 'admin', label: 'Administrator' },
];

export interface UserDialogProps {
  user: User | 'new' | null;
  isSelf: boolean;
  onClose: () => void;
  onSaved: (user: User, created: boolean) => void;
}

export function UserDialog({ user, isSelf, onClose, onSaved }: UserDialogProps): JSX.Element {
  const title = user === 'new' ? 'New user' : user === null ? 'User' : `Edit ${user.username}`;
  return (
    <Dialog title={title} open={user !== null} onClose={onClose}>
      {user === null ? null : (
        <UserForm
          key={user === 'new' ? 'new' : user.id}
          user={user}
          isSelf={isSelf}
          onClose={onClose}
          onSaved={onSaved}
        />
      )}
    </Dialog>
  );
}

function UserForm({
  user,
  isSelf,
  onClose,
  onSaved,
}: {
  user: User | 'new';
  isSelf: boolean;
  onClose: () => void;
  onSaved: (user: User, created: boolean) => void;
}): JSX.Element {
  const creating = user === 'new';
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState(creating ? '' : user.displayName);
  const [role, setRole] = useState<User['role']>(creating ? 'agent' : user.role);
  const [disabled, setDisabled] = useState(creating ? false : user.disabled);
  const [password, setPassword] = useState('');
  const submission = useSubmit();
  const problems = problemsByField(submission.error?.fields ?? []);

  const save = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void submission.run(async () => {
      if (creating) {
        const created = await createUser({
          username: username.trim(),
          role,
          password,
          ...(displayName.trim() === '' ? {} : { displayName: displayName.trim() }),
        });
        onSaved(created, true);
        return;
      }
      const change: UserChange = {};
      if (displayName.trim() !== user.displayName && displayName.trim() !== '') change.displayName = displayName.trim();
      if (role !== user.role) change.role = role;
      if (disabled !== user.disabled) change.disabled = disabled;
      if (password !== '') change.password = password;
      if (Object.keys(change).length === 0) {
        onClose();
        return;
      }
      onSaved(await updateUser(user.id, change), false);
    });
  };

  return (
    <form class="form" onSubmit={save}>
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      {creating ? (
        <TextField
          label="Username"
          value={username}
          onValue={setUsername}
          required
          autocomplete="off"
          problem={problems.username}
        />
      ) : null}
      <TextField
        label="Display name"
        value={displayName}
        onValue={setDisplayName}
        autocomplete="off"
        problem={problems.displayName}
      />
      <SelectField
        label="Role"
        value={role}
        onValue={(v) => setRole(v === 'admin' ? 'admin' : 'agent')}
        options={ROLES}
        problem={problems.role}
      />
      {creating ? null : (
        <CheckboxField
          label="Disabled (cannot sign in)"
          checked={disabled}
          onChecked={setDisabled}
          {...(isSelf ? { help: 'This is you: disabling it signs you out for good.' } : {})}
        />
      )}
      <TextField
        label={creating ? 'Password' : 'New password (leave empty to keep)'}
        type="password"
        value={password}
        onValue={setPassword}
        required={creating}
        autocomplete="new-password"
        help="At least 10 characters. Give it to the person, who can change it under their account."
        problem={problems.password}
      />
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          {creating ? 'Create user' : 'Save'}
        </button>
        <button type="button" class="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
