/**
 * Delta query on a mail folder, round trip: the first round pages through the whole folder
 * (`Prefer: odata.maxpagesize`, `@odata.nextLink` with `$skiptoken`) and ends with
 * `@odata.deltaLink`; the next round reports only what changed since — new messages, updated
 * ones (read through IMAP's flag, here the control API), and `@removed` for deleted and moved-out
 * messages — and a forgotten token is answered 410 SyncStateNotFound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TestEmulator } from '../emulator/helpers/emulator.js';
import {
  CONTOSO,
  deliver,
  expectGraphError,
  GraphClient,
  startGraphEmulator,
  userToken,
  type GraphResponse,
} from './helpers/graph-emulator.js';

let emu: TestEmulator;
let marco: GraphClient;
const MARCO = CONTOSO.marco.upn;

const deltaPage = z.object({
  '@odata.context': z.string(),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
  value: z.array(
    z
      .object({
        id: z.string(),
        subject: z.string().optional(),
        isRead: z.boolean().optional(),
        '@removed': z.object({ reason: z.string() }).optional(),
      })
      .loose(),
  ),
});
type DeltaPage = z.infer<typeof deltaPage>;

function page(response: GraphResponse): DeltaPage {
  expect(response.status, response.text).toBe(200);
  return deltaPage.parse(response.json);
}

/** Follows a round to its delta link; returns every entry and the link. */
async function round(
  start: string,
  maxPageSize: number,
): Promise<{ entries: DeltaPage['value']; pages: number; deltaLink: string }> {
  const entries: DeltaPage['value'] = [];
  let url = start;
  for (let pages = 1; pages < 50; pages += 1) {
    const current = page(await marco.get(url, { prefer: `odata.maxpagesize=${maxPageSize}` }));
    expect(current.value.length).toBeLessThanOrEqual(maxPageSize);
    entries.push(...current.value);
    if (current['@odata.deltaLink'] !== undefined) return { entries, pages, deltaLink: current['@odata.deltaLink'] };
    url = current['@odata.nextLink'] ?? '';
    expect(url).toMatch(/\/messages\/delta\?\$skiptoken=/);
  }
  throw new Error('delta round did not end');
}

beforeAll(async () => {
  emu = await startGraphEmulator();
  for (let i = 0; i < 5; i += 1) await deliver(emu, { to: MARCO, subject: `Delta ${i}`, text: `message ${i}` });
  marco = new GraphClient(emu, await userToken(emu, CONTOSO.marco));
});

afterAll(() => emu.stop());

describe('messages delta', () => {
  it('syncs the folder in pages, then reports only created, updated, deleted and moved-out messages', async () => {
    const first = await round('/me/mailFolders/inbox/messages/delta?$select=subject,isRead', 2);
    expect(first.pages).toBe(3);
    expect(first.entries.map((e) => e.subject).sort()).toEqual(['Delta 0', 'Delta 1', 'Delta 2', 'Delta 3', 'Delta 4']);
    expect(Object.keys(first.entries[0] ?? {}).sort()).toEqual([
      '@odata.etag',
      '@odata.type',
      'id',
      'isRead',
      'subject',
    ]);
    expect(first.deltaLink).toMatch(
      /^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/me\/mailFolders\('[^']+'\)\/messages\/delta\?\$deltatoken=/,
    );

    const quiet = await round(first.deltaLink, 2);
    expect(quiet.entries).toEqual([]);

    const byId = new Map(first.entries.map((e) => [e.subject, e.id]));
    await deliver(emu, { to: MARCO, subject: 'Delta 5', text: 'new' });
    // Read elsewhere (IMAP's \Seen, through the control API), deleted, moved out through Graph.
    const store = z
      .object({ messages: z.array(z.object({ uid: z.number(), subject: z.string().nullable() })) })
      .parse(await emu.control('GET', `/exchange/mailboxes/${MARCO}/folders/Inbox/messages`));
    const uidOf = (subject: string): number => store.messages.find((m) => m.subject === subject)?.uid ?? -1;
    await emu.control('POST', `/exchange/mailboxes/${MARCO}/folders/Inbox/messages/${uidOf('Delta 1')}/flags`, {
      add: ['\\Seen'],
    });
    await emu.control('DELETE', `/exchange/mailboxes/${MARCO}/folders/Inbox/messages/${uidOf('Delta 2')}`);
    expect(
      (await marco.post(`/me/messages/${byId.get('Delta 3') ?? ''}/move`, { destinationId: 'deleteditems' })).status,
    ).toBe(201);

    const second = await round(first.deltaLink, 10);
    const removed = second.entries.filter((e) => e['@removed'] !== undefined);
    expect(removed.map((e) => e.id).sort()).toEqual([byId.get('Delta 2'), byId.get('Delta 3')].sort());
    expect(removed.every((e) => e['@removed']?.reason === 'deleted')).toBe(true);
    const changed = second.entries.filter((e) => e['@removed'] === undefined);
    expect(changed.map((e) => [e.subject, e.isRead]).sort()).toEqual([
      ['Delta 1', true],
      ['Delta 5', false],
    ]);
    expect(changed.find((e) => e.subject === 'Delta 1')?.id).toBe(byId.get('Delta 1'));

    const third = await round(second.deltaLink, 10);
    expect(third.entries).toEqual([]);
  });

  it('keeps only the asked change type (changeType=created)', async () => {
    const first = await round('/me/mailFolders/inbox/messages/delta?changeType=created&$select=subject', 50);
    expect(first.entries.length).toBeGreaterThan(0);
    await deliver(emu, { to: MARCO, subject: 'Delta created only', text: 'x' });
    const store = z
      .object({ messages: z.array(z.object({ uid: z.number() })) })
      .parse(await emu.control('GET', `/exchange/mailboxes/${MARCO}/folders/Inbox/messages`));
    await emu.control(
      'POST',
      `/exchange/mailboxes/${MARCO}/folders/Inbox/messages/${store.messages[0]?.uid ?? 0}/flags`,
      { add: ['\\Flagged'] },
    );
    const next = await round(first.deltaLink, 50);
    expect(next.entries.map((e) => e.subject)).toEqual(['Delta created only']);
  });

  it('answers a forgotten delta token with 410 SyncStateNotFound, and refuses unsupported options', async () => {
    const first = await round('/me/mailFolders/inbox/messages/delta', 50);
    await emu.control('POST', '/graph/delta/expire');
    expectGraphError(await marco.get(first.deltaLink), 410, 'SyncStateNotFound');
    expectGraphError(
      await marco.get('/me/mailFolders/inbox/messages/delta?$orderby=receivedDateTime asc'),
      400,
      'ErrorInvalidUrlQuery',
    );
    expectGraphError(
      await marco.get('/me/mailFolders/inbox/messages/delta?$filter=receivedDateTime le 2026-01-01T00:00:00Z'),
      400,
      'ErrorInvalidUrlQuery',
    );
  });
});
