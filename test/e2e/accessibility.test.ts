/**
 * Issue 18, point 9: axe-core, run in Chromium on every page of the console — the administrator's
 * and the agent's, with data on them (a provider, an account, a conversation with an attachment,
 * a contact) and the sign-in page — finds no serious or critical violation of WCAG 2.x A/AA.
 * Every violation found is listed with its page, rule and elements, so a failure says what to fix.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../helpers/until.js';
import { ConsoleWatch, launchChromium, newContext } from './helpers/browser.js';
import { setUpAgentMailbox } from './helpers/agent-mailbox.js';
import { signIn } from './helpers/session.js';
import { startStack, type Stack } from './helpers/stack.js';

// Evaluated through the browser's debugging protocol: the console's Content-Security-Policy (no
// inline script) stays in force, as in production.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AGENT = { username: 'ines', password: 'ines password 1', displayName: 'Ines Agent' };

let stack: Stack;
let browser: Browser;
let admin: BrowserContext;
let agent: BrowserContext;
let adminPage: Page;
let agentPage: Page;
let watch: ConsoleWatch;
let accountId = 0;
let conversationId = 0;
let providerId = 0;
let contactId = 0;

const idList = z.object({ items: z.array(z.object({ id: z.number() })) });

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  watch = new ConsoleWatch(stack.url);
  admin = await newContext(browser);
  adminPage = await admin.newPage();
  adminPage.setDefaultTimeout(15_000);
  watch.attach(adminPage);
  accountId = await setUpAgentMailbox(stack, adminPage, AGENT);
  await stack.emulator.control('POST', '/exchange/messages', {
    from: 'Jonas Customer <jonas@customer.example>',
    to: 'developers@contoso.com',
    subject: 'Accessible invoice',
    html: '<p>Hello, the <b>invoice</b> is attached.</p>',
    attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', contentBase64: 'JVBERi0xLjQK' }],
  });
  const api = async (path: string): Promise<unknown> => (await admin.request.get(`${stack.url}${path}`)).json();
  await until('the message is stored', async () =>
    idList.parse(await api(`/api/email/accounts/${accountId}/interactions`)).items.length === 1 ? true : undefined,
  );
  conversationId = idList.parse(await api(`/api/email/accounts/${accountId}/interactions`)).items[0]?.id ?? 0;
  providerId = idList.parse(await api('/api/cloudProviders')).items[0]?.id ?? 0;
  contactId =
    z
      .object({ items: z.array(z.object({ contact: z.object({ id: z.number() }) })) })
      .parse(await api(`/api/email/accounts/${accountId}/interactions`)).items[0]?.contact.id ?? 0;

  agent = await newContext(browser);
  agentPage = await agent.newPage();
  agentPage.setDefaultTimeout(15_000);
  watch.attach(agentPage);
  await signIn(agentPage, stack.url, AGENT.username, AGENT.password);
}, 120_000);

afterAll(async () => {
  await agent?.close();
  await admin?.close();
  await browser?.close();
  await stack?.close();
});

const axeResult = z.object({
  violations: z.array(
    z.object({
      id: z.string(),
      impact: z.string().nullable().optional(),
      help: z.string(),
      nodes: z.array(z.object({ target: z.array(z.unknown()) })),
    }),
  ),
});

/** The serious and critical violations on the page as it is now, one line each. */
async function violations(page: Page, name: string): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = axeResult.parse(
    await page.evaluate(
      `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })`,
    ),
  );
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${name}: ${violation.id} (${violation.impact}) ${violation.help} — ${violation.nodes.map((node) => JSON.stringify(node.target)).join(', ')}`,
    );
}

/** Opens a page of the console and waits until it has loaded its data. */
async function open(page: Page, path: string): Promise<void> {
  await page.goto(`${stack.url}/ui${path}`);
  await page.locator('main h1').first().waitFor();
  await page.locator('.loading').first().waitFor({ state: 'detached' });
}

describe('accessibility (axe-core, WCAG 2.1 A and AA)', () => {
  it("finds no serious or critical violation on the administrator's pages", async () => {
    const pages = [
      '/',
      '/cloud-providers',
      '/cloud-providers/new',
      `/cloud-providers/${providerId}`,
      `/cloud-providers/${providerId}/edit`,
      '/email-accounts',
      '/email-accounts/new',
      `/email-accounts/${accountId}`,
      `/email-accounts/${accountId}/edit`,
      '/users',
      '/doctor',
      '/webhooks',
      '/lists',
      '/contacts',
      `/contacts/${contactId}`,
      '/canned-answers',
      '/account',
    ];
    const found: string[] = [];
    for (const path of pages) {
      await open(adminPage, path);
      found.push(...(await violations(adminPage, path)));
    }
    expect(found).toEqual([]);
  }, 180_000);

  it("finds none on the agent's pages, the shortcuts dialog and the sign-in page", async () => {
    const found: string[] = [];
    for (const path of [
      `/inbox/${accountId}`,
      `/inbox/${accountId}/${conversationId}`,
      '/contacts',
      `/contacts/${contactId}`,
      '/canned-answers',
      '/lists',
      '/account',
    ]) {
      await open(agentPage, path);
      const conversation = path === `/inbox/${accountId}/${conversationId}`;
      if (conversation) await agentPage.getByRole('heading', { name: 'Accessible invoice' }).waitFor();
      found.push(...(await violations(agentPage, path)));
      if (!conversation) continue;
      await agentPage.keyboard.press('?');
      const shortcuts = agentPage.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await shortcuts.waitFor();
      found.push(...(await violations(agentPage, 'shortcuts dialog')));
      await agentPage.keyboard.press('Escape');
      await shortcuts.waitFor({ state: 'hidden' });
      await agentPage.getByRole('button', { name: 'Canned answer' }).click();
      await agentPage.getByRole('combobox', { name: 'Find a canned answer by its title' }).waitFor();
      found.push(...(await violations(agentPage, 'canned answer picker')));
      await agentPage.keyboard.press('Escape');
    }

    const visitor = await newContext(browser);
    try {
      const signInPage = await visitor.newPage();
      await signInPage.goto(`${stack.url}/ui/sign-in`);
      await signInPage.getByRole('button', { name: 'Sign in' }).waitFor();
      found.push(...(await violations(signInPage, '/sign-in')));
    } finally {
      await visitor.close();
    }
    expect(found).toEqual([]);
    expect(watch.problems).toEqual([]);
  }, 120_000);
});
