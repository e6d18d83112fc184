import { z } from 'zod';
import { normalizeSignature, SIGNATURE_MAX_CHARS } from './placeholders.js';
import { MAX_CA_PEM_CHARS, readCaPem } from './tls-ca-pem.js';

/**
 * The fields of an Email Account, named as the reference guide names them (Name, Key, Email
 * Address, List, Service, Modern Authentication, Username, Cloud Provider, Modern Authentication
 * Email, Description) plus Postern's inbound and outbound settings. Used by the API and the CLI.
 */
const address = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .email('must be an email address such as developers@contoso.com');

export const DEFAULT_MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

/**
 * The account's own CAs (PEM) for its IMAP and SMTP servers: checked to hold X.509 certificates and
 * re-encoded (see `tls-ca-pem.ts`); null removes them.
 */
const tlsCaPem = z
  .string()
  .max(MAX_CA_PEM_CHARS, `must be at most ${MAX_CA_PEM_CHARS} characters`)
  .transform((text, ctx) => {
    const reading = readCaPem(text);
    if (reading.ok) return reading.pem;
    ctx.addIssue({ code: 'custom', message: reading.problem });
    return z.NEVER;
  });

export const emailAccountBody = z.object({
  // The name is the display name of the From header of every message the account sends.
  name: z
    .string()
    .trim()
    .min(1, 'is required')
    .max(100, 'must be at most 100 characters')
    .refine(
      (name) => !/[\u0000-\u001f\u007f]/.test(name),
      'must be one line, without control characters: it is the sender name of the messages sent',
    ),
  key: z
    .string()
    .trim()
    .min(1, 'is required')
    .max(5, "must be at most 5 characters (it is shown on the agents' tabs)")
    .regex(/^[A-Za-z0-9_-]+$/, 'may contain only letters, digits, - and _'),
  emailAddress: address,
  defaultListId: z.number().int().positive().nullable().optional(),
  active: z.boolean().optional(),
  service: z.enum(['outlook365', 'imap']).optional(),
  modernAuth: z.boolean().optional(),
  username: address.optional(),
  password: z.string().min(1).max(1024).optional(),
  providerId: z.number().int().positive().nullable().optional(),
  modernAuthEmail: address.nullable().optional(),
  description: z.string().trim().max(2000).nullable().optional(),
  // Under every reply from the account, below the agent's own (plain text; placeholders filled).
  signature: z
    .string()
    .max(SIGNATURE_MAX_CHARS, `must be at most ${SIGNATURE_MAX_CHARS} characters`)
    .nullable()
    .transform(normalizeSignature)
    .optional(),
  // `auto` (the default for Outlook365): IMAP and SMTP, each direction switching to Microsoft Graph
  // by itself when Exchange refuses IMAP or SMTP AUTH for the mailbox and the grant allows it.
  transport: z.enum(['auto', 'imap_smtp', 'graph']).optional(),
  imapHost: z.string().trim().min(1).max(253).nullable().optional(),
  imapPort: z.number().int().min(1).max(65535).nullable().optional(),
  smtpHost: z.string().trim().min(1).max(253).nullable().optional(),
  smtpPort: z.number().int().min(1).max(65535).nullable().optional(),
  tlsCaPem: tlsCaPem.nullable().optional(),
  folder: z.string().trim().min(1).max(500).optional(),
  scanJunk: z.boolean().optional(),
  afterFetchAction: z.enum(['mark_seen', 'move', 'delete', 'none']).optional(),
  afterFetchFolder: z.string().trim().min(1).max(500).nullable().optional(),
  maxMessageBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(150 * 1024 * 1024)
    .optional(),
  useIdle: z.boolean().optional(),
  pollIntervalSeconds: z.number().int().min(10).max(86_400).optional(),
  firstSync: z
    .union([
      z.object({ kind: z.literal('days'), days: z.number().int().min(1).max(3650) }),
      z.object({ kind: z.literal('all') }),
      z.object({ kind: z.literal('new') }),
    ])
    .optional(),
  sendPerMinute: z.number().int().min(1).max(10_000).optional(),
  recipientsPerDay: z.number().int().min(1).max(1_000_000).optional(),
  // "Keep originals for": the raw MIME and attached files of messages older than this many days
  // are removed by the worker role's hourly sweep (the conversation's text stays); null keeps them.
  rawRetentionDays: z
    .number({ error: 'must be a whole number of days, or null to keep originals for ever' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day (null keeps originals for ever)')
    .max(3650, 'must be at most 3650 days (null keeps originals for ever)')
    .nullable()
    .optional(),
  agentIds: z.array(z.number().int().positive()).max(1000).optional(),
});

export type EmailAccountInput = z.infer<typeof emailAccountBody>;

/** The transport of a new account that names none: `auto` for Microsoft 365, IMAP and SMTP for other servers. */
export function defaultTransport(service: 'outlook365' | 'imap'): 'auto' | 'imap_smtp' {
  return service === 'outlook365' ? 'auto' : 'imap_smtp';
}

export const emailAccountPatch = emailAccountBody
  .partial()
  .refine((body) => Object.keys(body).length > 0, 'name at least one field to change');
