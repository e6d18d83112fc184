/**
 * Control API routes of the Exchange half, as a fastify plugin the emulator's control API
 * registers (under its `/_emulator` prefix and token check):
 *
 * - `POST   /exchange/messages` — deliver a message as an external sender would (raw MIME or fields)
 * - `GET    /exchange/mailboxes/:address/folders` — folders with UIDVALIDITY, UIDNEXT, counts
 * - `GET    /exchange/mailboxes/:address/folders/:folder/messages` — messages (`?raw=true` adds the MIME)
 * - `POST   /exchange/mailboxes/:address/folders/:folder/messages/:uid/flags` — set / add / remove flags
 * - `DELETE /exchange/mailboxes/:address/folders/:folder/messages/:uid` — remove a message
 * - `POST   /exchange/mailboxes/:address/folders/:folder/uidvalidity` — a new UIDVALIDITY, UIDs from 1, sessions cut
 * - `GET|DELETE /exchange/sent` — accepted submissions; `GET|DELETE /exchange/sink` — mail that left the tenant
 * - `POST|DELETE /exchange/undeliverable` — outside addresses that bounce (`{ address, status?, diagnostic? }`):
 *   submissions to them come back as a non-delivery report in the sender's Inbox, as an address of a
 *   tenant's domain that no recipient has always does (550 5.1.10 RecipientNotFound)
 * - `POST   /exchange/faults/imap/drop`, `PUT /exchange/faults/imap/drop-every`, `PUT /exchange/faults/imap/delay`,
 *   `POST /exchange/faults/imap/drop-after-login`, `POST /exchange/faults/imap/omit-fetch`, `POST /exchange/faults/imap/throttle`, `POST /exchange/faults/smtp`, `PUT /exchange/faults/smtp/delay`,
 *   `POST /exchange/faults/smtp/sender-throttle` (a mailbox's SMTP AUTH submissions answered `550 5.2.25x Sender throttled` for `seconds`),
 *   `POST /exchange/faults/imap/silent-idle` (`{ mailbox }`: IDLE on the sessions open now announces nothing, no BYE),
 *   `PUT /exchange/faults/smtp/send-as-denial` (`{ form: '5.2.252' | '5.7.60' | '5.2.0' }`: how Send As denials are worded),
 *   `PUT /exchange/faults/smtp/sender-throttle/send-as-denials` (`{ after, seconds? }`: throttled by itself after `after` Send As denials in a row; `after: null` off),
 *   `GET|DELETE /exchange/faults`
 * - `GET|PUT /exchange/settings/basic-auth` — whether IMAP/SMTP take passwords (off: Exchange Online)
 * - `GET /exchange/settings/max-send-size`, `PUT /exchange/settings/max-send-size` (`{ mailbox, bytes }`:
 *   `Set-Mailbox -MaxSendSize`, `bytes: null` removes it; or `{ form: '5.3.4' | '5.2.0' }`: the SMTP refusal's wording)
 * - `GET|PUT /exchange/settings/imap-rendering` (`{ mailbox, exactRfc822Size?, rerender? }`): RFC822.SIZE exact
 *   (`Set-CASMailbox -ImapEnableExactRFC822Size $true`) instead of Exchange's estimate, and MIME served
 *   re-rendered with Exchange's added header fields (see imap-rendering.ts)
 * - `POST   /exchange/clock-changed` — apply a moved clock (token-expiry BYEs, due deliveries)
 * - `GET    /exchange/status` — endpoints and connection counts (`?mailbox=` one mailbox's IMAP sessions)
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { ExchangeService } from './exchange-service.js';
import { SEND_AS_DENIAL_FORMS, SENDER_THROTTLE_KINDS } from './faults.js';
import { MAX_SEND_SIZE_CEILING, MAX_SEND_SIZE_FORMS } from './send-size-limits.js';
import type { MailFolder } from './mail-folder.js';
import { canonicalFlag, type MessageFlag } from './message-flags.js';
import type { SentRecord, SinkMessage } from './mail-router.js';
import type { StoredMessage } from './stored-message.js';

const addressList = z
  .union([z.string().min(1), z.array(z.string().min(1))])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const silentIdleBody = z.object({ mailbox: z.string().min(1) }).strict();

const sendAsDenialBody = z.object({ form: z.enum(SEND_AS_DENIAL_FORMS) }).strict();

const undeliverableBody = z.object({
  address: z.string().min(3).max(320),
  /** Enhanced status code, e.g. `5.1.1`, `5.7.1`, `4.4.7`. */
  status: z
    .string()
    .regex(/^[245]\.\d{1,3}\.\d{1,3}$/)
    .optional(),
  /** The remote server's answer, as the report quotes it. */
  diagnostic: z.string().min(1).max(500).optional(),
});

