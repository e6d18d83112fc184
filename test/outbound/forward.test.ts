/**
 * Forwards and new messages through the API, sent by the dispatcher to the emulator: a forward
 * carries the original's attachments byte for byte (read back from the stored raw MIME), quotes it
 * as a forwarded block, threads in its conversation, and is refused for a message of another
 * conversation, an attachment of another message, or an account not assigned to the agent; a new
 * message opens a conversation the agent sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import {
  CONTOSO,
  createAccount,
  dispatchUntilIdle,
  receive,
  sink,
  startOutbound,
  type OutboundHarness,
} from './helpers.js';

let h: OutboundHarness;
let andreaAccount: number;
const CUSTOMER = 'ada.lovelace@fabrikam.example';
const SUPPLIER = 'orders@northwind.example';
/** Every byte value, so that an encoding slip shows. */
const PDF = Buffer.from([...Array.from({ length: 256 }, (_, i) => i), ...Buffer.from('%PDF-1.7 invoice')]);
const NOTES = Buffer.from('line one\r\nline two\r\n');

const conversation = z.object({
  id: z.number(),
  subjectToken: z.string().nullable(),
  assignedUserId: z.number().nullable(),
  messages: z.array(
    z.object({
      id: z.number(),
      direction: z.enum(['in', 'out']),
      subject: z.string(),
      references: z.array(z.string()).optional(),
      attachments: z.array(z.object({ id: z.number(), filename: z.string().nullable() })),
    }),
  ),
});

beforeAll(async () => {
  h = await startOutbound();
  andreaAccount = await createAccount(h, { key: 'AND', name: 'Andrea at Contoso', emailAddress: CONTOSO.andrea.upn });
});
afterAll(async () => h.close());

async function view(interactionId: number): Promise<z.infer<typeof conversation>> {
  const response = await h.api('GET', `/api/interactions/${interactionId}`);
  expect(response.statusCode, response.body).toBe(200);
  return conversation.parse(response.json());
}

async function customerMessage(subject: string, messageId: string): Promise<{ interactionId: number; id: number }> {
  const received = await receive(h, andreaAccount, {
    from: `Ada Lovelace <${CUSTOMER}>`,
    to: CONTOSO.andrea.upn,
    subject,
    text: 'The invoice and my notes are attached.',
    messageId,
    attachments: [
      { filename: 'invoice.pdf', contentType: 'application/pdf', contentBase64: PDF.toString('base64') },
      { filename: 'notes.txt', contentType: 'text/plain', contentBase64: NOTES.toString('base64') },
    ],
  });
  return { interactionId: received.interactionId, id: received.messageRowId };
}

