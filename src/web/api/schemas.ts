/**
 * The shapes of the API's replies the UI reads, as the presenters under src/http/routes define
 * them (see /api/docs). Types come from the schemas.
 */
import * as z from 'zod/mini';

const nullableString = z.nullable(z.string());

export const user = z.object({
  id: z.number(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(['admin', 'agent']),
  disabled: z.boolean(),
  lastLoginAt: nullableString,
  createdAt: z.string(),
});
export type User = z.infer<typeof user>;

export const session = z.object({ user, csrfToken: z.string() });

const grant = z.object({
  id: z.number(),
  upn: nullableString,
  displayName: nullableString,
  objectId: nullableString,
  tenantId: nullableString,
  scopes: z.array(z.string()),
  state: z.enum(['active', 'reauth_required', 'revoked']),
  lastInteractiveSignInAt: nullableString,
  lastRefreshAt: nullableString,
  lastError: z.nullable(
    z.object({ code: z.string(), message: z.string(), remedy: nullableString, aadsts: nullableString }),
  ),
});
export type Grant = z.infer<typeof grant>;

export const GRANT_TYPES = ['authorization_code', 'device_code', 'client_credentials', 'password'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const CLOUDS = ['global', 'usgov', 'usgov-dod', 'china', 'custom'] as const;
export type Cloud = (typeof CLOUDS)[number];

export const provider = z.object({
  id: z.number(),
  name: z.string(),
  service: z.string(),
  type: z.string(),
  applicationId: z.string(),
  tenantId: z.string(),
  clientSecret: z.nullable(
    z.object({ hint: z.string(), expiresAt: nullableString, expiresInDays: z.nullable(z.number()) }),
  ),
  clientCertificate: z.nullable(
    z.object({
      thumbprint: z.string(),
      subject: z.string(),
      notBefore: z.string(),
      expiresAt: z.string(),
      expiresInDays: z.number(),
    }),
  ),
  redirectUri: nullableString,
  cloud: z.string(),
  authorityUrl: nullableString,
  caFile: nullableString,
  grantType: z.string(),
  scopes: z.array(z.string()),
  status: z.enum(['not_authenticated', 'authenticated', 'reauth_required', 'error']),
  lastError: z.nullable(z.object({ code: z.string(), message: z.string(), remedy: nullableString })),
  warnings: z.array(z.string()),
  grants: z.array(grant),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Provider = z.infer<typeof provider>;

export const deviceFlow = z.object({
  flowId: z.string(),
  state: z.enum(['pending', 'completed', 'failed']),
  userCode: z.string(),
  verificationUri: z.string(),
  message: z.string(),
  expiresAt: z.string(),
  grant: z.optional(grant),
  error: z.optional(z.object({ code: z.string(), message: z.string(), remedy: z.optional(z.string()) })),
});
export type DeviceFlow = z.infer<typeof deviceFlow>;

export const authenticateReply = z.discriminatedUnion('method', [
  z.object({ method: z.literal('redirect'), authorizeUrl: z.string() }),
  z.object({ method: z.literal('device_code'), flow: deviceFlow }),
  z.object({ method: z.literal('completed'), grant }),
]);
export type AuthenticateReply = z.infer<typeof authenticateReply>;

const event = z.object({
  id: z.number(),
  type: z.string(),
  level: z.string(),
  message: z.string(),
  data: z.nullable(z.record(z.string(), z.unknown())),
  createdAt: z.string(),
});
export type TimelineEvent = z.infer<typeof event>;

export const eventPage = z.object({ items: z.array(event), nextBefore: z.nullable(z.number()) });
export type EventPage = z.infer<typeof eventPage>;

export const tokenCheck = z.object({ upn: nullableString, scopes: z.array(z.string()), expiresAt: z.string() });
export type TokenCheck = z.infer<typeof tokenCheck>;

export const contactList = z.object({
  id: z.number(),
  name: z.string(),
  description: nullableString,
  contactCount: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ContactList = z.infer<typeof contactList>;

export const contact = z.object({
  id: z.number(),
  listId: z.number(),
  name: z.string(),
  addresses: z.array(z.string()),
  notes: nullableString,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Contact = z.infer<typeof contact>;

/** A page of a paginated collection. */
export function pageOf<T extends z.ZodMiniType>(item: T) {
  return z.object({ items: z.array(item), total: z.number(), limit: z.number(), offset: z.number() });
}

export function itemsOf<T extends z.ZodMiniType>(item: T) {
  return z.object({ items: z.array(item) });
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const emailAccount = z.object({
  id: z.number(),
  name: z.string(),
  key: z.string(),
  emailAddress: z.string(),
  defaultListId: z.nullable(z.number()),
  active: z.boolean(),
  service: z.string(),
  modernAuth: z.boolean(),
  username: z.string(),
  hasPassword: z.boolean(),
  providerId: z.nullable(z.number()),
  providerName: nullableString,
  modernAuthEmail: nullableString,
  description: nullableString,
  signature: nullableString,
  transport: z.string(),
  effectiveTransport: z.object({
    inbound: z.object({ via: z.string(), reason: nullableString, since: nullableString }),
    outbound: z.object({ via: z.string(), reason: nullableString, since: nullableString }),
  }),
  imapHost: nullableString,
  imapPort: z.nullable(z.number()),
  smtpHost: nullableString,
  smtpPort: z.nullable(z.number()),
  folder: z.string(),
  scanJunk: z.boolean(),
  afterFetchAction: z.string(),
  afterFetchFolder: nullableString,
  maxMessageBytes: z.number(),
  useIdle: z.boolean(),
  pollIntervalSeconds: z.number(),
  firstSync: z.union([
    z.object({ kind: z.literal('days'), days: z.number() }),
    z.object({ kind: z.literal('all') }),
    z.object({ kind: z.literal('new') }),
  ]),
  sendPerMinute: z.number(),
  recipientsPerDay: z.number(),
  rawRetentionDays: z.nullable(z.number()),
  status: z.string(),
  lastError: z.nullable(z.object({ code: z.string(), message: z.string(), remedy: nullableString })),
  statusChangedAt: nullableString,
  agentIds: z.array(z.number()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type EmailAccount = z.infer<typeof emailAccount>;

export const connectionTest = z.object({
  ok: z.boolean(),
  steps: z.array(z.object({ step: z.string(), ok: z.boolean(), detail: z.string(), skipped: z.optional(z.boolean()) })),
  error: z.nullable(z.object({ code: z.string(), message: z.string(), remedy: nullableString })),
});
export type ConnectionTest = z.infer<typeof connectionTest>;

const mailAddress = z.object({ name: z.string(), address: z.string() });
export type MailAddress = z.infer<typeof mailAddress>;

export const interaction = z.object({
  id: z.number(),
  accountId: z.number(),
  subject: z.string(),
  /** The conversation's reference, `#P12-7KQX`: Postern writes it as `[#P12-7KQX]` in subjects. */
  subjectToken: nullableString,
  status: z.enum(['open', 'closed']),
  assignedUserId: z.nullable(z.number()),
  assignedUserName: nullableString,
  contact: z.object({ id: z.number(), name: nullableString, address: nullableString }),
  lastActivityAt: z.string(),
  messageCount: z.number(),
  unreadCount: z.number(),
  closedAt: nullableString,
  /** When a snoozed conversation comes back (a past time: it is back); null when not snoozed. */
  snoozedUntil: nullableString,
  createdAt: z.string(),
});
export type Interaction = z.infer<typeof interaction>;

export const interactionPage = z.object({ items: z.array(interaction), nextCursor: nullableString });
export type InteractionPage = z.infer<typeof interactionPage>;

const attachment = z.object({
  id: z.number(),
  filename: nullableString,
  contentType: z.string(),
  size: z.number(),
  contentId: nullableString,
  inline: z.boolean(),
  /** Its bytes went with the account's retention of originals. */
  removed: z.boolean(),
  url: z.string(),
});
export type Attachment = z.infer<typeof attachment>;

const problem = z.object({ code: z.string(), message: z.string(), remedy: nullableString });

/** The outbox's account of an outbound message. */
const messageDelivery = z.object({
  attempts: z.number(),
  nextAttemptAt: nullableString,
  lastAttemptAt: nullableString,
  sentAt: nullableString,
  serverResponse: nullableString,
  error: z.nullable(problem),
});
export type MessageDelivery = z.infer<typeof messageDelivery>;

const message = z.object({
  id: z.number(),
  direction: z.enum(['in', 'out']),
  messageId: nullableString,
  from: z.array(mailAddress),
  to: z.array(mailAddress),
  cc: z.array(mailAddress),
  subject: z.string(),
  text: nullableString,
  html: nullableString,
  date: nullableString,
  receivedAt: z.string(),
  read: z.boolean(),
  automated: z.object({ autoReply: z.boolean(), bounce: z.boolean(), list: z.boolean() }),
  junk: z.boolean(),
  deliveryState: nullableString,
  deliveryError: nullableString,
  /** Outbound: the display name of the agent who wrote it. */
  authorName: nullableString,
  delivery: z.nullable(messageDelivery),
  bounces: z.array(
    z.object({
      address: z.string(),
      action: z.string(),
      status: nullableString,
      diagnostic: nullableString,
      advice: z.string(),
      at: z.string(),
      reportId: z.number(),
    }),
  ),
  rawUrl: z.string(),
  /** When the account's retention removed the raw MIME; null while it is kept. */
  originalRemovedAt: nullableString,
  attachments: z.array(attachment),
});
export type Message = z.infer<typeof message>;

/** An internal note: agents to each other, never sent to the customer. */
export const note = z.object({
  id: z.number(),
  interactionId: z.number(),
  authorUserId: z.nullable(z.number()),
  authorName: nullableString,
  body: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Note = z.infer<typeof note>;

/** A colleague writing a reply now, for `expiresInMs` more unless their draft is saved again. */
const replying = z.object({ userId: z.number(), displayName: z.string(), expiresInMs: z.number() });
export type Replying = z.infer<typeof replying>;

export const interactionDetail = z.extend(interaction, {
  messages: z.array(message),
  notes: z.array(note),
  replying: z.array(replying),
});
export type InteractionDetail = z.infer<typeof interactionDetail>;

export const assignees = z.object({
  items: z.array(
    z.object({ id: z.number(), username: z.string(), displayName: z.string(), role: z.enum(['admin', 'agent']) }),
  ),
});
export type Assignees = z.infer<typeof assignees>;

export const replyRecipients = z.object({ to: z.array(mailAddress), cc: z.array(mailAddress) });
export type ReplyRecipients = z.infer<typeof replyRecipients>;

export const addressCheck = z.union([
  z.object({ ok: z.literal(true), address: mailAddress }),
  z.object({ ok: z.literal(false), problem: z.string() }),
]);
export type AddressCheck = z.infer<typeof addressCheck>;

const draftRecipients = z.object({ to: z.array(mailAddress), cc: z.array(mailAddress), bcc: z.array(mailAddress) });
export type DraftRecipients = z.infer<typeof draftRecipients>;

export const replyDraft = z.object({
  draft: z.nullable(
    z.object({
      text: z.string(),
      html: z.nullable(z.string()),
      replyAll: z.boolean(),
      recipients: z.nullable(draftRecipients),
      updatedAt: z.string(),
    }),
  ),
});
export type ReplyDraft = z.infer<typeof replyDraft>;

export const queued = z.object({ id: z.number(), interactionId: z.number(), messageId: z.string(), state: z.string() });
export type Queued = z.infer<typeof queued>;

export const outgoing = z.object({
  id: z.number(),
  interactionId: z.nullable(z.number()),
  state: nullableString,
  delivery: z.nullable(messageDelivery),
});
export type Outgoing = z.infer<typeof outgoing>;

export const diagnosis = z.object({
  at: z.string(),
  ok: z.boolean(),
  sections: z.array(
    z.object({
      subject: z.string(),
      checks: z.array(
        z.object({
          id: z.string(),
          title: z.string(),
          result: z.enum(['ok', 'warning', 'failed', 'skipped']),
          evidence: z.string(),
          remedy: z.optional(z.string()),
          code: z.optional(z.string()),
        }),
      ),
    }),
  ),
});
export type Diagnosis = z.infer<typeof diagnosis>;

export const apiToken = z.object({
  id: z.number(),
  name: z.string(),
  userId: z.number(),
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: nullableString,
  revokedAt: nullableString,
});
export type ApiToken = z.infer<typeof apiToken>;

export const createdToken = z.extend(apiToken, { token: z.string() });

export const sending = z.object({
  accountId: z.number(),
  sendPerMinute: z.number(),
  recipientsPerDay: z.number(),
  concurrency: z.number(),
  maxRecipientsPerMessage: z.number(),
  maxMessageBytes: z.number(),
  retryForHours: z.number(),
  usage: z.object({ messagesLastMinute: z.number(), recipientsLastDay: z.number() }),
  outbox: z.object({
    queued: z.number(),
    sending: z.number(),
    sent: z.number(),
    failed: z.number(),
    cancelled: z.number(),
  }),
});
export type Sending = z.infer<typeof sending>;

export const webhook = z.object({
  id: z.number(),
  url: z.string(),
  description: nullableString,
  events: z.array(z.string()),
  active: z.boolean(),
  failureCount: z.number(),
  lastSuccessAt: nullableString,
  lastFailureAt: nullableString,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Webhook = z.infer<typeof webhook>;

export const webhookWithSecret = z.extend(webhook, { secret: z.string() });

export const delivery = z.object({
  id: z.number(),
  eventId: z.number(),
  eventType: z.string(),
  state: z.enum(['pending', 'delivering', 'delivered', 'failed']),
  attempts: z.number(),
  nextAttemptAt: nullableString,
  responseStatus: z.nullable(z.number()),
  lastError: nullableString,
  deliveredAt: nullableString,
  createdAt: z.string(),
});
export type Delivery = z.infer<typeof delivery>;

export const deliveryPage = z.object({ items: z.array(delivery), nextBefore: z.nullable(z.number()) });

/** `POST /api/cloudProviders/:id/adminConsent`. */
export const adminConsentReply = z.object({ url: z.string(), expiresAt: z.string() });
