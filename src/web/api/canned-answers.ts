/** Canned answers, the own signature, and what the reply composer of a conversation inserts. */
import * as z from 'zod/mini';
import { request, send } from './client.js';

export const cannedAnswer = z.object({
  id: z.number(),
  title: z.string(),
  body: z.string(),
  shared: z.boolean(),
  ownerUserId: z.nullable(z.number()),
  /** Placeholders in the body Postern does not know: left as typed when inserted. */
  unknownPlaceholders: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type CannedAnswer = z.infer<typeof cannedAnswer>;

const signatureReply = z.object({ signature: z.nullable(z.string()) });

export const composerInserts = z.object({
  signature: z.nullable(z.string()),
  answers: z.array(z.object({ id: z.number(), title: z.string(), body: z.string(), shared: z.boolean() })),
});
export type ComposerInserts = z.infer<typeof composerInserts>;

/** The placeholders Postern fills, as the server knows them (domain/placeholders.ts). */
export const PLACEHOLDERS = [
  ['{{contact.name}}', "the customer's name (or address)"],
  ['{{contact.firstName}}', "the customer's first name"],
  ['{{agent.name}}', 'your name'],
  ['{{account.name}}', "the email account's name"],
  ['{{conversation.reference}}', "the conversation's reference, such as #P12-7KQX"],
] as const;

/** Longest title, body and signature the server accepts. */
export const CANNED_TITLE_MAX = 200;
export const CANNED_BODY_MAX = 20_000;
export const SIGNATURE_MAX = 2_000;

const BASE = '/api/cannedAnswers';

export async function listCannedAnswers(): Promise<CannedAnswer[]> {
  return (await request('GET', BASE, z.object({ items: z.array(cannedAnswer) }))).items;
}

export function createCannedAnswer(fields: { title: string; body: string; shared: boolean }): Promise<CannedAnswer> {
  return request('POST', BASE, cannedAnswer, { body: fields });
}

export function updateCannedAnswer(
  id: number,
  fields: { title: string; body: string; shared: boolean },
): Promise<CannedAnswer> {
  return request('PATCH', `${BASE}/${id}`, cannedAnswer, { body: fields });
}

export function deleteCannedAnswer(id: number): Promise<void> {
  return send('DELETE', `${BASE}/${id}`);
}

export async function getOwnSignature(): Promise<string | null> {
  return (await request('GET', '/api/auth/me/signature', signatureReply)).signature;
}

export async function setOwnSignature(signature: string | null): Promise<string | null> {
  return (await request('PUT', '/api/auth/me/signature', signatureReply, { body: { signature } })).signature;
}

export function getComposerInserts(interactionId: number): Promise<ComposerInserts> {
  return request('GET', `/api/interactions/${interactionId}/composerInserts`, composerInserts);
}
