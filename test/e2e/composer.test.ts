/**
 * The agent's composer in a real browser against the emulator: the recipients of a reply all are
 * shown and edited (one Cc removed, a Bcc added, a bad address refused as it is typed), and what
 * reaches the emulator's outside world is exactly that.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sink } from '../outbound/helpers.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { ConsoleWatch, launchChromium, newContext, overflowing, screenshot } from './helpers/browser.js';
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
const AGENT = { username: 'carla', password: 'carla password 1', displayName: 'Carla Agent' };
const CUSTOMER = 'dario@customer.example';
const COLLEAGUE = 'elena@customer.example';
const BOSS = 'franco@customer.example';
const AUDIT = 'audit@contoso-archive.example';

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
  page = await agent.newPage();
  page.setDefaultTimeout(15_000);
  watch.attach(page);
  await signIn(page, stack.url, AGENT.username, AGENT.password);
}, 90_000);

afterAll(async () => {
  await agent?.close();
  await admin?.close();
  await browser?.close();
  await stack?.close();
});

async function deliver(subject: string, extra: Record<string, unknown> = {}): Promise<void> {
  await stack.emulator.control('POST', '/exchange/messages', {
    from: `Dario Customer <${CUSTOMER}>`,
    to: 'developers@contoso.com',
    subject,
    text: `About ${subject}.`,
    ...extra,
  });
}

async function openConversation(subject: string): Promise<void> {
  await page.goto(`${stack.url}/ui/inbox/${accountId}`);
  const item = page.getByRole('link', { name: new RegExp(subject) });
  await item.waitFor({ timeout: 30_000 });
  await item.click();
  await page.getByRole('heading', { name: subject }).waitFor();
}

describe('recipients', () => {
  it('shows the customer for a reply and everyone but the account for reply all', async () => {
    // Straight into the mailbox: the copies to Elena and Franco would otherwise reach the sink too.
    await deliver('Release planning', {
      mailbox: 'developers@contoso.com',
      to: ['developers@contoso.com', `Elena <${COLLEAGUE}>`],
      cc: [`Franco <${BOSS}>`],
      messageId: '<planning@customer.example>',
    });
    await openConversation('Release planning');
    const composer = page.getByRole('form', { name: 'Reply' });
    const to = composer.getByRole('list', { name: 'To recipients' });
    const cc = composer.getByRole('list', { name: 'Cc recipients', exact: true });
    await expect.poll(() => to.getByRole('listitem').allTextContents()).toEqual([`Dario Customer <${CUSTOMER}>×`]);
    expect(await cc.getByRole('listitem').count()).toBe(0);

    await composer.getByRole('radio', { name: 'Reply all' }).check();
    await expect
      .poll(() => cc.getByRole('listitem').allTextContents())
      .toEqual([`Elena <${COLLEAGUE}>×`, `Franco <${BOSS}>×`]);
    expect(await to.getByRole('listitem').allTextContents()).toEqual([`Dario Customer <${CUSTOMER}>×`]);
  }, 60_000);

  it('refuses a bad address as it is typed, with the reason', async () => {
    const composer = page.getByRole('form', { name: 'Reply' });
    const bcc = composer.getByRole('combobox', { name: 'Add to Bcc' });
    await bcc.fill('audit@');
    await bcc.press('Enter');
    await composer.getByRole('alert').filter({ hasText: 'Bcc:' }).waitFor();
    expect(await composer.getByRole('list', { name: 'Bcc recipients' }).getByRole('listitem').count()).toBe(0);
  });

  it('sends a reply all with one Cc removed and a Bcc added: exactly those receive it', async () => {
    const composer = page.getByRole('form', { name: 'Reply' });
    await composer.getByRole('button', { name: `Remove ${BOSS} from Cc` }).click();
    const bcc = composer.getByRole('combobox', { name: 'Add to Bcc' });
    await bcc.fill(AUDIT);
    await bcc.press('Enter');
    await composer.getByRole('list', { name: 'Bcc recipients' }).getByText(AUDIT).waitFor();
    expect(
      await composer.getByRole('list', { name: 'Cc recipients', exact: true }).getByRole('listitem').allTextContents(),
    ).toEqual([`Elena <${COLLEAGUE}>×`]);
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'agent-composer-recipients');
    await page.getByRole('textbox', { name: 'Your reply' }).fill('Release on Friday.');
    await composer.getByRole('button', { name: 'Send to all' }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });

    const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };
    await expect.poll(async () => (await sink(control, CUSTOMER)).length, { timeout: 20_000 }).toBe(1);
    const [out] = await sink(control, CUSTOMER);
    if (out?.raw === undefined) throw new Error('the customer received nothing');
    expect([...out.recipients].sort()).toEqual([AUDIT, CUSTOMER, COLLEAGUE].sort());
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.to.map((a) => a.address)).toEqual([CUSTOMER]);
    expect(parsed.cc.map((a) => a.address)).toEqual([COLLEAGUE]);
    expect(out.raw).not.toContain(BOSS);
    expect(out.raw).not.toContain(AUDIT);
    expect(await sink(control, BOSS)).toEqual([]);
  }, 60_000);
});

describe('the page', () => {
  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});
