import { z } from 'zod';
import { summarizeCaPem } from '../../../domain/tls-ca-pem.js';
import type { AccountView } from '../../../services/accounts/account-service.js';

export const accountReply = z.object({
  id: z.number().int(),
  name: z.string(),
  key: z.string(),
  emailAddress: z.string(),
  defaultListId: z.number().int().nullable(),
  active: z.boolean(),
  service: z.string(),
  modernAuth: z.boolean(),
  username: z.string(),
  hasPassword: z.boolean(),
  providerId: z.number().int().nullable(),
  providerName: z.string().nullable(),
  modernAuthEmail: z.string().nullable(),
  description: z.string().nullable(),
  /** The signature under the account's replies, below the agent's own (plain text; placeholders filled). */
  signature: z.string().nullable(),
  transport: z.string(),
  /**
   * What each direction uses now: fixed by `transport` for `imap_smtp` and `graph`; for `auto`, IMAP
   * and SMTP until Exchange refused one of them and the direction switched to Graph (with why and since when).
   */
  effectiveTransport: z.object({
    inbound: z.object({ via: z.enum(['imap', 'graph']), reason: z.string().nullable(), since: z.string().nullable() }),
    outbound: z.object({ via: z.enum(['smtp', 'graph']), reason: z.string().nullable(), since: z.string().nullable() }),
  }),
  imapHost: z.string().nullable(),
  imapPort: z.number().int().nullable(),
  smtpHost: z.string().nullable(),
  smtpPort: z.number().int().nullable(),
  /** The account's own CAs, shown by fingerprint and subject (the PEM itself is not echoed). */
  tlsCa: z.array(z.object({ fingerprintSha256: z.string(), subject: z.string(), notAfter: z.string() })),
  folder: z.string(),
  scanJunk: z.boolean(),
  afterFetchAction: z.string(),
  afterFetchFolder: z.string().nullable(),
  maxMessageBytes: z.number().int(),
  useIdle: z.boolean(),
  pollIntervalSeconds: z.number().int(),
  firstSync: z.union([
    z.object({ kind: z.literal('days'), days: z.number() }),
    z.object({ kind: z.literal('all') }),
    z.object({ kind: z.literal('new') }),
  ]),
  sendPerMinute: z.number().int(),
  recipientsPerDay: z.number().int(),
  rawRetentionDays: z
    .number()
    .int()
    .nullable()
    .describe(
      "Keep originals for: days after which a message's raw MIME and attached files are removed (the conversation text stays); null keeps them for ever",
    ),
  status: z.string(),
  lastError: z.object({ code: z.string(), message: z.string(), remedy: z.string().nullable() }).nullable(),
  statusChangedAt: z.string().nullable(),
  agentIds: z.array(z.number().int()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** An email account as the API shows it; a stored password is only reported as present. */
export function presentAccount(view: AccountView): z.infer<typeof accountReply> {
  const a = view.account;
  return {
    id: a.id,
    name: a.name,
    key: a.key,
    emailAddress: a.emailAddress,
    defaultListId: a.defaultListId,
    active: a.active,
    service: a.service,
    modernAuth: a.modernAuth,
    username: a.username,
    hasPassword: a.sealedPassword !== null,
    providerId: a.providerId,
    providerName: view.providerName,
    modernAuthEmail: a.modernAuthEmail,
    description: a.description,
    signature: a.signature,
    transport: a.transport,
    effectiveTransport: {
      inbound: { ...a.effective.inbound },
      outbound: { ...a.effective.outbound },
    },
    imapHost: a.imapHost,
    imapPort: a.imapPort,
    smtpHost: a.smtpHost,
    smtpPort: a.smtpPort,
    tlsCa: summarizeCaPem(a.tlsCaPem),
    folder: a.folder,
    scanJunk: a.scanJunk,
    afterFetchAction: a.afterFetchAction,
    afterFetchFolder: a.afterFetchFolder,
    maxMessageBytes: a.maxMessageBytes,
    useIdle: a.useIdle,
    pollIntervalSeconds: a.pollIntervalSeconds,
    firstSync: a.firstSync,
    sendPerMinute: a.sendPerMinute,
    recipientsPerDay: a.recipientsPerDay,
    rawRetentionDays: a.rawRetentionDays,
    status: a.active ? a.status : 'disabled',
    lastError: a.lastError,
    statusChangedAt: a.statusChangedAt,
    agentIds: view.agentIds,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}
