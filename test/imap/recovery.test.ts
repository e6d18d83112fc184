/**
 * Recovery of the IMAP sync engine, each by itself and with no loss: a connection dropped by
 * Exchange, the token-expiry BYE, renewal before expiry, throttling, a UIDVALIDITY change, and
 * errors a person must fix — reported as `disconnected` with the reason, then recovered once fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PosternError } from '../../src/errors/index.js';
import {
  countAccountMessages,
  getCheckpoint,
  type Database,
  type EmailAccountFields,
  type EmailAccountRecord,
} from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { CONTOSO, eventually, startMailEmulator, type MailEmulator } from './helpers.js';
import { accountOnFolder, buildSync } from './sync-helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;
let serial = 0;

beforeAll(async () => {
  mail = await startMailEmulator();
});
afterAll(async () => {
  await mail.stop();
});

function message(subject = `Question ${(serial += 1)}`): string {
  return [
    `From: customer@example.org`,
    `To: ${DEVELOPERS}`,
    `Subject: ${subject}`,
    `Message-ID: <r${serial}.${Date.now()}.${Math.random()}@example.org>`,
    '',
    'Hello',
    '',
  ].join('\r\n');
}

forEachEngine((engine, openFresh) => {
  let db: Database;
  beforeAll(async () => {
    db = await openFresh();
  });

  async function setup(
    fields: Partial<EmailAccountFields> = {},
  ): Promise<{ account: EmailAccountRecord; folder: string }> {
    serial += 1;
    const folder = `R${serial} ${engine}`;
    return { account: await accountOnFolder(mail, db, folder, `R${serial}`.slice(0, 5), fields), folder };
  }

  const count = (account: EmailAccountRecord) => countAccountMessages(db, account.id);

  it('reconnects after Exchange drops the connection, losing nothing', async () => {
    const { account, folder } = await setup();
    const under = buildSync(mail, db, account);
    under.sync.start();
    try {
      await mail.deliver(DEVELOPERS, message(), { folder });
      await eventually(async () => (await count(account)) === 1, 10_000, 'first message');
      await mail.emu.control('POST', '/exchange/faults/imap/drop', { mailbox: DEVELOPERS });
      await mail.deliver(DEVELOPERS, message(), { folder });
      await eventually(async () => (await count(account)) === 2, 10_000, 'message after the drop');
      expect(
        under.statuses.some((s) => s.status === 'disconnected' && s.error?.code === 'IMAP_CONNECTION_FAILED'),
      ).toBe(true);
      expect(under.sync.status.status).toBe('connected');
    } finally {
      await under.sync.stop();
    }
  });

  it('reconnects at once with a fresh token after "BYE Session invalidated - AccessTokenExpired"', async () => {
    const { account, folder } = await setup();
    const under = buildSync(mail, db, account);
    under.sync.start();
    try {
      await eventually(() => under.sync.status.status === 'connected', 10_000, 'connected');
      await mail.emu.control('POST', '/clock', { advanceSeconds: 3 * 3600 });
      await eventually(
        () => under.statuses.some((s) => s.error?.code === 'IMAP_TOKEN_EXPIRED'),
        10_000,
        'the token-expiry BYE',
      );
      const expired = under.statuses.find((s) => s.error?.code === 'IMAP_TOKEN_EXPIRED');
      expect(expired).toMatchObject({ status: 'disconnected', retryInMs: 0 });
      await eventually(
        () => under.sync.status.status === 'connected' && under.tokenCalls() >= 2,
        10_000,
        'reconnected',
      );
      await mail.deliver(DEVELOPERS, message(), { folder });
      await eventually(async () => (await count(account)) === 1, 10_000, 'message after renewal');
    } finally {
      await mail.emu.control('POST', '/clock', { reset: true });
      await under.sync.stop();
    }
  });

  it('renews the session before the token expires, without an error', async () => {
    const { account } = await setup();
    let calls = 0;
    const counting = buildSync(mail, db, account, {
      accessToken: async () => {
        calls += 1;
        return { token: (await mail.token(CONTOSO.andrea)).token, expiresAt: new Date(Date.now() + 1200) };
      },
      tuning: { renewBeforeMs: 1000, backoff: { baseMs: 50, maxMs: 400, needsAdminMinMs: 200 }, idleRefreshMs: 2000 },
    });
    counting.sync.start();
    try {
      await eventually(() => calls >= 3, 10_000, 'two renewals');
    } finally {
      await counting.sync.stop();
    }
    expect(counting.statuses.filter((s) => s.status === 'disconnected' || s.status === 'error')).toEqual([]);
  });

  it('waits as Exchange suggests when throttled, then carries on', async () => {
    const { account, folder } = await setup();
    await mail.deliver(DEVELOPERS, message(), { folder });
    await mail.deliver(DEVELOPERS, message(), { folder });
    await mail.emu.control('POST', '/exchange/faults/imap/throttle', { count: 3, backoffMs: 150, mailbox: DEVELOPERS });
    const under = buildSync(mail, db, account);
    under.sync.start();
    try {
      await eventually(async () => (await count(account)) === 2, 15_000, 'both messages despite throttling');
    } finally {
      await under.sync.stop();
    }
    const faults = await mail.emu.control('GET', '/exchange/faults');
    expect(faults).toMatchObject({ imapThrottle: 0 });
  });

  it('waits out a BAD throttle followed by BYE before it connects again, then carries on', async () => {
    const { account, folder } = await setup();
    await mail.deliver(DEVELOPERS, message(), { folder });
    const backoffMs = 2_000;
    await mail.emu.control('POST', '/exchange/faults/imap/throttle', {
      count: 1,
      backoffMs,
      mailbox: DEVELOPERS,
      status: 'BAD',
      bye: true,
    });
    const under = buildSync(mail, db, account);
    under.sync.start();
    try {
      await eventually(async () => (await count(account)) === 1, 15_000, 'the message despite the throttle');
    } finally {
      await under.sync.stop();
    }
    // Before, the BYE made it a lost connection, tried again after the 50 ms base backoff.
    const throttledAt = under.statuses.findIndex((s) => s.error?.code === 'IMAP_THROTTLED');
    const throttled = under.statuses[throttledAt];
    expect(throttled).toMatchObject({ status: 'disconnected' });
    expect(throttled?.retryInMs).toBeGreaterThan(backoffMs / 2);
    expect(throttled?.retryInMs).toBeLessThanOrEqual(backoffMs);
    const reconnected = under.statuses.slice(throttledAt).find((s) => s.status === 'connected');
    expect((reconnected?.at.getTime() ?? 0) - (throttled?.at.getTime() ?? 0)).toBeGreaterThanOrEqual(
      throttled?.retryInMs ?? Infinity,
    );
    expect(await mail.emu.control('GET', '/exchange/faults')).toMatchObject({ imapThrottle: 0 });
  });

  it('resyncs after a UIDVALIDITY change without storing anything twice', async () => {
    const { account, folder } = await setup();
    const first = message();
    const second = message();
    await mail.deliver(DEVELOPERS, first, { folder });
    await mail.deliver(DEVELOPERS, second, { folder });
    const under = buildSync(mail, db, account);
    expect((await under.sync.syncOnce())[0]).toMatchObject({ stored: 2 });
    const before = (await mail.folder(DEVELOPERS, folder)).uidValidity;

    // The folder is recreated (as after a mailbox restore): new UIDVALIDITY, the same mail plus one.
    mail.exchange.service.store.deleteFolder(DEVELOPERS, folder);
    mail.exchange.service.store.createFolder(DEVELOPERS, folder);
    await mail.deliver(DEVELOPERS, second, { folder });
    await mail.deliver(DEVELOPERS, first, { folder });
    await mail.deliver(DEVELOPERS, message(), { folder });
    const after = (await mail.folder(DEVELOPERS, folder)).uidValidity;
    expect(after).not.toBe(before);

    expect((await under.sync.syncOnce())[0]).toMatchObject({ reset: 'uidvalidity-changed', stored: 1, duplicates: 2 });
    expect(await count(account)).toBe(3);
    expect(await getCheckpoint(db, account.id, folder)).toMatchObject({ uidValidity: after, lastUid: 3 });
  });

  it('shows re-authentication required as disconnected with the reason, and reconnects once the grant is renewed', async () => {
    const { account, folder } = await setup();
    let reauthRequired = true;
    const under = buildSync(mail, db, account, {
      accessToken: async () => {
        if (reauthRequired) throw new PosternError('AUTH_REAUTH_INACTIVE');
        return mail.token(CONTOSO.andrea);
      },
    });
    under.sync.start();
    try {
      await eventually(
        () => under.statuses.some((s) => s.error?.code === 'AUTH_REAUTH_INACTIVE'),
        10_000,
        'the re-authentication status',
      );
      const reported = under.statuses.find((s) => s.error?.code === 'AUTH_REAUTH_INACTIVE');
      expect(reported?.status).toBe('disconnected');
      expect(reported?.retryInMs).toBeGreaterThanOrEqual(200);
      reauthRequired = false;
      await mail.deliver(DEVELOPERS, message(), { folder });
      await eventually(async () => (await count(account)) === 1, 10_000, 'mail after the grant was renewed');
      expect(under.sync.status.status).toBe('connected');
    } finally {
      await under.sync.stop();
    }
  });

  it('reports "authenticated but not connected" with the checklist while IMAP is off, and recovers when it is on again', async () => {
    const { account, folder } = await setup();
    await mail.emu.control('PATCH', `/mailboxes/${DEVELOPERS}`, { imapEnabled: false });
    const under = buildSync(mail, db, account);
    try {
      await expect(under.sync.syncOnce()).rejects.toMatchObject({ code: 'IMAP_NOT_CONNECTED', kind: 'needs-admin' });
      under.sync.start();
      await eventually(
        () => under.statuses.some((s) => s.error?.code === 'IMAP_NOT_CONNECTED'),
        10_000,
        'the not-connected status',
      );
      const reported = under.statuses.find((s) => s.error?.code === 'IMAP_NOT_CONNECTED');
      expect(reported?.status).toBe('disconnected');
      expect(reported?.error?.remedy).toMatch(/IMAP is enabled.*FullAccess/s);
    } finally {
      await mail.emu.control('PATCH', `/mailboxes/${DEVELOPERS}`, { imapEnabled: true });
    }
    try {
      await mail.deliver(DEVELOPERS, message(), { folder });
      await eventually(async () => (await count(account)) === 1, 10_000, 'mail once IMAP is on');
    } finally {
      await under.sync.stop();
    }
  });

  it('maps a refused token to NO AUTHENTICATE failed with its remedy', async () => {
    const { account } = await setup();
    const under = buildSync(mail, db, account, { accessToken: async () => 'not-a-token' });
    await expect(under.sync.syncOnce()).rejects.toMatchObject({
      code: 'IMAP_AUTH_FAILED',
      details: { response: 'NO AUTHENTICATE failed.' },
    });
  });
});

describe('the recovery suite', () => {
  it('leaves no fault unconsumed', async () => {
    expect(await mail.emu.control('GET', '/exchange/faults')).toMatchObject({ imapThrottle: 0, imapDropEvery: false });
  });
});
