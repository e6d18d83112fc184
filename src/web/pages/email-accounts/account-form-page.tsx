import type { JSX } from 'preact';
import { listProviders } from '../../api/cloud-providers.js';
import { listLists } from '../../api/contacts.js';
import { createAccount, getAccount, updateAccount } from '../../api/email-accounts.js';
import type { ContactList, EmailAccount, Provider, User } from '../../api/schemas.js';
import { listUsers } from '../../api/users.js';
import { Loading, PageHeader } from '../../components/app-shell.js';
import { ErrorNotice } from '../../components/notice.js';
import { Link, navigate } from '../../lib/router.js';
import { useResource } from '../../lib/use-resource.js';
import { useSubmit } from '../../lib/use-submit.js';
import { AccountForm } from './account-form.js';

interface Choices {
  providers: Provider[];
  lists: ContactList[];
  agents: User[];
  account: EmailAccount | undefined;
}

async function loadChoices(id: number | null): Promise<Choices> {
  const [providers, lists, users, account] = await Promise.all([
    listProviders(),
    listLists({ limit: 200 }),
    listUsers(),
    id === null ? Promise.resolve(undefined) : getAccount(id),
  ]);
  return { providers, lists: lists.items, agents: users.filter((u) => u.role === 'agent' && !u.disabled), account };
}

export function AccountNewPage(): JSX.Element {
  return <AccountFormPage id={null} />;
}

export function AccountEditPage({ id }: { id: number }): JSX.Element {
  return <AccountFormPage id={id} />;
}

function AccountFormPage({ id }: { id: number | null }): JSX.Element {
  const choices = useResource(() => loadChoices(id), String(id));
  const submission = useSubmit();
  const data = choices.data;
  const back = id === null ? '/email-accounts' : `/email-accounts/${id}`;
  const title =
    id === null
      ? 'New Email Account'
      : data?.account === undefined
        ? 'Edit Email Account'
        : `Edit ${data.account.name}`;
  return (
    <section>
      <PageHeader title={title}>
        <p class="lead">
          Associate a Microsoft 365 mailbox — personal or shared — with a Cloud Provider. <Link to={back}>Back</Link>
        </p>
      </PageHeader>
      {choices.error === undefined ? null : <ErrorNotice error={choices.error} />}
      {data === undefined ? (
        choices.error === undefined ? (
          <Loading what="the form" />
        ) : null
      ) : (
        <div class="narrow">
          <AccountForm
            {...(data.account === undefined ? {} : { account: data.account })}
            providers={data.providers}
            lists={data.lists}
            agents={data.agents}
            submission={submission}
            submitLabel={id === null ? 'Create account' : 'Save changes'}
            onCancel={() => navigate(back)}
            onSubmit={(fields) => {
              void submission.run(async () => {
                const saved = id === null ? await createAccount(fields) : await updateAccount(id, fields);
                navigate(`/email-accounts/${saved.id}?${id === null ? 'created' : 'saved'}=1`);
              });
            }}
          />
        </div>
      )}
    </section>
  );
}
