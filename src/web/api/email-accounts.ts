import { request, send } from './client.js';
import {
  connectionTest,
  emailAccount,
  eventPage,
  itemsOf,
  sending,
  type ConnectionTest,
  type EmailAccount,
  type EventPage,
  type Sending,
} from './schemas.js';

const BASE = '/api/email/accounts';

/** The body of a create or change; the API applies its defaults to what is left out. */
export interface AccountFields {
  name: string;
  key: string;
  emailAddress: string;
  defaultListId: number | null;
  service: 'outlook365' | 'imap';
  modernAuth: boolean;
  username: string;
  password?: string;
  providerId: number | null;
  modernAuthEmail: string | null;
  description: string | null;
  signature: string | null;
  transport: 'auto' | 'imap_smtp' | 'graph';
  imapHost: string | null;
  imapPort: number | null;
  smtpHost: string | null;
  smtpPort: number | null;
  folder: string;
  scanJunk: boolean;
  afterFetchAction: 'mark_seen' | 'move' | 'delete' | 'none';
  afterFetchFolder: string | null;
  useIdle: boolean;
  pollIntervalSeconds: number;
  firstSync: { kind: 'days'; days: number } | { kind: 'all' } | { kind: 'new' };
  sendPerMinute: number;
  recipientsPerDay: number;
  /** Keep originals for this many days; null: for ever. Text the form could not read goes as is, for the API to refuse. */
  rawRetentionDays: number | string | null;
  agentIds: number[];
}

export async function listAccounts(): Promise<EmailAccount[]> {
  return (await request('GET', BASE, itemsOf(emailAccount))).items;
}

export function getAccount(id: number): Promise<EmailAccount> {
  return request('GET', `${BASE}/${id}`, emailAccount);
}

export function createAccount(fields: AccountFields): Promise<EmailAccount> {
  return request('POST', BASE, emailAccount, { body: fields });
}

export function updateAccount(id: number, fields: Partial<AccountFields>): Promise<EmailAccount> {
  return request('PATCH', `${BASE}/${id}`, emailAccount, { body: fields });
}

export function setAccountActive(id: number, active: boolean): Promise<EmailAccount> {
  return request('POST', `${BASE}/${id}/${active ? 'enable' : 'disable'}`, emailAccount);
}

export function deleteAccount(id: number): Promise<void> {
  return send('DELETE', `${BASE}/${id}`);
}

export function accountEvents(id: number, before?: number): Promise<EventPage> {
  return request('GET', `${BASE}/${id}/events`, eventPage, { query: { before } });
}

/** Connects to the mailbox now and reports each step. */
/** Test connection: IMAP and SMTP AUTH; with `sendTest`, Send As too (a message to the delegate). */
export function testAccount(id: number, options: { sendTest?: boolean } = {}): Promise<ConnectionTest> {
  return request('POST', `${BASE}/${id}/test`, connectionTest, { body: { sendTest: options.sendTest === true } });
}

/** The account's sending limits, what it uses of them now, and its outbox. */
export function accountSending(id: number): Promise<Sending> {
  return request('GET', `${BASE}/${id}/sending`, sending);
}
