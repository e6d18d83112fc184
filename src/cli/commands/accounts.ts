import type { Command } from 'commander';
import { emailAccountBody } from '../../domain/email-account-fields.js';
import { PosternError, parseOrThrow } from '../../errors/index.js';
import type { AccountView } from '../../services/accounts/account-service.js';
import type { Services } from '../../services/index.js';
import { print, withRuntime } from '../with-runtime.js';

/** An account by id or key (case-insensitive). */
export async function findAccount(services: Services, ref: string): Promise<AccountView> {
  if (/^\d+$/.test(ref)) return services.accounts.get(Number(ref));
  const match = (await services.accounts.list()).find((view) => view.account.key.toLowerCase() === ref.toLowerCase());
  if (match === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', {
      message: `There is no email account with key "${ref}".`,
      remedy: 'List them with "postern accounts list".',
    });
  return match;
}

async function providerIdOf(services: Services, ref: string | undefined): Promise<number | undefined> {
  if (ref === undefined) return undefined;
  if (/^\d+$/.test(ref)) return Number(ref);
  const match = (await services.providers.list()).find(
    (view) => view.provider.name.toLowerCase() === ref.toLowerCase(),
  );
  if (match === undefined)
    throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no Cloud Provider "${ref}".` });
  return match.provider.id;
}

function describe(view: AccountView): string[] {
  const a = view.account;
  const lines = [
    `${a.key}  ${a.name} <${a.emailAddress}> — ${a.active ? a.status : 'disabled'}`,
    `  service          ${a.service}${a.modernAuth ? ', modern authentication' : ''} (${a.transport})`,
    `  username         ${a.username}`,
    `  modern auth as   ${a.modernAuthEmail ?? a.username}`,
    `  cloud provider   ${view.providerName ?? '(none)'}`,
    ...(a.modernAuth
      ? [
          `  reading          ${directionLine(a.effective.inbound)}`,
          `  sending          ${directionLine(a.effective.outbound)}`,
        ]
      : []),
    `  folder           ${a.folder}${a.scanJunk ? ' + Junk Email' : ''}, then ${a.afterFetchAction}${a.afterFetchFolder === null ? '' : ` to ${a.afterFetchFolder}`}`,
    `  limits           ${a.sendPerMinute}/minute, ${a.recipientsPerDay} recipients/day, messages up to ${Math.round(a.maxMessageBytes / 1048576)} MB`,
    `  keep originals   ${keepOriginalsText(a.rawRetentionDays)}`,
  ];
  if (a.lastError !== null)
    lines.push(
      `  last error       ${a.lastError.code}: ${a.lastError.message}`,
      `  what to do       ${a.lastError.remedy ?? ''}`,
    );
  return lines;
}

/** The account's "Keep originals for" in words. */
function keepOriginalsText(days: number | null): string {
  return days === null
    ? 'for ever'
    : `${days} day${days === 1 ? '' : 's'} (then the raw MIME and attached files go; the conversation text stays)`;
}

/** `--keep-originals`: a number of days, or `forever` (null). Anything else is left to the schema to refuse. */
function keepOriginalsValue(text: string | undefined): number | string | null | undefined {
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === 'forever') return null;
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text;
}

/** "Microsoft Graph since …, because …", or the transport alone. */
function directionLine(direction: AccountView['account']['effective']['inbound' | 'outbound']): string {
  const via = direction.via === 'graph' ? 'Microsoft Graph' : direction.via.toUpperCase();
  return direction.since === null ? via : `${via} since ${direction.since}, because ${direction.reason ?? ''}`;
}

interface AddOptions {
  name: string;
  key: string;
  email: string;
  username?: string;
  provider?: string;
  modernAuthEmail?: string;
  list?: string;
  folder?: string;
  description?: string;
  transport?: string;
  keepOriginals?: string;
}

export function registerAccountCommands(program: Command): void {
  const accounts = program.command('accounts').description('Email Accounts: mailboxes associated with Cloud Providers');

  accounts
    .command('add')
    .description('Create an email account (Service: Outlook365, Modern Authentication)')
    .requiredOption('--name <name>', 'a name')
    .requiredOption('--key <key>', 'a short key (1–5 characters) shown on agent tabs')
    .requiredOption('--email <address>', "the email address (the From of replies; the shared mailbox's address)")
    .option('--username <address>', 'the mailbox to sign in to (default: the email address)')
    .option('--provider <name|id>', 'the Cloud Provider')
    .option('--modern-auth-email <address>', 'the delegate who signed in, for a shared mailbox')
    .option('--list <id>', 'the default contact list id')
    .option('--folder <folder>', 'the folder to read (default INBOX)')
    .option('--description <text>', 'a description')
    .option(
      '--transport <transport>',
      'auto (default: IMAP and SMTP, each switching to Microsoft Graph by itself when Exchange has it disabled), imap_smtp, or graph',
    )
    .option(
      '--keep-originals <days|forever>',
      'keep the raw MIME and attached files this many days (1–3650), then remove them; the conversation text stays (default forever)',
    )
    .action((opts: AddOptions) =>
      withRuntime(async ({ services }) => {
        const input = parseOrThrow(
          emailAccountBody,
          {
            name: opts.name,
            key: opts.key,
            emailAddress: opts.email,
            username: opts.username,
            providerId: await providerIdOf(services, opts.provider),
            modernAuthEmail: opts.modernAuthEmail,
            defaultListId: opts.list === undefined ? undefined : Number(opts.list),
            folder: opts.folder,
            description: opts.description,
            transport: opts.transport,
            rawRetentionDays: keepOriginalsValue(opts.keepOriginals),
          },
          'options',
        );
        const view = await services.accounts.create(input);
        print(
          `Created email account ${view.account.key} (id ${view.account.id}). A running Postern starts reading it within seconds.`,
        );
      }),
    );

  accounts
    .command('list')
    .description('List email accounts and their status')
    .action(() =>
      withRuntime(async ({ services }) => {
        const views = await services.accounts.list();
        if (views.length === 0) print('(none)');
        for (const view of views)
          print(
            `${view.account.id}  ${view.account.key.padEnd(5)}  ${view.account.emailAddress}  ${view.account.active ? view.account.status : 'disabled'}`,
          );
      }),
    );

  accounts
    .command('show <account>')
    .description('Show an email account with its status and last error')
    .action((ref: string) =>
      withRuntime(async ({ services }) => describe(await findAccount(services, ref)).forEach((line) => print(line))),
    );

  for (const [name, active] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    accounts
      .command(`${name} <account>`)
      .description(`${name === 'enable' ? 'Enable' : 'Disable'} an email account`)
      .action((ref: string) =>
        withRuntime(async ({ services }) => {
          const view = await services.accounts.setActive((await findAccount(services, ref)).account.id, active);
          print(`Email account ${view.account.key} is ${active ? 'enabled' : 'disabled'}.`);
        }),
      );
  }

  accounts
    .command('keep-originals <account> <days|forever>')
    .description(
      'Keep raw MIME and attached files this many days (1–3650) or forever; older originals are removed within the hour',
    )
    .action((ref: string, days: string) =>
      withRuntime(async ({ services }) => {
        const { rawRetentionDays } = parseOrThrow(
          emailAccountBody.pick({ rawRetentionDays: true }).required(),
          { rawRetentionDays: keepOriginalsValue(days) },
          'arguments',
        );
        const view = await services.accounts.update((await findAccount(services, ref)).account.id, {
          rawRetentionDays,
        });
        print(`Email account ${view.account.key} keeps originals ${keepOriginalsText(view.account.rawRetentionDays)}.`);
      }),
    );

  accounts
    .command('test <account>')
    .description('Connect to the mailbox now and report each step')
    .action((ref: string) =>
      withRuntime(async ({ services }) => {
        const result = await services.mailboxTest.run((await findAccount(services, ref)).account.id);
        for (const step of result.steps) print(`${step.ok ? 'ok  ' : 'FAIL'}  ${step.step.padEnd(10)}  ${step.detail}`);
        if (result.error !== null) {
          if (result.error.remedy !== null) print(`What to do: ${result.error.remedy}`);
          process.exitCode = 1;
        }
      }),
    );

  accounts
    .command('delete <account>')
    .description('Delete an email account that has no conversations (disable it otherwise)')
    .action((ref: string) =>
      withRuntime(async ({ services }) => {
        const view = await findAccount(services, ref);
        await services.accounts.remove(view.account.id);
        print(`Deleted email account ${view.account.key}.`);
      }),
    );
}
