/**
 * Transport `auto` in a real browser (issue 14's acceptance): the shared mailbox developers@ with
 * its delegate andrea@, created without naming a transport (so `auto`, the default), on a tenant
 * that keeps SMTP AUTH disabled. An agent's reply is refused by SMTP with 535 5.7.139 and leaves
 * through Microsoft Graph in the same delivery; the agent sees it sent, the switch is an event on
 * the account's timeline, and the account page says which transport each direction uses and why.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { ConsoleWatch, launchChromium, newContext } from './helpers/browser.js';
import { setUpAgentMailbox } from './helpers/agent-mailbox.js';
import { signIn } from './helpers/session.js';
import { CONTOSO, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let browser: Browser;
let admin: BrowserContext;
let agent: BrowserContext;
let watch: ConsoleWatch;
let accountId = 0;
const AGENT = { username: 'gaia', password: 'gaia password 1' };
const CUSTOMER = 'elio@customer.example';

const sentSchema = z.object({
  sent: z.array(z.object({ via: z.string(), mailbox: z.string(), recipients: z.array(z.string()) }).passthrough()),
});

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  watch = new ConsoleWatch(stack.url);
  admin = await newContext(browser);
  const adminPage = await admin.newPage();
  adminPage.setDefaultTimeout(10_000);
  watch.attach(adminPage);
  // No transport named: a new Outlook365 account is `auto`.
  accountId = await setUpAgentMailbox(stack, adminPage, { ...AGENT, displayName: 'Gaia Agent' }, {});
  agent = await newContext(browser);
}, 90_000);

afterAll(async () => {
  await stack?.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: false });
  await agent?.close();
  await admin?.close();
  await browser?.close();
  await stack?.close();
});

it('SMTP AUTH disabled for the tenant: the reply leaves through Graph, the agent sees it sent, the switch is on the timeline', async () => {
  await stack.emulator.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: null });
  await stack.emulator.control('PATCH', `/tenants/${CONTOSO.tenantId}`, { smtpAuthDisabledByDefault: true });
  await stack.emulator.control('POST', '/exchange/messages', {
    from: `Elio Customer <${CUSTOMER}>`,
    to: 'developers@contoso.com',
    subject: 'Invoice 7 is wrong',
    text: 'The VAT is missing.',
    messageId: '<invoice7@customer.example>',
  });

  const page: Page = await agent.newPage();
  page.setDefaultTimeout(15_000);
  watch.attach(page);
  await signIn(page, stack.url, AGENT.username, AGENT.password);
  await page.getByRole('link', { name: /Invoice 7 is wrong/ }).click({ timeout: 30_000 });
  await page.getByRole('heading', { name: 'Invoice 7 is wrong' }).waitFor();
  await page.getByRole('textbox', { name: 'Your reply' }).fill('Sorry, Elio: a corrected invoice follows.');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const replies = page.getByRole('article', { name: /Reply by/ });
  await replies.first().locator('.badge', { hasText: 'Sent' }).waitFor({ timeout: 30_000 });
  await page.locator('.delivery-sent').waitFor();

  const sent = sentSchema.parse(await stack.emulator.control('GET', '/exchange/sent')).sent;
  expect(sent.filter((r) => r.recipients.includes(CUSTOMER)).map((r) => [r.via, r.mailbox])).toEqual([
    ['graph', 'developers@contoso.com'],
  ]);

  const adminPage = admin.pages()[0];
  if (adminPage === undefined) throw new Error('no administrator page');
  await adminPage.goto(`${stack.url}/ui/email-accounts/${accountId}`);
  await adminPage.getByText(/now sends through Microsoft Graph instead of SMTP/).waitFor({ timeout: 20_000 });
  const sending = (await adminPage.getByTestId('effective-outbound').textContent()) ?? '';
  expect(sending).toContain('Through Microsoft Graph since');
  expect(sending).toContain('because SMTP AUTH is disabled for the mailbox (535 5.7.139)');
  expect(await adminPage.getByTestId('effective-inbound').textContent()).toBe('Through IMAP');
  expect(watch.problems).toEqual([]);
}, 120_000);
