/**
 * The Email Account form with the guide's fields (Name, Key, Email Address, List, Service, Modern
 * Authentication, Username, Cloud Provider, Modern Authentication Email for shared mailboxes,
 * Description), the agents who work it, and Postern's inbound and outbound settings folded away.
 */
import type { JSX, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountFields } from '../../api/email-accounts.js';
import type { ContactList, EmailAccount, Provider, User } from '../../api/schemas.js';
import { CheckboxField, SelectField, TextArea, TextField, problemsByField } from '../../components/fields.js';
import { ErrorNotice, Notice } from '../../components/notice.js';
import { grantIdentity, providerStateWords } from '../../lib/provider-status.js';
import type { Submission } from '../../lib/use-submit.js';

interface Values {
  name: string;
  key: string;
  emailAddress: string;
  defaultListId: string;
  service: 'outlook365' | 'imap';
  modernAuth: boolean;
  username: string;
  password: string;
  providerId: string;
  shared: boolean;
  modernAuthEmail: string;
  description: string;
  signature: string;
  transport: AccountFields['transport'];
  imapHost: string;
  imapPort: string;
  smtpHost: string;
  smtpPort: string;
  folder: string;
  scanJunk: boolean;
  afterFetchAction: AccountFields['afterFetchAction'];
  afterFetchFolder: string;
  useIdle: boolean;
  pollIntervalSeconds: string;
  firstSync: 'new' | 'all' | 'days';
  firstSyncDays: string;
  sendPerMinute: string;
  recipientsPerDay: string;
  rawRetentionDays: string;
  agentIds: number[];
}

/** The transports an account of Microsoft 365 may use, each with its one line. */
const TRANSPORTS: Array<{ value: AccountFields['transport']; label: string; help: string }> = [
  {
    value: 'auto',
    label: 'Auto',
    help: 'IMAP and SMTP first; reading or sending switches to Microsoft Graph by itself when Exchange has IMAP or SMTP AUTH disabled for the mailbox.',
  },
  {
    value: 'imap_smtp',
    label: 'IMAP and SMTP',
    help: 'Always IMAP and SMTP AUTH with OAuth; fails with a remedy when Exchange has either disabled.',
  },
  {
    value: 'graph',
    label: 'Microsoft Graph',
    help: 'Always Microsoft Graph: needs Mail.ReadWrite and Mail.Send (the .Shared forms for a shared mailbox).',
  },
];

const AFTER_FETCH: Array<{ value: AccountFields['afterFetchAction']; label: string }> = [
  { value: 'mark_seen', label: 'Mark as read' },
  { value: 'move', label: 'Move to a folder' },
  { value: 'delete', label: 'Delete' },
  { value: 'none', label: 'Leave as it is' },
];

function initial(account: EmailAccount | undefined, providers: Provider[]): Values {
  const afterFetch = AFTER_FETCH.find((a) => a.value === account?.afterFetchAction)?.value ?? 'mark_seen';
  return {
    name: account?.name ?? '',
    key: account?.key ?? '',
    emailAddress: account?.emailAddress ?? '',
    defaultListId: account?.defaultListId === null || account === undefined ? '' : String(account.defaultListId),
    service: account?.service === 'imap' ? 'imap' : 'outlook365',
    modernAuth: account?.modernAuth ?? true,
    username: account?.username ?? '',
    password: '',
    providerId:
      account?.providerId != null
        ? String(account.providerId)
        : providers.length === 1 && providers[0] !== undefined
          ? String(providers[0].id)
          : '',
    shared: account !== undefined && account.modernAuthEmail !== null && account.modernAuthEmail !== account.username,
    modernAuthEmail: account?.modernAuthEmail ?? '',
    description: account?.description ?? '',
    signature: account?.signature ?? '',
    transport:
      TRANSPORTS.find((t) => t.value === account?.transport)?.value ?? (account === undefined ? 'auto' : 'imap_smtp'),
    imapHost: account?.imapHost ?? '',
    imapPort: account?.imapPort == null ? '' : String(account.imapPort),
    smtpHost: account?.smtpHost ?? '',
    smtpPort: account?.smtpPort == null ? '' : String(account.smtpPort),
    folder: account?.folder ?? 'INBOX',
    scanJunk: account?.scanJunk ?? false,
    afterFetchAction: afterFetch,
    afterFetchFolder: account?.afterFetchFolder ?? '',
    useIdle: account?.useIdle ?? true,
    pollIntervalSeconds: String(account?.pollIntervalSeconds ?? 60),
    firstSync: account?.firstSync.kind ?? 'days',
    firstSyncDays: String(account?.firstSync.kind === 'days' ? account.firstSync.days : 7),
    sendPerMinute: String(account?.sendPerMinute ?? 30),
    recipientsPerDay: String(account?.recipientsPerDay ?? 10000),
    rawRetentionDays: account?.rawRetentionDays == null ? '' : String(account.rawRetentionDays),
    agentIds: account?.agentIds ?? [],
  };
}