const deliverBody = z
  .object({
    /** Envelope recipients; defaults to To + Cc (+ Bcc). */
    to: addressList.optional(),
    cc: addressList.optional(),
    bcc: addressList.optional(),
    from: z.string().min(1).default('sender@external.example'),
    subject: z.string().optional(),
    text: z.string().optional(),
    html: z.string().optional(),
    messageId: z.string().optional(),
    inReplyTo: z.string().optional(),
    references: z.string().optional(),
    date: z.string().datetime().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    attachments: z
      .array(z.object({ filename: z.string(), contentType: z.string().optional(), contentBase64: z.string() }))
      .optional(),
    /** The complete message instead of fields (RFC 5322 text, or base64 for 8-bit content). */
    raw: z.string().optional(),
    rawBase64: z.string().optional(),
    /** Put the message straight into this mailbox's folder instead of routing it. */
    mailbox: z.string().optional(),
    folder: z.string().default('Inbox'),
    flags: z.array(z.string()).default([]),
    internalDate: z.string().datetime().optional(),
  })
  .refine((b) => b.raw !== undefined || b.rawBase64 !== undefined || b.to !== undefined || b.mailbox !== undefined, {
    message: 'give `to` (or `mailbox`), or a raw message',
  });

const flagsBody = z.object({
  set: z.array(z.string()).optional(),
  add: z.array(z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
const dropBody = z.object({ mailbox: z.string().optional() });
const dropAfterLoginBody = z
  .object({
    count: z.number().int().positive().default(1),
    mailbox: z.string().optional(),
    command: z
      .string()
      .regex(/^[A-Za-z]+$/)
      .optional(),
  })
  .strict();
const omitFetchBody = z
  .object({
    uid: z.number().int().positive(),
    count: z.number().int().positive().default(1),
    mailbox: z.string().optional(),
  })
  .strict();
const dropEveryBody = z.object({ seconds: z.number().positive().nullable() });
const delayBody = z.object({ ms: z.number().int().min(0).max(120_000) });
const throttleBody = z.object({
  count: z.number().int().positive(),
  backoffMs: z.number().int().min(0).default(256_625),
  mailbox: z.string().optional(),
  status: z.enum(['NO', 'BAD']).default('NO'),
  bye: z.boolean().default(false),
});
/** Strict: a misspelt protocol is an error, not a silent no-op. */
const basicAuthBody = z.object({ imap: z.boolean().optional(), smtp: z.boolean().optional() }).strict();
const imapRenderingBody = z
  .object({
    mailbox: z.string().min(1),
    /** `Set-CASMailbox -ImapEnableExactRFC822Size`: RFC822.SIZE is the served length, not an estimate. */
    exactRfc822Size: z.boolean().optional(),
    /** Serve the mailbox's messages re-rendered as Exchange does (added X-MS-* header fields). */
    rerender: z.boolean().optional(),
  })
  .strict();
const maxSendSizeBody = z.union([
  z
    .object({
      mailbox: z.string().min(3).max(320),
      bytes: z.number().int().min(1).max(MAX_SEND_SIZE_CEILING).nullable(),
    })
    .strict(),
  z.object({ form: z.enum(MAX_SEND_SIZE_FORMS) }).strict(),
]);
const smtpFaultBody = z.object({
  count: z.number().int().positive(),
  code: z.number().int().min(400).max(499).default(421),
  text: z.string().optional(),
});

const senderThrottleBody = z
  .object({
    mailbox: z.string().min(1),
    kind: z.enum(SENDER_THROTTLE_KINDS),
    seconds: z.number().int().positive(),
  })
  .strict();

/** `after: null` turns the automatic rule off. */
const sendAsThrottleBody = z
  .object({
    after: z.number().int().positive().nullable(),
    seconds: z.number().int().positive().default(3600),
  })
  .strict();

const DEFAULT_SMTP_FAULT_TEXT: Record<number, string> = {
  421: '4.3.2 Service not available, closing transmission channel',
  450: '4.2.0 Mailbox unavailable',
  451: '4.3.0 Temporary server error. Please try again later',
  452: '4.3.1 Insufficient system resources',
};

/** The routes, bound to one Exchange service; register them in the control API's authenticated scope. */
export function exchangeControlRoutes(service: ExchangeService): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.post('/exchange/messages', async (request, reply) => {
      const body = parse(deliverBody, request.body, reply);
      if (!body) return reply;
      const raw = await composeMessage(body, service.clock.now());
      if (body.mailbox !== undefined) {
        const folder = service.store.mailbox(body.mailbox).byName(body.folder);
        if (!folder) return notFound(reply, `folder ${body.folder} not found in ${body.mailbox}`);
        const stored = service.store.append(body.mailbox, folder, raw, {
          flags: body.flags,
          internalDate: body.internalDate === undefined ? undefined : new Date(body.internalDate),
        });
        return reply.code(201).send({
          delivered: [
            {
              mailbox: body.mailbox.toLowerCase(),
              folder: folder.name,
              uid: stored.uid,
              uidValidity: folder.uidValidity,
              id: stored.id,
            },
          ],
          external: [],
        });
      }
      const recipients = [...(body.to ?? []), ...(body.cc ?? []), ...(body.bcc ?? [])];
      const report = service.router.deliver({ envelopeFrom: body.from, recipients, raw });
      const delivered = report.delivered.map((d) => {
        const inbox = service.store.mailbox(d.mailbox).wellKnown('inbox');
        return {
          mailbox: d.mailbox,
          folder: inbox.name,
          uid: d.uid,
          uidValidity: inbox.uidValidity,
          id: inbox.get(d.uid)?.id,
        };
      });
      return reply.code(201).send({ delivered, external: report.external });
    });

    app.get<{ Params: { address: string } }>('/exchange/mailboxes/:address/folders', async (request) => {
      return { folders: service.store.mailbox(request.params.address).all.map(presentFolder) };
    });

    app.get<{ Params: { address: string; folder: string }; Querystring: { raw?: string } }>(
      '/exchange/mailboxes/:address/folders/:folder/messages',
      async (request, reply) => {
        const folder = service.store.mailbox(request.params.address).byName(request.params.folder);
        if (!folder) return notFound(reply, `folder ${request.params.folder} not found`);
        return {
          folder: presentFolder(folder),
          messages: folder.messages.map((m) => presentMessage(m, request.query.raw === 'true')),
        };
      },
    );

    app.post<{ Params: { address: string; folder: string; uid: string } }>(
      '/exchange/mailboxes/:address/folders/:folder/messages/:uid/flags',
      async (request, reply) => {
        const body = parse(flagsBody, request.body, reply);
        if (!body) return reply;
        const folder = service.store.mailbox(request.params.address).byName(request.params.folder);
        const uid = Number(request.params.uid);
        const message = folder?.get(uid);
        if (!folder || !message) return notFound(reply, 'message not found');
        const toFlags = (list: string[] | undefined): MessageFlag[] =>
          (list ?? []).map((f) => canonicalFlag(f)).filter((f): f is MessageFlag => f !== undefined);
        const address = request.params.address;
        if (body.set !== undefined) service.store.setFlags(address, folder, [uid], 'replace', toFlags(body.set));
        if (body.add !== undefined) service.store.setFlags(address, folder, [uid], 'add', toFlags(body.add));
        if (body.remove !== undefined) service.store.setFlags(address, folder, [uid], 'remove', toFlags(body.remove));
        return presentMessage(message, false);
      },
    );

    app.post<{ Params: { address: string; folder: string } }>(
      '/exchange/mailboxes/:address/folders/:folder/uidvalidity',
      async (request, reply) => {
        const { address, folder: name } = request.params;
        if (!service.store.mailbox(address).byName(name)) return notFound(reply, `folder ${name} not found`);
        const folder = service.store.renewUidValidity(address, name);
        // The mailbox moved: its sessions are cut, as the move cuts them (no BYE).
        const dropped = service.imap.dropConnections(address);
        return { folder: presentFolder(folder), dropped };
      },
    );

    app.delete<{ Params: { address: string; folder: string; uid: string } }>(
      '/exchange/mailboxes/:address/folders/:folder/messages/:uid',
      async (request, reply) => {
        const folder = service.store.mailbox(request.params.address).byName(request.params.folder);
        if (!folder) return notFound(reply, 'folder not found');
        const removed = service.store.expunge(request.params.address, folder, {
          uids: [Number(request.params.uid)],
          force: true,
        });
        if (removed.length === 0) return notFound(reply, 'message not found');
        return reply.code(204).send();
      },
    );

    app.get<{ Querystring: { raw?: string; mailbox?: string } }>('/exchange/sent', async (request) => {
      service.smtp.queue.flushDue();
      const due = service.smtp.queue.dueTimes();
      const mailbox = request.query.mailbox?.toLowerCase();
      const records = service.router.sent.filter((r) => mailbox === undefined || r.mailbox === mailbox);
      return { sent: records.map((r) => presentSent(r, due.get(r.id) ?? null, request.query.raw === 'true')) };
    });

    app.delete('/exchange/sent', async (_request, reply) => {
      service.router.clearSent();
      return reply.code(204).send();
    });

    app.get<{ Querystring: { raw?: string; to?: string } }>('/exchange/sink', async (request) => {
      const to = request.query.to?.toLowerCase();
      const messages = service.router.sink.filter((m) => to === undefined || m.recipients.includes(to));
      return { messages: messages.map((m) => presentSink(m, request.query.raw === 'true')) };
    });

    app.delete('/exchange/sink', async (_request, reply) => {
      service.router.clearSink();
      return reply.code(204).send();
    });

    app.post('/exchange/faults/imap/silent-idle', async (request, reply) => {
      const body = parse(silentIdleBody, request.body, reply);
      if (!body) return reply;
      service.faults.silenceIdle(body.mailbox);
      return reply.code(204).send();
    });

    app.put('/exchange/faults/smtp/send-as-denial', async (request, reply) => {
      const body = parse(sendAsDenialBody, request.body, reply);
      if (!body) return reply;
      service.faults.sendAsDenialForm = body.form;
      return { form: body.form };
    });

    app.post('/exchange/undeliverable', async (request, reply) => {
      const body = parse(undeliverableBody, request.body ?? {}, reply);
      if (!body) return reply;
      service.router.setUndeliverable(body.address, {
        ...(body.status === undefined ? {} : { status: body.status }),
        ...(body.diagnostic === undefined ? {} : { diagnostic: body.diagnostic }),
      });
      return reply.code(204).send();
    });

    app.delete('/exchange/undeliverable', async (_request, reply) => {
      service.router.clearUndeliverable();
      return reply.code(204).send();
    });

    app.post('/exchange/faults/imap/drop', async (request, reply) => {
      const body = parse(dropBody, request.body ?? {}, reply);
      if (!body) return reply;
      return { dropped: service.imap.dropConnections(body.mailbox) };
    });

    app.post('/exchange/faults/imap/drop-after-login', async (request, reply) => {
      const body = parse(dropAfterLoginBody, request.body ?? {}, reply);
      if (!body) return reply;
      service.faults.dropImapAfterLogin(body);
      return service.faults.pending();
    });

    app.post('/exchange/faults/imap/omit-fetch', async (request, reply) => {
      const body = parse(omitFetchBody, request.body, reply);
      if (!body) return reply;
      service.faults.omitImapFetch(body);
      return service.faults.pending();
    });

    app.put('/exchange/faults/imap/drop-every', async (request, reply) => {
      const body = parse(dropEveryBody, request.body, reply);
      if (!body) return reply;
      service.imap.dropEvery(body.seconds);
      return { seconds: body.seconds };
    });

    app.put('/exchange/faults/imap/delay', async (request, reply) => {
      const body = parse(delayBody, request.body, reply);
      if (!body) return reply;
      service.faults.imapDelayMs = body.ms;
      return { ms: body.ms };
    });

    app.post('/exchange/faults/imap/throttle', async (request, reply) => {
      const body = parse(throttleBody, request.body, reply);
      if (!body) return reply;
      service.faults.throttleImap(body);
      return service.faults.pending();
    });

    app.post('/exchange/faults/smtp', async (request, reply) => {
      const body = parse(smtpFaultBody, request.body, reply);
      if (!body) return reply;
      service.faults.failSmtp({
        count: body.count,
        code: body.code,
        text: body.text ?? DEFAULT_SMTP_FAULT_TEXT[body.code] ?? '4.3.2 Temporary server error',
      });
      return service.faults.pending();
    });

    app.post('/exchange/faults/smtp/sender-throttle', async (request, reply) => {
      const body = parse(senderThrottleBody, request.body, reply);
      if (!body) return reply;
      service.faults.throttleSender({
        mailbox: body.mailbox,
        kind: body.kind,
        until: service.clock.now() + body.seconds * 1000,
      });
      return { senderThrottles: service.faults.senderThrottleStates() };
    });

    app.put('/exchange/faults/smtp/sender-throttle/send-as-denials', async (request, reply) => {
      const body = parse(sendAsThrottleBody, request.body, reply);
      if (!body) return reply;
      service.faults.throttleAfterSendAsDenials(
        body.after === null ? null : { after: body.after, seconds: body.seconds },
      );
      return { rule: service.faults.sendAsThrottleRule };
    });

    app.put('/exchange/faults/smtp/delay', async (request, reply) => {
      const body = parse(delayBody, request.body, reply);
      if (!body) return reply;
      service.faults.smtpDelayMs = body.ms;
      return { ms: body.ms };
    });

    app.get('/exchange/faults', async () => ({
      ...service.faults.pending(),
      imapDelayMs: service.faults.imapDelayMs,
      smtpDelayMs: service.faults.smtpDelayMs,
      senderThrottles: service.faults.senderThrottleStates(),
      sendAsThrottleRule: service.faults.sendAsThrottleRule,
      imapDropEvery: service.imap.dropInterval,
    }));

    app.delete('/exchange/faults', async (_request, reply) => {
      service.faults.clear();
      service.imap.dropEvery(null);
      return reply.code(204).send();
    });

    app.get('/exchange/settings/basic-auth', async () => service.basicAuth.snapshot());

    app.put('/exchange/settings/basic-auth', async (request, reply) => {
      const body = parse(basicAuthBody, request.body, reply);
      if (!body) return reply;
      return service.basicAuth.update(body);
    });

    app.get('/exchange/settings/max-send-size', async () => service.sendSize.snapshot());

    app.put('/exchange/settings/max-send-size', async (request, reply) => {
      const body = parse(maxSendSizeBody, request.body, reply);
      if (!body) return reply;
      if ('form' in body) service.sendSize.form = body.form;
      else service.sendSize.set(body.mailbox, body.bytes);
      return service.sendSize.snapshot();
    });

    app.get('/exchange/settings/imap-rendering', async () => service.imapRendering.snapshot());

    app.put('/exchange/settings/imap-rendering', async (request, reply) => {
      const body = parse(imapRenderingBody, request.body, reply);
      if (!body) return reply;
      if (body.exactRfc822Size !== undefined) service.imapRendering.setExactSize(body.mailbox, body.exactRfc822Size);
      if (body.rerender !== undefined) service.imapRendering.setRerender(body.mailbox, body.rerender);
      return service.imapRendering.snapshot();
    });

    app.post('/exchange/clock-changed', async () => service.onClockChanged());

    app.get<{ Querystring: { mailbox?: string } }>('/exchange/status', async (request) => ({
      ...service.endpoints,
      // `?mailbox=` counts that mailbox's sessions only.
      imapConnections: service.imap.connectionCount(request.query.mailbox),
      queuedDeliveries: service.smtp.queue.size,
    }));
  };
}

function parse<T extends z.ZodType>(schema: T, body: unknown, reply: FastifyReply): z.infer<T> | undefined {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  // The control API's error shape: { error: { code, message } }.
  const message = result.error.issues
    .map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  void reply.code(400).send({ error: { code: 'invalid', message } });
  return undefined;
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ error: { code: 'not-found', message } });
}

