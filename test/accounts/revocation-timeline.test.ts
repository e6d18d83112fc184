/**
 * Issue 15, point 5, end to end with the real mailbox workers: Entra's revocation timeline as
 * Postern lives it. andrea@'s sessions are revoked while the account developers@ (andrea@ its
 * modern authentication email) is connected. Entra kills the refresh token at once, but the access
 * token Postern holds stays good until it expires (no continuous access evaluation): the account
 * stays connected, reconnects with that token after a dropped connection, and keeps ingesting mail.
 * Only when the token runs out — the emulator ends the IMAP session at its expiry and Postern has
 * to refresh — does the refusal (AADSTS50173) show: the account disconnected with
 * AUTH_SESSIONS_REVOKED and its remedy, the grant re-authentication required, the events raised.
 *
 * Delegated tokens live exactly 10 minutes here (the emulator's lifetime setting) and Postern reads
 * the emulator's clock, so the test moves time instead of waiting for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, authenticatedProvider, startPair, type Pair } from '../providers/helpers.js';
import { until } from '../helpers/until.js';

const TOKEN_LIFETIME_SECONDS = 600;
const MINUTE_MS = 60_000;

let pair: Pair;
let accountId: number;
let providerId: number;

beforeAll(async () => {
  pair = await startPair(
    {},
    {
      emulator: {
        identity: {
          deviceCodeIntervalSeconds: 0.05,
          accessTokenLifetimeSeconds: { min: TOKEN_LIFETIME_SECONDS, max: TOKEN_LIFETIME_SECONDS },
        },
      },
    },
  );
  ({ providerId } = await authenticatedProvider(pair));
  const roles = await pair.postern.runtime.startRoles(['mailboxSync'], {
    mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
  });
  if (roles.mailboxSync === undefined) throw new Error('the mailbox workers did not start');
  const created = await pair.postern.app.inject({
    method: 'POST',
    url: '/api/email/accounts',
    headers: { authorization: pair.admin },
    payload: {
      name: 'Developers',
      key: 'REV',
      emailAddress: 'developers@contoso.com',
      username: 'developers@contoso.com',
      providerId,
      modernAuthEmail: CONTOSO.andrea.upn,
      imapHost: '127.0.0.1',
      imapPort: Number(new URL(pair.emulator.handle.urls.imap ?? '').port),
      firstSync: { kind: 'all' },
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  accountId = created.json<{ id: number }>().id;
});
afterAll(async () => {
  await pair?.close();
});

const db = () => pair.postern.runtime.db.kysely;
const accountRow = () =>
  db().selectFrom('email_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
const grantState = async () =>
  (await db().selectFrom('grants').select('state').where('provider_id', '=', providerId).executeTakeFirstOrThrow())
    .state;

async function deliverAndIngest(messageId: string, subject: string): Promise<void> {
  await pair.emulator.control('POST', '/exchange/messages', {
    from: 'carla@customer.example',
    to: 'developers@contoso.com',
    subject,
    text: 'Is anyone there?',
    messageId,
  });
  await until(`${subject} ingested`, async () =>
    db().selectFrom('messages').select('id').where('message_id', '=', messageId).executeTakeFirst(),
  );
}

async function eventTypes(url: string): Promise<string[]> {
  const events = await pair.postern.app.inject({ method: 'GET', url, headers: { authorization: pair.admin } });
  expect(events.statusCode, events.body).toBe(200);
  return events.json<{ items: Array<{ type: string }> }>().items.map((e) => e.type);
}

describe('revoked sessions, on the real timeline', () => {
  it('keep the account connected and ingesting while its access token lives, then show AUTH_SESSIONS_REVOKED with the remedy', async () => {
    await until('connected', async () => ((await accountRow()).status === 'connected' ? true : undefined));
    await deliverAndIngest('<before@customer.example>', 'Before the revocation');
    // The token Postern holds was issued before the revocation, which is strictly later.
    pair.emulator.handle.clock.advance(2_000);
    await pair.emulator.control('POST', `/users/${CONTOSO.andrea.id}/revoke-sessions`);

    // Still connected: new mail arrives on the open session.
    await deliverAndIngest('<during@customer.example>', 'During the token’s life');
    // A dropped connection is made again with the token in hand (more than Postern's five-minute
    // margin is left, so it does not refresh): Exchange still accepts it.
    pair.emulator.handle.clock.advance(4 * MINUTE_MS);
    const dropped = (await pair.emulator.control('POST', '/exchange/faults/imap/drop', {})) as { dropped: number };
    expect(dropped.dropped).toBeGreaterThan(0);
    await deliverAndIngest('<reconnected@customer.example>', 'After a reconnection');
    await until('connected again', async () => ((await accountRow()).status === 'connected' ? true : undefined));
    expect((await accountRow()).last_error_code).not.toBe('AUTH_SESSIONS_REVOKED');
    expect(await grantState()).toBe('active');
    expect(await eventTypes(`/api/cloudProviders/${providerId}/events`)).not.toContain('grant.reauth_required');

    // The token runs out: Exchange ends the session, Postern refreshes, Entra refuses (50173).
    pair.emulator.handle.clock.advance(TOKEN_LIFETIME_SECONDS * 1000);
    const down = await until('the revocation shown', async () => {
      const row = await accountRow();
      return row.status === 'disconnected' && row.last_error_code === 'AUTH_SESSIONS_REVOKED' ? row : undefined;
    });
    expect(down.last_error_remedy).toMatch(/Authenticate/);
    expect(await grantState()).toBe('reauth_required');
    expect(await eventTypes(`/api/email/accounts/${accountId}/events`)).toContain('account.disconnected');
    expect(await eventTypes(`/api/cloudProviders/${providerId}/events`)).toContain('grant.reauth_required');
  });
});