const numberOrNull = (text: string): number | null => (text.trim() === '' ? null : Number(text));
const textOrNull = (text: string): string | null => (text.trim() === '' ? null : text.trim());
/** Empty: for ever (null). Text that is no number goes as it is, for the API to refuse (never as null). */
const daysOrNull = (text: string): number | string | null => {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const days = Number(trimmed);
  return Number.isFinite(days) ? days : trimmed;
};

function fieldsOf(values: Values): AccountFields {
  const modernAuth = values.service === 'outlook365' ? true : values.modernAuth;
  const username = values.username.trim() === '' ? values.emailAddress.trim() : values.username.trim();
  return {
    name: values.name.trim(),
    key: values.key.trim(),
    emailAddress: values.emailAddress.trim(),
    defaultListId: numberOrNull(values.defaultListId),
    service: values.service,
    modernAuth,
    username,
    ...(values.password === '' ? {} : { password: values.password }),
    providerId: modernAuth ? numberOrNull(values.providerId) : null,
    modernAuthEmail: modernAuth && values.shared ? textOrNull(values.modernAuthEmail) : null,
    description: textOrNull(values.description),
    signature: textOrNull(values.signature),
    transport: modernAuth ? values.transport : 'imap_smtp',
    imapHost: textOrNull(values.imapHost),
    imapPort: numberOrNull(values.imapPort),
    smtpHost: textOrNull(values.smtpHost),
    smtpPort: numberOrNull(values.smtpPort),
    folder: values.folder.trim() === '' ? 'INBOX' : values.folder.trim(),
    scanJunk: values.scanJunk,
    afterFetchAction: values.afterFetchAction,
    afterFetchFolder: values.afterFetchAction === 'move' ? textOrNull(values.afterFetchFolder) : null,
    useIdle: values.useIdle,
    pollIntervalSeconds: Number(values.pollIntervalSeconds),
    firstSync:
      values.firstSync === 'days' ? { kind: 'days', days: Number(values.firstSyncDays) } : { kind: values.firstSync },
    sendPerMinute: Number(values.sendPerMinute),
    recipientsPerDay: Number(values.recipientsPerDay),
    rawRetentionDays: daysOrNull(values.rawRetentionDays),
    agentIds: values.agentIds,
  };
}

export interface AccountFormProps {
  account?: EmailAccount;
  providers: Provider[];
  lists: ContactList[];
  agents: User[];
  submission: Submission;
  submitLabel: string;
  onSubmit: (fields: AccountFields) => void;
  onCancel: () => void;
}