async function composeMessage(body: z.infer<typeof deliverBody>, now: number): Promise<Buffer> {
  if (body.rawBase64 !== undefined) return Buffer.from(body.rawBase64, 'base64');
  if (body.raw !== undefined) return Buffer.from(body.raw.replace(/\r?\n/g, '\r\n'), 'utf8');
  const composer = new MailComposer({
    from: body.from,
    to: body.to,
    cc: body.cc,
    subject: body.subject ?? '',
    text: body.text ?? (body.html === undefined ? '' : undefined),
    html: body.html,
    messageId: body.messageId,
    inReplyTo: body.inReplyTo,
    references: body.references,
    date: body.date === undefined ? new Date(now) : new Date(body.date),
    headers: body.headers,
    attachments: body.attachments?.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: Buffer.from(a.contentBase64, 'base64'),
    })),
  });
  return composer.compile().build();
}

function presentFolder(folder: MailFolder): Record<string, unknown> {
  return {
    id: folder.id,
    name: folder.name,
    wellKnownName: folder.wellKnown ?? null,
    specialUse: folder.specialUse ?? null,
    uidValidity: folder.uidValidity,
    uidNext: folder.uidNext,
    messages: folder.size,
    unseen: folder.unseen,
    subscribed: folder.subscribed,
  };
}

