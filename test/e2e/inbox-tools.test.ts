/**
 * The inbox's tools in a real browser against the emulator.
 * - The keyboard (issue 18, point 8): `?` lists the shortcuts, `j`/`k` move through the list and
 *   Enter opens, `a` assigns to me, `r` goes to the reply (where letters are text, not shortcuts),
 *   Ctrl+Enter sends what reaches the customer, `e` closes, `/` goes to the search.
 * - Desktop notifications (issue 18, point 1): off until turned on; then new mail shows one with
 *   its contact and subject, and clicking it opens the conversation; off again, none. The browser's
 *   own Notification is wrapped (below the console's code) to record what was shown.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sink } from '../outbound/helpers.js';
import { ConsoleWatch, launchChromium, newContext, screenshot } from './helpers/browser.js';
import { setUpAgentMailbox } from './helpers/agent-mailbox.js';
import { signIn } from './helpers/session.js';
import { startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let browser: Browser;
let admin: BrowserContext;
let agent: BrowserContext;
let page: Page;
let watch: ConsoleWatch;
let accountId = 0;
const AGENT = { username: 'giulia', password: 'giulia password 1', displayName: 'Giulia Agent' };
const CUSTOMER = 'hugo@customer.example';
const SUBJECTS = ['Keyboard one', 'Keyboard two', 'Keyboard three'];

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  watch = new ConsoleWatch(stack.url);
  admin = await newContext(browser);
  const adminPage = await admin.newPage();
  adminPage.setDefaultTimeout(10_000);
  watch.attach(adminPage);
  accountId = await setUpAgentMailbox(stack, adminPage, AGENT);

  agent = await newContext(browser);
  await agent.grantPermissions(['notifications'], { origin: stack.url });
  // The test's own code in the page (strings: the tests are not compiled with the DOM's types).
  await agent.addInitScript({
    content: `{
      const Original = window.Notification;
      window.shown = [];
      class Recording extends Original {
        constructor(title, options) {
          super(title, options);
          window.shown.push({ title, body: options?.body ?? '' });
          window.lastNotification = this;
        }
      }
      window.Notification = Recording;
    }`,
  });
  page = await agent.newPage();
  page.setDefaultTimeout(15_000);
  watch.attach(page);
  await signIn(page, stack.url, AGENT.username, AGENT.password);
  for (const subject of SUBJECTS) {
    await stack.emulator.control('POST', '/exchange/messages', {
      from: `Hugo Customer <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject,
      text: `About ${subject}.`,
    });
  }
}, 90_000);

afterAll(async () => {
  await agent?.close();
  await admin?.close();
  await browser?.close();
  await stack?.close();
});

/** The subject of the conversation link that has the focus, or null. */
async function focusedSubject(): Promise<string | null> {
  return z
    .string()
    .nullable()
    .parse(
      await page.evaluate(`(() => {
      const active = document.activeElement;
      return active?.matches('a.conversation-item') ? (active.querySelector('.conversation-subject')?.textContent ?? null) : null;
    })()`),
    );
}

describe('the keyboard in the inbox', () => {
  it('lists the shortcuts, moves through the list, assigns, replies, sends, closes and searches', async () => {
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    for (const subject of SUBJECTS)
      await page.getByRole('link', { name: new RegExp(subject) }).waitFor({ timeout: 30_000 });
    const order = await page.locator('.conversations .conversation-subject').allTextContents();
    expect([...order].sort()).toEqual([...SUBJECTS].sort());

    // `?` opens the list of shortcuts; Escape closes it.
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    expect(await help.getByRole('row').count()).toBeGreaterThanOrEqual(8);
    await help.getByText('Close the conversation').waitFor();
    await screenshot(page, 'agent-keyboard-shortcuts');
    await page.keyboard.press('Escape');
    // Closed for good (its content goes first, the element's open state a moment later).
    await page.locator('dialog[open]').waitFor({ state: 'detached' });

    // j, j, k: the second, then the first... of the list; Enter opens the focused one.
    await page.keyboard.press('j');
    expect(await focusedSubject()).toBe(order[0]);
    await page.keyboard.press('j');
    expect(await focusedSubject()).toBe(order[1]);
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    expect(await focusedSubject()).toBe(order[1]);
    await page.keyboard.press('Enter');
    const subject = order[1] ?? '';
    await page.getByRole('heading', { name: subject }).waitFor();

    // a: assigned to me.
    await page.keyboard.press('a');
    await page.getByRole('button', { name: 'Unassign' }).waitFor();

    // r: the reply's text has the focus, and letters typed there are text, not shortcuts.
    await page.keyboard.press('r');
    const text = page.getByRole('textbox', { name: 'Your reply' });
    expect(await page.evaluate(`document.activeElement?.id`)).toBe(await text.evaluate((element) => element.id));
    await page.keyboard.type('just a quick answer, everything is ready');
    expect((await text.innerText()).trim()).toBe('just a quick answer, everything is ready');
    await page.getByRole('heading', { name: subject }).waitFor();

    // Ctrl+Enter sends it: the customer receives exactly that text.
    await page.keyboard.press('Control+Enter');
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };
    await expect
      .poll(
        async () =>
          (await sink(control, CUSTOMER)).filter((m) => m.raw?.includes('just a quick answer, everything is ready'))
            .length,
        { timeout: 20_000 },
      )
      .toBe(1);

    // e (the focus back on the page): the conversation is closed.
    await page.getByRole('heading', { name: subject }).click();
    await page.keyboard.press('e');
    await page.getByRole('button', { name: 'Reopen' }).waitFor();

    // /: the search box has the focus.
    await page.keyboard.press('/');
    const search = page.getByRole('searchbox', { name: 'Search conversations' });
    expect(await page.evaluate(`document.activeElement?.id`)).toBe(await search.evaluate((element) => element.id));
    expect(watch.problems).toEqual([]);
  }, 120_000);
});

describe('desktop notifications', () => {
  const shownSchema = z.array(z.object({ title: z.string(), body: z.string() }));
  const shown = async (): Promise<Array<{ title: string; body: string }>> =>
    shownSchema.parse(await page.evaluate('window.shown'));

  it('are off until turned on, then show new mail and open its conversation when clicked', async () => {
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    const toggle = page.getByRole('button', { name: /Desktop notifications/ });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    await page.getByRole('button', { name: 'Desktop notifications: on' }).waitFor();
    await stack.emulator.control('POST', '/exchange/messages', {
      from: `Hugo Customer <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject: 'Notify me',
      text: 'A message worth a notification.',
    });
    await expect
      .poll(shown, { timeout: 30_000 })
      .toEqual([{ title: 'New mail from Hugo Customer', body: 'Notify me' }]);
    await page.evaluate(`window.lastNotification.dispatchEvent(new Event('click'))`);
    await page.getByRole('heading', { name: 'Notify me' }).waitFor();

    // Off again (kept in this browser across a reload): new mail shows in the list, not on the desktop.
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    await page.getByRole('button', { name: 'Desktop notifications: on' }).click();
    await page.getByRole('button', { name: 'Desktop notifications: off' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Desktop notifications: off' }).waitFor();
    await stack.emulator.control('POST', '/exchange/messages', {
      from: `Hugo Customer <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject: 'Do not notify me',
      text: 'Notifications are off.',
    });
    await page.getByRole('link', { name: /Do not notify me/ }).waitFor({ timeout: 30_000 });
    expect(await shown()).toEqual([]);
    expect(watch.problems).toEqual([]);
  }, 120_000);
});
