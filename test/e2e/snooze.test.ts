/**
 * Snooze in a real browser whose clock is in India (UTC+05:30, no daylight saving): the agent
 * snoozes a customer's conversation until tomorrow morning and it leaves the Open tab for the
 * Snoozed one, where it says until when; unsnoozed, it is back in Open; snoozed again until a
 * time picked in local time, the API holds that instant; when the customer writes again, the
 * conversation comes back to the Open tab by itself.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleWatch } from './helpers/browser.js';
import { startAgentDesk, type AgentDesk } from './helpers/agent-mailbox.js';
import { signIn } from './helpers/session.js';
import type { Stack } from './helpers/stack.js';

let desk: AgentDesk;
let stack: Stack;
let page: Page;
let watch: ConsoleWatch;
let accountId = 0;
const AGENT = { username: 'sana', password: 'sana password 1' };
const CUSTOMER = 'Dario Customer <dario@customer.example>';
const INDIA_OFFSET_MS = (5 * 60 + 30) * 60_000;

beforeAll(async () => {
  desk = await startAgentDesk({ ...AGENT, displayName: 'Sana Agent' }, { signIn: false, timezoneId: 'Asia/Kolkata' });
  ({ stack, page, watch, accountId } = desk);
}, 90_000);

afterAll(async () => {
  await desk?.close();
});

describe('snooze', () => {
  const list = (): ReturnType<Page['getByRole']> => page.getByRole('region', { name: 'Conversations' });
  const item = (): ReturnType<Page['getByRole']> => list().getByRole('link', { name: /The invoice is wrong/ });

  it('snoozes a conversation until tomorrow morning: it moves from Open to Snoozed', async () => {
    await signIn(page, stack.url, AGENT.username, AGENT.password);
    await expect.poll(() => page.url()).toBe(`${stack.url}/ui/inbox/${accountId}`);
    await list().getByText('No open conversation.').waitFor();
    await stack.emulator.control('POST', '/exchange/messages', {
      from: CUSTOMER,
      to: 'developers@contoso.com',
      subject: 'The invoice is wrong',
      text: 'The total is off by one.',
      messageId: '<invoice@customer.example>',
    });
    await item().waitFor({ timeout: 30_000 });
    await item().click();
    await page.getByRole('heading', { name: 'The invoice is wrong' }).waitFor();

    await page.getByRole('button', { name: 'Snooze', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Tomorrow at 8:00' }).click();
    const until = page.getByTestId('snoozed-until');
    await until.waitFor();
    // 08:00 in India is 02:30 UTC; the console shows it in the browser's time.
    const detail = (await (await page.request.get(`${stack.url}/api/interactions/${await openId()}`)).json()) as {
      snoozedUntil: string;
    };
    expect(detail.snoozedUntil).toMatch(/T02:30:00\.000Z$/);
    expect(Date.parse(detail.snoozedUntil) - Date.now()).toBeGreaterThan(0);
    expect(Date.parse(detail.snoozedUntil) - Date.now()).toBeLessThanOrEqual(2 * 86_400_000);
    expect(await until.textContent()).toContain('08:00');

    await list().getByText('No open conversation.').waitFor();
    await list().getByRole('button', { name: 'Snoozed' }).click();
    await item().waitFor();
    expect(await item().textContent()).toContain('Snoozed until');
  });

  it('unsnoozes it: back in Open', async () => {
    await page.getByRole('button', { name: 'Unsnooze' }).click();
    await page.getByRole('button', { name: 'Snooze', exact: true }).waitFor();
    await list().getByText('No snoozed conversation.').waitFor();
    await list().getByRole('button', { name: 'Open' }).click();
    await item().waitFor();
  });

  it('snoozes it until a time picked in local time, and the customer writing again brings it back', async () => {
    const target = new Date(Math.floor((Date.now() + 2 * 86_400_000) / 60_000) * 60_000);
    const local = new Date(target.getTime() + INDIA_OFFSET_MS).toISOString().slice(0, 16);
    await page.getByRole('button', { name: 'Snooze', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Pick a time…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Snooze until' });
    await dialog.getByLabel('Back in the Open list at').fill(local);
    await dialog.getByRole('button', { name: 'Snooze', exact: true }).click();
    await page.getByTestId('snoozed-until').waitFor();
    const detail = (await (await page.request.get(`${stack.url}/api/interactions/${await openId()}`)).json()) as {
      snoozedUntil: string;
    };
    expect(detail.snoozedUntil).toBe(target.toISOString());
    await list().getByText('No open conversation.').waitFor();

    await stack.emulator.control('POST', '/exchange/messages', {
      from: CUSTOMER,
      to: 'developers@contoso.com',
      subject: 'Re: The invoice is wrong',
      text: 'Any news?',
      messageId: '<invoice-2@customer.example>',
      inReplyTo: '<invoice@customer.example>',
      references: '<invoice@customer.example>',
    });
    await item().waitFor({ timeout: 30_000 });
    expect(await item().textContent()).not.toContain('Snoozed until');
    await page.getByRole('button', { name: 'Snooze', exact: true }).waitFor();
  }, 60_000);

  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});

/** The id of the conversation open in the page, from its address. */
async function openId(): Promise<number> {
  const match = /\/inbox\/\d+\/(\d+)/.exec(page.url());
  if (match?.[1] === undefined) throw new Error(`no conversation open at ${page.url()}`);
  return Number(match[1]);
}