function presentMessage(message: StoredMessage, withRaw: boolean): Record<string, unknown> {
  const content = message.content;
  return {
    id: message.id,
    uid: message.uid,
    flags: [...message.flags],
    internalDate: message.internalDate.toISOString(),
    size: content.size,
    messageId: content.header('message-id') ?? null,
    subject: content.header('subject') ?? null,
    from: content.header('from') ?? null,
    ...(withRaw ? { raw: content.raw.toString('utf8') } : {}),
  };
}

function presentSent(record: SentRecord, deliverAt: number | null, withRaw: boolean): Record<string, unknown> {
  return {
    id: record.id,
    via: record.via,
    mailbox: record.mailbox,
    envelopeFrom: record.envelopeFrom,
    recipients: record.recipients,
    messageId: record.content.header('message-id') ?? null,
    subject: record.content.header('subject') ?? null,
    from: record.content.header('from') ?? null,
    acceptedAt: new Date(record.acceptedAt).toISOString(),
    state: record.deliveredAt === null ? 'queued' : 'delivered',
    deliverAt: deliverAt === null ? null : new Date(deliverAt).toISOString(),
    deliveredAt: record.deliveredAt === null ? null : new Date(record.deliveredAt).toISOString(),
    sentItemsUid: record.sentItemsUid,
    ...(withRaw ? { raw: record.content.raw.toString('utf8') } : {}),
  };
}

function presentSink(message: SinkMessage, withRaw: boolean): Record<string, unknown> {
  return {
    id: message.id,
    receivedAt: new Date(message.receivedAt).toISOString(),
    envelopeFrom: message.envelopeFrom,
    recipients: message.recipients,
    messageId: message.content.header('message-id') ?? null,
    subject: message.content.header('subject') ?? null,
    from: message.content.header('from') ?? null,
    ...(withRaw ? { raw: message.content.raw.toString('utf8') } : {}),
  };
}
