/**
 * An app-only account sends (issue 14, point 5): a provider with a generated certificate and the
 * client-credentials grant, no delegate; the shared mailbox developers@ receives a customer's mail
 * and the reply leaves over SMTP AUTH XOAUTH2 with `user=` the mailbox itself, as Exchange allows
 * an app whose service principal has FullAccess on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import {
  CONTOSO,
  createAccount,
  dispatchUntilIdle,
  receive,
  sent,
  sink,
  startOutbound,
  type OutboundHarness,
} from './helpers.js';

const SHARED = 'developers@contoso.com';
const CUSTOMER = 'grace.hopper@fabrikam.example';
let h: OutboundHarness;
let accountId: number;

beforeAll(async () => {
  const base = await startOutbound();
  const created = await base.api('POST', '/api/cloudProviders', {
    name: 'Contoso app-only',
    applicationId: CONTOSO.daemon.appId,
    tenantId: CONTOSO.tenantId,
    grantType: 'client_credentials',
    clientCertificate: { generate: true },
    cloud: 'custom',
    authorityUrl: base.pair.emulator.base,
    caFile: base.pair.emulator.handle.caFile,
  });
  expect(created.statusCode, created.body).toBe(201);
  const providerId = created.json<{ id: number }>().id;
  const certificate = (await base.api('GET', `/api/cloudProviders/${providerId}/clientCertificate`)).body;
  await base.control('POST', `/apps/${CONTOSO.daemon.appId}/certificates`, { certificate });
  expect((await base.api('POST', `/api/cloudProviders/${providerId}/authenticate`, {})).statusCode).toBe(200);
  h = { ...base, providerId };
  accountId = await createAccount(h, { key: 'DEVA', name: 'Developers', emailAddress: SHARED });
});
afterAll(async () => h.close());

describe('an app-only shared mailbox', () => {
  it('replies over SMTP signed in as the mailbox itself with the app token', async () => {
    const first = await receive(h, accountId, {
      from: `Grace Hopper <${CUSTOMER}>`,
      to: SHARED,
      subject: 'A moth in relay 70',
      text: 'Found a bug.',
      messageId: '<moth@fabrikam.example>',
    });
    const queued = await h.api('POST', `/api/interactions/${first.interactionId}/reply`, { text: 'Logged it.' });
    expect(queued.statusCode, queued.body).toBe(202);
    await dispatchUntilIdle(h);
    const [out] = await sink(h, CUSTOMER);
    if (out?.raw === undefined) throw new Error('nothing reached the customer');
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(out.envelopeFrom).toBe(SHARED);
    expect(parsed.from).toEqual([{ name: 'Developers', address: SHARED }]);
    expect(parsed.inReplyTo).toEqual(['<moth@fabrikam.example>']);
    // Exchange saw the submission from the shared mailbox's own session (the app's, no delegate).
    expect((await sent(h, SHARED)).map((s) => s.messageId)).toContain(parsed.messageId);
    const view = await h.api('GET', `/api/messages/${queued.json<{ id: number }>().id}`);
    expect(view.json()).toMatchObject({ state: 'sent' });
  });
});
