/**
 * Issue 18's live updates in Chromium: two agents of the shared mailbox developers@, each in their
 * own browser context, have the inbox open; a customer's mail delivered through the emulator
 * appears in both conversation lists without a reload (the page's own state survives), the tab
 * title counts it as unread, and nothing polls meanwhile (no list request while nothing happens).
 * When one agent closes the conversation, the other's list drops it without a reload. The bound
 * of each wait is generous for a loaded machine: latency is measured by `npm run bench:stream`.
 */
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, launchChromium, newContext } from './helpers/browser.js';
import { setUpAgentMailbox } from './helpers/agent-mailbox.js';
import { createThrough, signIn } from './helpers/session.js';
import { startStack, type Stack } from './helpers/stack.js';

const CARLA = { username: 'carla', password: 'carla password 1', displayName: 'Carla Agent' };
const DORA = { username: 'dora', password: 'dora password 1', displayName: 'Dora Agent' };
/** Generous: a loaded two-core machine, never the product's latency. */
const BOUND_MS = 10_000;

let stack: Stack;
let browser: Browser;
let contexts: BrowserContext[] = [];
let pages: Page[] = [];
let watch: ConsoleWatch;
let accountId = 0;
const listRequests: string[] = [];

async function adminFetch(context: BrowserContext, method: string, path: string, body?: unknown): Promise<unknown> {
  const csrf = (await context.cookies(stack.url)).find((cookie) => cookie.name === 'postern_csrf')?.value ?? '';
  const response = await context.request.fetch(`${stack.url}${path}`, {
    method,
    headers: { 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { data: JSON.stringify(body) }),
  });
  if (!response.ok()) throw new Error(`${method} ${path} → ${response.status()} ${await response.text()}`);
  return response.json();
}

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  watch = new ConsoleWatch(stack.url);
  const admin = await newContext(browser);
  contexts.push(admin);
  const adminPage = await admin.newPage();
  adminPage.setDefaultTimeout(15_000);
  watch.attach(adminPage);
  accountId = await setUpAgentMailbox(stack, adminPage, CARLA);
  const doraId = await createThrough(admin, stack.url, '/api/users', { ...DORA, role: 'agent' });
  const users = z
    .object({ items: z.array(z.object({ id: z.number(), username: z.string() })) })
    .parse(await adminFetch(admin, 'GET', '/api/users'));
  const carlaId = users.items.find((user) => user.username === CARLA.username)?.id;
  if (carlaId === undefined) throw new Error('carla was not created');
  await adminFetch(admin, 'PATCH', `/api/email/accounts/${accountId}`, { agentIds: [carlaId, doraId] });

  for (const agent of [CARLA, DORA]) {
    const context = await newContext(browser);
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watch.attach(page);
    page.on('request', (request: Request) => {
      if (request.url().includes(`/api/email/accounts/${accountId}/interactions`)) listRequests.push(request.url());
    });
    await signIn(page, stack.url, agent.username, agent.password);
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    await page.getByText('No open conversation.').waitFor();
    pages.push(page);
  }
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  contexts = [];
  pages = [];
  await browser?.close();
  await stack?.close();
});

/** Each page's marker, set in its window: a reload would lose it. */
async function markPages(): Promise<void> {
  for (const page of pages) await page.evaluate('window.__liveMarker = "still here"');
}
async function markersKept(): Promise<unknown[]> {
  return Promise.all(pages.map((page) => page.evaluate('window.__liveMarker')));
}

describe('live updates in the console', () => {
  it('does not poll: no list request while nothing happens', async () => {
    // The stream is open once the pages have loaded; before, the console polled every 5 s.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = listRequests.length;
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(listRequests.length - before).toBe(0);
  });

  it("shows mail delivered to the shared mailbox in both agents' lists without a reload, and counts it in the tab title", async () => {
    await markPages();
    await stack.emulator.control('POST', '/exchange/messages', {
      from: 'Dario Customer <dario@customer.example>',
      to: 'developers@contoso.com',
      subject: 'Live: the build is red',
      text: 'Since this morning the pipeline fails.',
      messageId: '<live-e2e-1@customer.example>',
    });
    await Promise.all(
      pages.map((page) =>
        page
          .getByRole('region', { name: 'Conversations' })
          .getByRole('link', { name: /Live: the build is red/ })
          .waitFor({ timeout: BOUND_MS }),
      ),
    );
    expect(await markersKept()).toEqual(['still here', 'still here']);
    for (const page of pages)
      await expect.poll(() => page.title(), { timeout: BOUND_MS }).toBe('(1) Inbox — DEV — Postern');
  });

  it("drops a conversation closed by one agent from the other's Open list, without a reload", async () => {
    const [carla, dora] = pages;
    if (carla === undefined || dora === undefined) throw new Error('pages missing');
    await carla.getByRole('link', { name: /Live: the build is red/ }).click();
    await carla.getByRole('button', { name: 'Close', exact: true }).click();
    await dora
      .getByRole('region', { name: 'Conversations' })
      .getByText('No open conversation.')
      .waitFor({ timeout: BOUND_MS });
    expect(await markersKept()).toEqual(['still here', 'still here']);
    await expect.poll(() => dora.title(), { timeout: BOUND_MS }).toBe('Inbox — DEV — Postern');
    expect(watch.problems).toEqual([]);
  });
});
