/**
 * Issue 18's internal notes and "who is replying" in Chromium: two agents of the shared mailbox
 * developers@, each in their own browser context, have the same conversation open. One adds an
 * internal note: the other sees it in the timeline without a reload, marked as an internal note
 * with its author, and cannot change it; the author's edit and delete reach the other at once.
 * One types a reply: the other sees "… is replying", gone when the text is discarded and again
 * when the reply is sent. One transfers the conversation to the other with a note: the other sees
 * the new owner and the note without a reload. Waits are generous for a loaded machine.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, launchChromium, newContext, screenshot } from './helpers/browser.js';
import { setUpAgentMailbox } from './helpers/agent-mailbox.js';
import { createThrough, signIn } from './helpers/session.js';
import { startStack, type Stack } from './helpers/stack.js';

const CARLA = { username: 'carla', password: 'carla password 1', displayName: 'Carla Agent' };
const DORA = { username: 'dora', password: 'dora password 1', displayName: 'Dora Agent' };
/** Generous: a loaded two-core machine, never the product's latency. */
const BOUND_MS = 15_000;
const SUBJECT = 'Notes: the printer jams';

let stack: Stack;
let browser: Browser;
let contexts: BrowserContext[] = [];
let carla: Page;
let dora: Page;
let watch: ConsoleWatch;
let accountId = 0;

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

  await stack.emulator.control('POST', '/exchange/messages', {
    from: 'Dario Customer <dario@customer.example>',
    to: 'developers@contoso.com',
    subject: SUBJECT,
    text: 'The printer on floor 2 jams on every page.',
    messageId: '<notes-e2e-1@customer.example>',
  });

  const opened: Page[] = [];
  for (const agent of [CARLA, DORA]) {
    const context = await newContext(browser);
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    watch.attach(page);
    await signIn(page, stack.url, agent.username, agent.password);
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    await page
      .getByRole('region', { name: 'Conversations' })
      .getByRole('link', { name: new RegExp(SUBJECT) })
      .click({ timeout: 60_000 });
    await page.getByRole('heading', { name: SUBJECT }).waitFor();
    opened.push(page);
  }
  [carla, dora] = opened as [Page, Page];
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  contexts = [];
  await browser?.close();
  await stack?.close();
});

/** Each page's marker, set in its window: a reload would lose it. */
async function markPages(): Promise<void> {
  for (const page of [carla, dora]) await page.evaluate('window.__notesMarker = "still here"');
}
async function markersKept(): Promise<unknown[]> {
  return Promise.all([carla, dora].map((page) => page.evaluate('window.__notesMarker')));
}

describe('internal notes and who is replying', () => {
  it("shows one agent's note to the other at once, marked internal with its author; only the author changes it", async () => {
    await markPages();
    await carla.getByLabel(/^Internal note — only agents see it/).fill('Called Dario: it is the old HP on floor 2.');
    await carla.getByRole('button', { name: 'Add note' }).click();

    const mine = carla.getByRole('article', { name: 'Internal note by You' });
    await mine.getByText('Called Dario: it is the old HP on floor 2.').waitFor();
    const seen = dora.getByRole('article', { name: `Internal note by ${CARLA.displayName}` });
    await seen.getByText('Called Dario: it is the old HP on floor 2.').waitFor({ timeout: BOUND_MS });
    await expect.poll(() => seen.getByText('Internal note', { exact: true }).count()).toBe(1);
    // A colleague's note has no edit or delete for an agent.
    expect(await seen.getByRole('button', { name: 'Edit note' }).count()).toBe(0);
    expect(await seen.getByRole('button', { name: 'Delete note' }).count()).toBe(0);
    // Never mail: the note is no message of the conversation.
    expect(await dora.getByRole('article', { name: /^Reply by/ }).count()).toBe(0);

    await mine.getByRole('button', { name: 'Edit note' }).click();
    await mine.getByLabel('Note', { exact: true }).fill('It is the old HP on floor 2; a new one is ordered.');
    await mine.getByRole('button', { name: 'Save note' }).click();
    await seen.getByText('It is the old HP on floor 2; a new one is ordered.').waitFor({ timeout: BOUND_MS });
    await seen.getByText('(edited)').waitFor();

    await mine.getByRole('button', { name: 'Delete note' }).click();
    await mine.getByRole('button', { name: 'Delete', exact: true }).click();
    await seen.waitFor({ state: 'detached', timeout: BOUND_MS });
    expect(await markersKept()).toEqual(['still here', 'still here']);
  });

  it('transfers the conversation to a named colleague with a note: the colleague sees both at once', async () => {
    await markPages();
    await carla.getByRole('button', { name: 'Transfer…' }).click();
    const dialog = carla.getByRole('dialog', { name: 'Transfer the conversation' });
    await dialog.getByRole('combobox', { name: 'Transfer to' }).selectOption({ label: DORA.displayName });
    await dialog.getByLabel('Note for them').fill('Dario prefers mornings; the part number is in his mail.');
    await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await carla.getByTestId('assignee').getByText(`Assigned to ${DORA.displayName}`).waitFor();

    await dora.getByTestId('assignee').getByText('Assigned to you').waitFor({ timeout: BOUND_MS });
    const note = dora.getByRole('article', { name: `Internal note by ${CARLA.displayName}` });
    await note
      .getByText(`Assigned to ${DORA.displayName}: Dario prefers mornings; the part number is in his mail.`)
      .waitFor({ timeout: BOUND_MS });
    expect(await markersKept()).toEqual(['still here', 'still here']);
  });

  it('shows "… is replying" while a colleague types a reply, gone when it is discarded and when it is sent', async () => {
    await markPages();
    const indicator = carla.getByTestId('replying');
    expect(await indicator.count()).toBe(0);
    await dora.getByLabel(/^Internal note — only agents see it/).fill('I take this one.');
    await dora.getByRole('button', { name: 'Add note' }).click();
    await carla
      .getByRole('article', { name: `Internal note by ${DORA.displayName}` })
      .getByText('I take this one.')
      .waitFor({ timeout: BOUND_MS });
    const reply = dora.getByRole('textbox', { name: 'Your reply' });
    await reply.fill('Hello Dario, ');
    await indicator.getByText(`${DORA.displayName} is replying…`).waitFor({ timeout: BOUND_MS });
    await screenshot(carla, 'agent-note-replying', { fullPage: true });
    // The one typing is not told about themselves.
    expect(await dora.getByTestId('replying').count()).toBe(0);

    // Discarded: the text emptied, the draft goes.
    await reply.fill('');
    await indicator.waitFor({ state: 'detached', timeout: BOUND_MS });

    await reply.fill('Hello Dario, a new printer is on its way.');
    await indicator.getByText(`${DORA.displayName} is replying…`).waitFor({ timeout: BOUND_MS });
    await dora.getByRole('button', { name: 'Send', exact: true }).click();
    await indicator.waitFor({ state: 'detached', timeout: BOUND_MS });
    await carla.getByRole('article', { name: /^Reply by/ }).waitFor({ timeout: BOUND_MS });
    expect(await markersKept()).toEqual(['still here', 'still here']);
    expect(watch.problems).toEqual([]);
  });
});