export function AccountForm({
  account,
  providers,
  lists,
  agents,
  submission,
  submitLabel,
  onSubmit,
  onCancel,
}: AccountFormProps): JSX.Element {
  const [values, setValues] = useState<Values>(() => initial(account, providers));
  const set =
    <K extends keyof Values>(key: K) =>
    (value: Values[K]): void =>
      setValues((old) => ({ ...old, [key]: value }));
  const problems = problemsByField(submission.error?.fields ?? []);
  const modernAuth = values.service === 'outlook365' || values.modernAuth;
  const provider = providers.find((p) => String(p.id) === values.providerId);
  const signedIn = provider?.grants.filter((g) => g.state !== 'revoked').map(grantIdentity) ?? [];
  // The users who signed in under a delegated provider: the delegate of a shared mailbox is one of them.
  const delegates =
    provider === undefined || provider.grantType === 'client_credentials'
      ? []
      : provider.grants.flatMap((g) => (g.state !== 'revoked' && g.upn !== null ? [g.upn] : []));
  const identity = (values.shared ? values.modernAuthEmail : values.username || values.emailAddress)
    .trim()
    .toLowerCase();
  const missingSignIn =
    provider !== undefined &&
    identity !== '' &&
    provider.grantType !== 'client_credentials' &&
    !signedIn.some((who) => who.toLowerCase() === identity);

  const submit = (event: TargetedSubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    onSubmit(fieldsOf(values));
  };

  return (
    <form
      class="card form"
      onSubmit={submit}
      aria-label={account === undefined ? 'New Email Account' : `Edit ${account.name}`}
    >
      {submission.error === undefined ? null : <ErrorNotice error={submission.error} />}
      <div class="field-row">
        <TextField
          label="Name"
          value={values.name}
          onValue={set('name')}
          required
          help="Email Account name."
          problem={problems.name}
        />
        <TextField
          label="Key"
          value={values.key}
          onValue={set('key')}
          required
          help="Up to 5 characters, shown on the agents' tabs."
          problem={problems.key}
        />
      </div>
      <TextField
        label="Email Address"
        type="email"
        value={values.emailAddress}
        onValue={set('emailAddress')}
        required
        help="The sender's address, shown in the From field. For a shared mailbox, the shared mailbox's address (developers@contoso.com)."
        problem={problems.emailAddress}
      />
      <SelectField
        label="List"
        value={values.defaultListId}
        onValue={set('defaultListId')}
        options={[
          { value: '', label: 'Contacts (created if missing)' },
          ...lists.map((l) => ({ value: String(l.id), label: l.name })),
        ]}
        help="The default contact list where new senders are saved."
        problem={problems.defaultListId}
      />
      <SelectField
        label="Service"
        value={values.service}
        onValue={(v) => set('service')(v === 'imap' ? 'imap' : 'outlook365')}
        options={[
          { value: 'outlook365', label: 'Outlook365' },
          { value: 'imap', label: 'IMAP (another mail server)' },
        ]}
        problem={problems.service}
      />
      {values.service === 'imap' ? (
        <CheckboxField
          label="Modern Authentication"
          checked={values.modernAuth}
          onChecked={set('modernAuth')}
          help="Off: sign in to the IMAP server with a username and password."
        />
      ) : (
        <p class="hint">
          Outlook365 always uses Modern Authentication: Microsoft turned off passwords for IMAP and SMTP in Exchange
          Online.
        </p>
      )}
      <TextField
        label="Username"
        type="email"
        value={values.username}
        onValue={set('username')}
        placeholder={values.emailAddress}
        help="The mailbox to sign in to: the same as the email address. For a shared mailbox, the shared mailbox's address."
        problem={problems.username}
      />
      {modernAuth ? (
        <>
          <SelectField
            label="Cloud Provider"
            value={values.providerId}
            onValue={set('providerId')}
            required
            options={[
              { value: '', label: 'Choose a Cloud Provider' },
              ...providers.map((p) => ({ value: String(p.id), label: `${p.name} (${providerStateWords(p)})` })),
            ]}
            help={
              provider === undefined
                ? 'The provider you created and authenticated.'
                : signedIn.length === 0
                  ? 'Nobody is signed in under this provider yet: authenticate it first.'
                  : `Signed in under this provider: ${signedIn.join(', ')}.`
            }
            problem={problems.providerId}
          />
          <CheckboxField
            label="This is a shared mailbox"
            checked={values.shared}
            onChecked={set('shared')}
            help="Postern then signs in as a user linked to the shared mailbox (the delegate) and opens the shared mailbox."
          />
          {values.shared ? (
            <DelegateField
              delegates={delegates}
              value={values.modernAuthEmail}
              onValue={set('modernAuthEmail')}
              problem={problems.modernAuthEmail}
            />
          ) : null}
          <TransportChoice
            value={values.transport}
            onValue={set('transport')}
            {...(problems.transport === undefined ? {} : { problem: problems.transport })}
          />
          {missingSignIn ? (
            <Notice tone="warn">
              The provider has no sign-in for {identity}: authenticate the provider as {identity} first, or pick the
              user who signed in.
            </Notice>
          ) : null}
        </>
      ) : (
        <>
          <TextField
            label="Password"
            type="password"
            value={values.password}
            onValue={set('password')}
            autocomplete="off"
            help={
              account?.hasPassword === true
                ? 'Leave empty to keep the stored password.'
                : 'Stored encrypted; never shown again.'
            }
            problem={problems.password}
          />
          <ServerFields values={values} set={set} problems={problems} />
        </>
      )}
      <TextField
        label="Description"
        value={values.description}
        onValue={set('description')}
        problem={problems.description}
      />
      <TextArea
        label="Signature"
        value={values.signature}
        onValue={set('signature')}
        rows={3}
        help="Under every reply from this account, below the agent's own signature (plain text, at most 2,000 characters). Placeholders such as {{agent.name}} are filled in."
        problem={problems.signature}
      />
      <AgentPicker agents={agents} chosen={values.agentIds} onChange={set('agentIds')} />
      <details class="disclosure">
        <summary>Advanced: servers, inbox, sending limits and retention</summary>
        {modernAuth ? (
          <>
            <p class="field-help">
              Servers: leave empty for Exchange Online (outlook.office365.com:993 and smtp.office365.com:587, or the
              hosts of the provider's cloud).
            </p>
            <ServerFields values={values} set={set} problems={problems} />
          </>
        ) : null}
        <div class="field-row">
          <SelectField
            label="First synchronisation"
            value={values.firstSync}
            onValue={(v) => set('firstSync')(v === 'all' ? 'all' : v === 'new' ? 'new' : 'days')}
            options={[
              { value: 'days', label: 'Mail of the last days' },
              { value: 'all', label: 'All mail in the folder' },
              { value: 'new', label: 'Only mail arriving from now on' },
            ]}
            problem={problems.firstSync}
          />
          {values.firstSync === 'days' ? (
            <TextField
              label="Days"
              value={values.firstSyncDays}
              onValue={set('firstSyncDays')}
              problem={problems.firstSync}
            />
          ) : null}
        </div>
        <div class="field-row">
          <TextField label="Folder" value={values.folder} onValue={set('folder')} problem={problems.folder} />
          <SelectField
            label="After fetching"
            value={values.afterFetchAction}
            onValue={(v) => set('afterFetchAction')(AFTER_FETCH.find((a) => a.value === v)?.value ?? 'mark_seen')}
            options={AFTER_FETCH}
            problem={problems.afterFetchAction}
          />
        </div>
        {values.afterFetchAction === 'move' ? (
          <TextField
            label="Move to folder"
            value={values.afterFetchFolder}
            onValue={set('afterFetchFolder')}
            required
            problem={problems.afterFetchFolder}
          />
        ) : null}
        <CheckboxField label="Also scan the Junk folder" checked={values.scanJunk} onChecked={set('scanJunk')} />
        <CheckboxField
          label="Wait for new mail with IDLE"
          checked={values.useIdle}
          onChecked={set('useIdle')}
          help="Otherwise Postern polls at the interval below."
        />
        <div class="field-row">
          <TextField
            label="Poll interval (seconds)"
            value={values.pollIntervalSeconds}
            onValue={set('pollIntervalSeconds')}
            problem={problems.pollIntervalSeconds}
          />
          <TextField
            label="Messages per minute"
            value={values.sendPerMinute}
            onValue={set('sendPerMinute')}
            help="Exchange Online allows 30."
            problem={problems.sendPerMinute}
          />
          <TextField
            label="Recipients per day"
            value={values.recipientsPerDay}
            onValue={set('recipientsPerDay')}
            help="Exchange Online allows 10,000."
            problem={problems.recipientsPerDay}
          />
        </div>
        <TextField
          label="Keep originals for"
          value={values.rawRetentionDays}
          onValue={set('rawRetentionDays')}
          placeholder="for ever"
          help="Days. After that many days a message's original MIME and its attached files are removed to save space; the conversation text stays. Empty keeps them for ever."
          problem={problems.rawRetentionDays}
        />
      </details>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={submission.busy}>
          {submission.busy ? 'Saving…' : submitLabel}
        </button>
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function AgentPicker({
  agents,
  chosen,
  onChange,
}: {
  agents: User[];
  chosen: number[];
  onChange: (ids: number[]) => void;
}): JSX.Element {
  return (
    <fieldset class="field fieldset">
      <legend>Agents</legend>
      {agents.length === 0 ? (
        <p class="field-help">No agent yet: create agents under Users, then assign them here.</p>
      ) : (
        <div class="checks">
          {agents.map((agent) => (
            <CheckboxField
              key={agent.id}
              label={agent.displayName === '' ? agent.username : `${agent.displayName} (${agent.username})`}
              checked={chosen.includes(agent.id)}
              onChecked={(on) => onChange(on ? [...chosen, agent.id] : chosen.filter((id) => id !== agent.id))}
            />
          ))}
        </div>
      )}
      <p class="field-help">The agents who see this account's conversations.</p>
    </fieldset>
  );
}

type Setter = <K extends keyof Values>(key: K) => (value: Values[K]) => void;

function ServerFields({
  values,
  set,
  problems,
}: {
  values: Values;
  set: Setter;
  problems: Record<string, string>;
}): JSX.Element {
  return (
    <>
      <div class="field-row">
        <TextField label="IMAP host" value={values.imapHost} onValue={set('imapHost')} problem={problems.imapHost} />
        <TextField
          label="IMAP port"
          value={values.imapPort}
          onValue={set('imapPort')}
          placeholder="993"
          problem={problems.imapPort}
        />
      </div>
      <div class="field-row">
        <TextField label="SMTP host" value={values.smtpHost} onValue={set('smtpHost')} problem={problems.smtpHost} />
        <TextField
          label="SMTP port"
          value={values.smtpPort}
          onValue={set('smtpPort')}
          placeholder="587"
          problem={problems.smtpPort}
        />
      </div>
    </>
  );
}

/** Auto / IMAP and SMTP / Microsoft Graph, each with its one line. */
function TransportChoice(props: {
  value: AccountFields['transport'];
  onValue: (value: AccountFields['transport']) => void;
  problem?: string;
}): JSX.Element {
  return (
    <fieldset class={props.problem === undefined ? 'field transport-choice' : 'field field-invalid transport-choice'}>
      <legend>Transport</legend>
      {TRANSPORTS.map((transport) => (
        <label key={transport.value} class="transport-option">
          <input
            type="radio"
            name="transport"
            value={transport.value}
            checked={props.value === transport.value}
            onChange={() => props.onValue(transport.value)}
          />
          <span>
            <strong>{transport.label}</strong>
            <span class="field-help"> — {transport.help}</span>
          </span>
        </label>
      ))}
      {props.problem === undefined ? null : <p class="field-problem">{props.problem}</p>}
    </fieldset>
  );
}

/** The select's value for "someone not signed in yet", which shows a text field. */
const ANOTHER_USER = 'another user';

/**
 * The delegate of a shared mailbox, chosen from the users signed in under the provider; another
 * address can still be typed (the form then warns that nobody signed in as that user). With nobody
 * signed in yet, it is a text field.
 */
function DelegateField({
  delegates,
  value,
  onValue,
  problem,
}: {
  delegates: readonly string[];
  value: string;
  onValue: (value: string) => void;
  problem: string | undefined;
}): JSX.Element {
  const [typing, setTyping] = useState(false);
  const known = delegates.some((who) => who.toLowerCase() === value.trim().toLowerCase());
  const other = delegates.length === 0 || typing || (value !== '' && !known);
  const example = 'for example andrea@contoso.com for developers@contoso.com';
  const text = (
    <TextField
      label={delegates.length === 0 ? 'Modern Authentication Email' : "Other user's email"}
      type="email"
      value={value}
      onValue={onValue}
      required
      help={`The user linked to the shared mailbox who authenticated the Cloud Provider, ${example}.`}
      problem={problem}
    />
  );
  if (delegates.length === 0) return text;
  return (
    <>
      <SelectField
        label="Modern Authentication Email"
        value={other ? ANOTHER_USER : value}
        onValue={(chosen) => {
          setTyping(chosen === ANOTHER_USER);
          onValue(chosen === ANOTHER_USER ? '' : chosen);
        }}
        required
        options={[
          { value: '', label: 'Choose the user linked to the shared mailbox' },
          ...delegates.map((who) => ({ value: who, label: who })),
          { value: ANOTHER_USER, label: 'Another user…' },
        ]}
        help={`Who signed in under the provider and is linked to the shared mailbox, ${example}.`}
        {...(other ? {} : { problem })}
      />
      {other ? text : null}
    </>
  );
}
