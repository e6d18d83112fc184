import { z } from 'zod';

/**
 * Request and response shapes of the outbound routes. Addresses are checked by the send service
 * (RFC 5322 addr-spec with IDN, see domain/outbound-address.ts) so that every refusal names its
 * field the same way; here only their shape is.
 */
const addressInput = z.union([
  z.string().max(320, 'must be at most 320 characters'),
  z.object({
    name: z.string().max(256, 'must be at most 256 characters').nullable().optional(),
    address: z.string().max(320, 'must be at most 320 characters'),
  }),
]);

const addressList = z.array(addressInput).max(1000, 'may hold at most 1000 addresses');

const attachmentInput = z.object({
  filename: z.string().max(255, 'must be at most 255 characters'),
  contentType: z.string().max(255).nullable().optional(),
  contentBase64: z.string(),
  contentId: z.string().max(250).nullable().optional(),
  inline: z.boolean().optional(),
});

const body = {
  text: z.string().max(10_000_000, 'must be at most 10,000,000 characters').nullable().optional(),
  html: z.string().max(20_000_000, 'must be at most 20,000,000 characters').nullable().optional(),
  attachments: z
    .array(attachmentInput)
    .max(250, "may hold at most 250 attachments (Exchange Online's limit)")
    .optional(),
  autoSubmitted: z.enum(['no', 'auto-generated', 'auto-replied']).optional(),
};

export const replyBody = z
  .object({
    ...body,
    replyAll: z.boolean().optional(),
    close: z.boolean().optional().describe('close the conversation once the reply is queued ("Send and close")'),
    quote: z.boolean().optional(),
    inReplyToMessageId: z.number().int().positive().optional(),
    to: addressList.optional(),
    cc: addressList.optional(),
    bcc: addressList.optional(),
  })
  .strict();

export const forwardBody = z
  .object({
    ...body,
    messageId: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("the message forwarded, of this conversation; default the conversation's latest message"),
    to: addressList.min(1, 'name at least one recipient'),
    cc: addressList.optional(),
    bcc: addressList.optional(),
    subject: z
      .string()
      .max(998, 'must be at most 998 characters')
      .optional()
      .describe("default 'Fw: ' and the forwarded message's topic; the conversation's reference is added either way"),
    attachmentIds: z
      .array(z.number().int().positive())
      .max(250, "may hold at most 250 attachments (Exchange Online's limit)")
      .optional()
      .describe(
        "the forwarded message's attachments that go with it; default all those shown as files (not inline images); [] none",
      ),
  })
  .strict();

export const newMessageBody = z
  .object({
    ...body,
    to: addressList.min(1, 'name at least one recipient'),
    cc: addressList.optional(),
    bcc: addressList.optional(),
    subject: z.string().max(998, 'must be at most 998 characters'),
    interactionId: z.number().int().positive().optional(),
  })
  .strict();

export const sendingPatch = z
  .object({
    sendPerMinute: z.number().int().min(1).max(10_000).optional(),
    recipientsPerDay: z.number().int().min(1).max(1_000_000).optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    maxRecipientsPerMessage: z.number().int().min(1).max(1000, 'Exchange Online allows at most 1000').optional(),
    maxMessageBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(150 * 1024 * 1024, 'Exchange Online allows at most 150 MB')
      .optional(),
    retryForHours: z
      .number()
      .int()
      .min(0)
      .max(24 * 14)
      .optional(),
  })
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'name at least one field to change');

export const queuedReply = z.object({
  id: z.number().int(),
  interactionId: z.number().int(),
  messageId: z.string(),
  state: z.string(),
});

export const sendingReply = z.object({
  accountId: z.number().int(),
  sendPerMinute: z.number().int(),
  recipientsPerDay: z.number().int(),
  concurrency: z.number().int(),
  maxRecipientsPerMessage: z.number().int(),
  maxMessageBytes: z.number().int(),
  retryForHours: z.number().int(),
  usage: z.object({ messagesLastMinute: z.number().int(), recipientsLastDay: z.number().int() }),
  outbox: z.object({
    queued: z.number().int(),
    sending: z.number().int(),
    sent: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
  hold: z
    .object({
      until: z.string().describe('ISO 8601: when the account sends again'),
      code: z.string().describe('SMTP_SENDER_THROTTLED'),
      message: z.string(),
      remedy: z.string().nullable(),
    })
    .nullable()
    .describe("Sending held because Exchange throttles the mailbox's SMTP AUTH submissions; null when not held"),
});

const storedAddress = z.object({ name: z.string(), address: z.string() });

export const recipientsQuery = z.object({
  replyAll: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

export const recipientsReply = z.object({
  to: z.array(storedAddress),
  cc: z.array(storedAddress),
});

export const checkAddressBody = z.object({ address: addressInput }).strict();

export const checkAddressReply = z.union([
  z.object({ ok: z.literal(true), address: storedAddress }),
  z.object({ ok: z.literal(false), problem: z.string() }),
]);
