/**
 * Found by the fault soak (issue 16, point 7): Exchange throttled a command on an open session
 * (`BAD Request is throttled`), and the mail it should have brought stayed unread in the mailbox,
 * the account `connected`, until the periodic check (9 minutes) or the next message:
 * - throttled in the sync that new mail started (the SELECT after IDLE's EXISTS), the worker
 *   waited as Exchange suggested and went back to IDLE with the sync not done — and after a
 *   refused SELECT no folder selected, so nothing would announce the mail again;
 * - throttled on IDLE itself, imapflow's `idle()` resolves `false`, and the worker waited on
 *   for news that a session not in IDLE never hears.
 * Either way the mail must be read once the backoff is waited out. Two commands are throttled,
 * so that whichever the session sends next (IDLE, or the sync if it already idles), both cases
 * happen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countAccountMessages, type Database } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';
import { eventually, startMailEmulator, type MailEmulator } from '../imap/helpers.js';
import { accountOnFolder, buildSync } from '../imap/sync-helpers.js';

const DEVELOPERS = 'developers@contoso.com';
let mail: MailEmulator;
let serial = 0;

beforeAll(async () => {
  mail = await startMailEmulator();
});
afterAll(async () => {
  await mail.stop();
});

function message(): string {
  serial += 1;
  return [
    'From: customer@example.org',
    `To: ${DEVELOPERS}`,
    `Subject: Question ${serial}`,
    `Message-ID: <throttled-sync-${serial}.${Date.now()}@example.org>`,
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

  describe.each(['NO', 'BAD'] as const)('a sync throttled with %s on an open session', (status) => {
    it('runs again after the backoff, without waiting for more mail or the periodic check', async () => {
      const folder = `Throttled ${status} ${engine}`;
      const account = await accountOnFolder(mail, db, folder, `T${status}${engine.slice(0, 1)}`);
      // The periodic check is far away: only the retry can bring the second message in time.
      const under = buildSync(mail, db, account, { tuning: { idleRefreshMs: 10 * 60_000 } });
      under.sync.start();
      try {
        await mail.deliver(DEVELOPERS, message(), { folder });
        await eventually(async () => (await countAccountMessages(db, account.id)) === 1, 15_000, 'the first message');
        await eventually(
          () => mail.exchange.service.imap.connectionCount(DEVELOPERS) > 0,
          5000,
          'the session waiting in IDLE',
        );
        // The next two commands of the session are throttled: IDLE and/or the sync new mail starts.
        await mail.emu.control('POST', '/exchange/faults/imap/throttle', {
          count: 2,
          backoffMs: 300,
          mailbox: DEVELOPERS,
          status,
        });
        await mail.deliver(DEVELOPERS, message(), { folder });
        await eventually(
          async () => (await countAccountMessages(db, account.id)) === 2,
          15_000,
          'the second message, despite the throttled sync',
        );
        expect(await mail.emu.control('GET', '/exchange/faults')).toMatchObject({ imapThrottle: 0 });
        expect(under.statuses.filter((s) => s.status === 'error')).toEqual([]);
      } finally {
        await under.sync.stop();
      }
    });
  });
});
