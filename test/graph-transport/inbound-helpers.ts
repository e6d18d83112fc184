/**
 * The emulator with Graph for the Graph inbound suites, holding the Exchange half's handle (to
 * create folders and look at flags), andrea@ consented for Graph mail as the delegate of
 * developers@, and a GraphSync built like the mailbox workers build it — on Postern's own Graph
 * client, with a token of andrea's from the emulator's token endpoint.
 */
import { createExchangeExtension, type ExchangeExtension } from '../../emulator/exchange/exchange-extension.js';
import { withGraph } from '../../emulator/graph/graph-extension.js';
import { GraphClient } from '../../src/mail/graph/graph-client.js';
import {
  GraphSync,
  type GraphFolderReport,
  type GraphOversizeNotice,
  type GraphSyncOptions,
} from '../../src/mail/graph/graph-sync.js';
import type { SyncStatusChange } from '../../src/mail/imap/mailbox-sync.js';
import { createGraphSyncStore } from '../../src/services/inbound/graph-sync-store.js';
import {
  createEmailAccount,
  createList,
  type Database,
  type EmailAccountFields,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { userToken } from '../graph/helpers/graph-emulator.js';

export { CONTOSO };
export const DEVELOPERS = 'developers@contoso.com';
const GRAPH = 'https://graph.microsoft.com';

/** The running emulator and its Exchange half. */
export interface GraphMail {
  readonly emu: TestEmulator;
  readonly exchange: ExchangeExtension;
  /** andrea@'s Graph token (Mail.ReadWrite.Shared), cached. */
  token(): Promise<string>;
  /** Puts a message into a folder of developers@ and returns the bytes the mailbox holds. */
  deliver(folder: string, raw: Buffer | string, options?: { internalDate?: Date }): Buffer;
  /** The messages of a folder of developers@, with their flags. */
  messages(folder: string): Array<{ uid: number; raw: Buffer; seen: boolean }>;
  stop(): Promise<void>;
}

export async function startGraphMail(): Promise<GraphMail> {
  let exchange: ExchangeExtension | undefined;
  const emu = await startTestEmulator({
    exchange: false,
    extensions: [
      ...withGraph((core) => {
        exchange = createExchangeExtension(core, { inMemory: true });
        return exchange;
      }),
    ],
  });
  if (exchange === undefined) throw new Error('the Exchange extension did not start');
  await emu.control('POST', '/consents', {
    tenant: CONTOSO.tenantId,
    appId: CONTOSO.publicClient.appId,
    user: CONTOSO.andrea.upn,
    scopes: ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'].map(
      (scope) => `${GRAPH}/${scope}`,
    ),
  });
  const started = exchange;
  let cached: Promise<string> | undefined;
  const folderOf = (name: string) => {
    const folder = started.service.store.mailbox(DEVELOPERS).byName(name);
    if (folder === undefined) throw new Error(`no folder ${name}`);
    return folder;
  };
  return {
    emu,
    exchange: started,
    token: () => (cached ??= userToken(emu, CONTOSO.andrea, `${GRAPH}/Mail.ReadWrite.Shared`)),
    deliver(folder, raw, options = {}) {
      return started.service.store.append(DEVELOPERS, folderOf(folder), Buffer.from(raw), options).content.raw;
    },
    messages(folder) {
      return folderOf(folder).messages.map((m) => ({ uid: m.uid, raw: m.content.raw, seen: m.flags.has('\\Seen') }));
    },
    stop: () => emu.stop(),
  };
}

/** Creates a folder in developers@ (when missing). */
export function ensureFolder(mail: GraphMail, name: string): void {
  if (mail.exchange.service.store.mailbox(DEVELOPERS).byName(name) === undefined)
    mail.exchange.service.store.createFolder(DEVELOPERS, name);
}

let serial = 0;

/**
 * A new folder of developers@ and an account in `db` on transport `graph` that reads it from its
 * first message, with its own default list.
 */
export async function graphAccount(
  mail: GraphMail,
  db: Database,
  folder: string,
  fields: Partial<EmailAccountFields> = {},
): Promise<EmailAccountRecord> {
  serial += 1;
  ensureFolder(mail, folder);
  const list = await createList(db, { name: `List ${folder} ${serial}` });
  return createEmailAccount(db, {
    name: `Developers ${folder}`,
    key: `G${serial}`.slice(0, 5),
    emailAddress: DEVELOPERS,
    username: DEVELOPERS,
    modernAuthEmail: CONTOSO.andrea.upn,
    transport: 'graph',
    defaultListId: list.id,
    firstSync: { kind: 'all' },
    folder,
    ...fields,
  });
}

/** A GraphSync and what it reported. */
export interface GraphSyncUnderTest {
  readonly sync: GraphSync;
  readonly statuses: SyncStatusChange[];
  readonly oversize: GraphOversizeNotice[];
  readonly rounds: Array<readonly GraphFolderReport[]>;
}

/** The engine for `account`, as the mailbox workers build it, with short waits. */
export function buildGraphSync(
  mail: GraphMail,
  db: Database,
  account: EmailAccountRecord,
  options: Partial<GraphSyncOptions> & { throttleBudgetMs?: number } = {},
): GraphSyncUnderTest {
  const statuses: SyncStatusChange[] = [];
  const oversize: GraphOversizeNotice[] = [];
  const rounds: Array<readonly GraphFolderReport[]> = [];
  const { throttleBudgetMs, ...rest } = options;
  const sync = new GraphSync({
    mailbox: account.username,
    openClient: async (signal) =>
      new GraphClient({
        target: { apiBase: `${mail.emu.base}/v1.0`, mailbox: account.username, ca: mail.emu.handle.caPem },
        accessToken: () => mail.token(),
        purpose: 'read',
        signal,
        ...(throttleBudgetMs === undefined ? {} : { throttleBudgetMs }),
      }),
    folder: account.folder,
    scanJunk: account.scanJunk,
    afterFetch: account.afterFetchAction,
    afterFetchFolder: account.afterFetchFolder,
    maxMessageBytes: account.maxMessageBytes,
    pollIntervalMs: 200,
    firstSync: account.firstSync,
    store: createGraphSyncStore(db, account),
    onStatus: (change) => statuses.push(change),
    onOversize: (notice) => oversize.push(notice),
    onSynced: (reports) => rounds.push(reports),
    ...rest,
    tuning: { backoff: { baseMs: 50, maxMs: 2_000, needsAdminMinMs: 200 }, pageSize: 20, ...rest.tuning },
  });
  return { sync, statuses, oversize, rounds };
}

let messageSerial = 0;

/** A plain customer message to developers@. */
export function customerMessage(
  options: { from?: string; subject?: string; id?: string; inReplyTo?: string; body?: string } = {},
): string {
  messageSerial += 1;
  return [
    `From: ${options.from ?? 'Customer <customer@example.org>'}`,
    `To: ${DEVELOPERS}`,
    `Subject: ${options.subject ?? `Question ${messageSerial}`}`,
    'Date: Wed, 15 Jan 2025 09:00:00 +0000',
    `Message-ID: ${options.id ?? `<g${messageSerial}.${Date.now()}@example.org>`}`,
    ...(options.inReplyTo === undefined ? [] : [`In-Reply-To: ${options.inReplyTo}`]),
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body ?? 'Hello',
    '',
  ].join('\r\n');
}

/** Waits until `check` holds, polling every 25 ms, or fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