describe('a forward', () => {
  it('carries the attachments intact, quotes the original, threads in its conversation as Fw:', async () => {
    const original = await customerMessage('FW: RE: Invoice 77', '<invoice77@fabrikam.example>');
    const queued = await h.api('POST', `/api/interactions/${original.interactionId}/forward`, {
      messageId: original.id,
      to: [{ name: 'Northwind orders', address: SUPPLIER }],
      text: 'Could you check this invoice?',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const answer = queued.json<{ id: number; interactionId: number; messageId: string }>();
    expect(answer.interactionId).toBe(original.interactionId);

    await dispatchUntilIdle(h);
    const [out] = await sink(h, SUPPLIER);
    if (out?.raw === undefined) throw new Error('the supplier received nothing');
    expect(out.envelopeFrom).toBe(CONTOSO.andrea.upn);
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.from).toEqual([{ name: 'Andrea at Contoso', address: CONTOSO.andrea.upn }]);
    expect(parsed.subject).toMatch(/^Fw: Invoice 77 \[#P\d+-[0-9A-Z]{4}\]$/);
    expect(parsed.references).toEqual(['<invoice77@fabrikam.example>']);
    expect(parsed.inReplyTo).toEqual([]);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['invoice.pdf', 'notes.txt']);
    expect(parsed.attachments[0]?.content.equals(PDF)).toBe(true);
    expect(parsed.attachments[1]?.content.equals(NOTES)).toBe(true);
    const text = parsed.text ?? '';
    expect(text.indexOf('Could you check this invoice?')).toBe(0);
    expect(text).toContain('---------- Forwarded message ----------');
    expect(text).toContain(`From: Ada Lovelace <${CUSTOMER}>`);
    expect(text).toContain('Subject: FW: RE: Invoice 77');
    expect(text).toContain(`To: ${CONTOSO.andrea.upn}`);
    expect(text).toMatch(/Date: \w{3}, \d{2} \w{3} \d{4}/);
    expect(text).toContain('The invoice and my notes are attached.');

    const after = await view(original.interactionId);
    const recorded = after.messages.find((m) => m.id === answer.id);
    expect(recorded).toMatchObject({ direction: 'out', subject: parsed.subject });
    expect(recorded?.attachments.map((a) => a.filename)).toEqual(['invoice.pdf', 'notes.txt']);
    // Forwarding an unassigned conversation gives it to whoever forwarded it, as a reply does.
    expect(after.assignedUserId).not.toBeNull();
  });

  it('leaves out the attachments the agent removed, and takes the subject the agent wrote', async () => {
    const original = await customerMessage('Invoice 78', '<invoice78@fabrikam.example>');
    const stored = (await view(original.interactionId)).messages.find((m) => m.id === original.id);
    const notes = stored?.attachments.find((a) => a.filename === 'notes.txt');
    if (notes === undefined) throw new Error('the notes are not stored');
    const queued = await h.api('POST', `/api/interactions/${original.interactionId}/forward`, {
      messageId: original.id,
      to: ['buyer@northwind.example'],
      subject: 'Fw: the notes only',
      attachmentIds: [notes.id],
    });
    expect(queued.statusCode, queued.body).toBe(202);
    await dispatchUntilIdle(h);
    const [out] = await sink(h, 'buyer@northwind.example');
    if (out?.raw === undefined) throw new Error('the buyer received nothing');
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.subject).toMatch(/^Fw: the notes only \[#P\d+-[0-9A-Z]{4}\]$/);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['notes.txt']);
    expect(parsed.attachments[0]?.content.equals(NOTES)).toBe(true);
    expect(out.raw).not.toContain(PDF.subarray(200, 256).toString('base64').slice(0, 20));
  });

  it('refuses a message of another conversation, an attachment of another message, and no recipient', async () => {
    const first = await customerMessage('Invoice 79', '<invoice79@fabrikam.example>');
    const second = await customerMessage('Invoice 80', '<invoice80@fabrikam.example>');
    const foreign = (await view(second.interactionId)).messages[0]?.attachments[0];
    if (foreign === undefined) throw new Error('no attachment stored');

    const otherMessage = await h.api('POST', `/api/interactions/${first.interactionId}/forward`, {
      messageId: second.id,
      to: [SUPPLIER],
    });
    expect(otherMessage.statusCode).toBe(400);
    expect(otherMessage.json().error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { fields: [{ field: 'messageId', problem: `there is no message ${second.id} in this conversation` }] },
    });

    const otherAttachment = await h.api('POST', `/api/interactions/${first.interactionId}/forward`, {
      messageId: first.id,
      to: [SUPPLIER],
      attachmentIds: [foreign.id],
    });
    expect(otherAttachment.statusCode).toBe(400);
    expect(otherAttachment.json().error.details.fields).toEqual([
      { field: 'attachmentIds[0]', problem: `message ${first.id} has no attachment ${foreign.id}` },
    ]);

    const nobody = await h.api('POST', `/api/interactions/${first.interactionId}/forward`, { to: [] });
    expect(nobody.statusCode).toBe(400);
    expect((await h.api('POST', '/api/interactions/999999/forward', { to: [SUPPLIER] })).statusCode).toBe(404);
    expect(await sink(h, SUPPLIER)).toHaveLength(1);
  });

  it("is refused for an agent on another account's conversation (404, as if it did not exist)", async () => {
    const original = await customerMessage('Invoice 81', '<invoice81@fabrikam.example>');
    const agent = await h.pair.postern.bearer('agent', 'agent-forward');
    const refused = await h.api(
      'POST',
      `/api/interactions/${original.interactionId}/forward`,
      { to: [SUPPLIER] },
      { authorization: agent.authorization },
    );
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('RESOURCE_NOT_FOUND');
  });
});

describe('a new message from the inbox', () => {
  it('opens a conversation with its reference on an account assigned to the agent, and only there', async () => {
    const agent = await h.pair.postern.bearer('agent', 'agent-new-mail');
    const mine = await createAccount(h, {
      key: 'NEW',
      emailAddress: 'developers@contoso.com',
      modernAuthEmail: CONTOSO.andrea.upn,
      agentIds: [agent.userId],
    });
    const headers = { authorization: agent.authorization };
    const body = { to: ['lead@tailspin.example'], cc: ['cto@tailspin.example'], subject: 'Our offer', text: 'Hello.' };
    const queued = await h.api('POST', `/api/email/accounts/${mine}/messages`, body, headers);
    expect(queued.statusCode, queued.body).toBe(202);
    const { interactionId } = queued.json<{ interactionId: number }>();
    const seen = await h.api('GET', `/api/interactions/${interactionId}`, undefined, headers);
    expect(seen.statusCode).toBe(200);
    const opened = conversation.parse(seen.json());
    expect(opened.subjectToken).toMatch(/^#P\d+-[0-9A-Z]{4}$/);
    expect(opened.messages.map((m) => m.subject)).toEqual([`Our offer [${opened.subjectToken ?? ''}]`]);

    const refused = await h.api('POST', `/api/email/accounts/${andreaAccount}/messages`, body, headers);
    expect(refused.statusCode).toBe(404);
    await dispatchUntilIdle(h);
    expect((await sink(h, 'cto@tailspin.example')).map((m) => m.subject)).toEqual([
      `Our offer [${opened.subjectToken ?? ''}]`,
    ]);
  });
});
