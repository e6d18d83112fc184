/**
 * The agent's side of the guide's flow in a real browser: the shared mailbox developers@ is set
 * up (provider authenticated as its delegate andrea@, account assigned to an agent), a customer
 * writes to it through the emulator, the agent finds the mail in the DEV tab, reads it, replies,
 * follows the reply to "Sent", and the reply reaches the emulator's outside world; once closed, the
 * conversation is found from the Open tab by a body word, an attachment name and its reference.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, overflowing, screenshot } from './helpers/browser.js';
import { startAgentDesk, type AgentDesk } from './helpers/agent-mailbox.js';
import { signIn } from './helpers/session.js';
import { CONTOSO, type Stack } from './helpers/stack.js';

let desk: AgentDesk;
let stack: Stack;
let admin: BrowserContext;
let page: Page;
let watch: ConsoleWatch;
let accountId = 0;
const AGENT = { username: 'carla', password: 'carla password 1' };
const CUSTOMER = 'dario@customer.example';

const sinkSchema = z.object({
  messages: z.array(z.object({ subject: z.string().optional(), recipients: z.array(z.string()) }).passthrough()),
});

beforeAll(async () => {
  desk = await startAgentDesk({ ...AGENT, displayName: 'Carla Agent' }, { signIn: false });
  ({ stack, admin, page, watch, accountId } = desk);
}, 90_000);

afterAll(async () => {
  await desk?.close();
});

describe('agent workspace', () => {
  it('shows the assignment on the account form and the users list', async () => {
    const adminPage = admin.pages()[0];
    if (adminPage === undefined) throw new Error('no administrator page');
    await adminPage.goto(`${stack.url}/ui/email-accounts/${accountId}/edit`);
    expect(await adminPage.getByRole('checkbox', { name: 'Carla Agent (carla)' }).isChecked()).toBe(true);
    await adminPage.goto(`${stack.url}/ui/users`);
    await expect.poll(() => adminPage.getByRole('row', { name: /carla/ }).textContent()).toContain('DEV');
  });

  it("shows a customer mail in the account's tab, without a reload", async () => {
    await signIn(page, stack.url, AGENT.username, AGENT.password);
    await expect.poll(() => page.url()).toBe(`${stack.url}/ui/inbox/${accountId}`);
    const tab = page.getByRole('navigation', { name: 'Email accounts' }).getByRole('link', { name: /DEV/ });
    expect(await tab.getAttribute('aria-current')).toBe('page');
    await page.getByText('No open conversation.').waitFor();

    await stack.emulator.control('POST', '/exchange/messages', {
      from: `Dario Customer <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject: 'The build is red',
      html: '<p>Since this morning the <b>pipeline</b> fails.</p><p><img src="https://tracker.example/p.gif" alt="tracker"></p>',
      text: 'Since this morning the pipeline fails.',
      messageId: '<first@customer.example>',
      attachments: [
        {
          filename: 'build.log',
          contentType: 'text/plain',
          contentBase64: Buffer.from('step 3 failed: exit 1\n').toString('base64'),
        },
      ],
    });
    const item = page.getByRole('link', { name: /The build is red/ });
    await item.waitFor({ timeout: 30_000 });
    expect(await item.textContent()).toContain('1 new');
    await expect.poll(() => tab.textContent(), { timeout: 20_000 }).toMatch(/1$/);
  }, 60_000);

  it('opens the conversation: the message in a sandboxed frame, remote images blocked, the contact', async () => {
    await page.getByRole('link', { name: /The build is red/ }).click();
    await page.getByRole('heading', { name: 'The build is red' }).waitFor();
    const frame = page.locator('iframe.mail-frame');
    expect(await frame.getAttribute('sandbox')).toBe('allow-same-origin allow-popups allow-popups-to-escape-sandbox');
    await expect.poll(() => frame.contentFrame().locator('b').textContent()).toBe('pipeline');
    expect(await frame.contentFrame().locator('img').getAttribute('src')).toBeNull();
    await page.getByText('1 remote image is blocked').waitFor();
    expect(await page.getByRole('complementary', { name: 'Contact' }).textContent()).toContain(CUSTOMER);
    const attachment = page.getByRole('list', { name: 'Attachments' }).getByRole('link', { name: 'build.log' });
    const download = await page.request.get(`${stack.url}${(await attachment.getAttribute('href')) ?? ''}`);
    expect(download.status()).toBe(200);
    expect(download.headers()['content-disposition']).toMatch(/^attachment/);
    expect(await download.text()).toBe('step 3 failed: exit 1\n');
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.getByText('Assigned to you').waitFor();
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'agent-conversation');
  });

  it('shows why Exchange refused a reply, and sends it on Retry once fixed', async () => {
    await stack.emulator.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: false });
    try {
      await page.getByRole('textbox', { name: 'Your reply' }).fill('One more thing: the fix is deployed.');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const failure = page.getByRole('alert').filter({ hasText: 'The reply could not be sent.' });
      await failure.waitFor({ timeout: 30_000 });
      const text = (await failure.textContent()) ?? '';
      expect(text).toContain('SMTP_AUTH_DISABLED');
      expect(text).toContain('What to do:');
      await screenshot(page, 'agent-reply-failed');
    } finally {
      await stack.emulator.control('PATCH', `/mailboxes/${CONTOSO.andrea.upn}`, { smtpAuthEnabled: true });
    }
    await page.getByRole('form', { name: 'Reply' }).getByRole('button', { name: 'Retry' }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    await expect
      .poll(
        async () =>
          sinkSchema.parse(await stack.emulator.control('GET', `/exchange/sink?to=${encodeURIComponent(CUSTOMER)}`))
            .messages.length,
        { timeout: 20_000 },
      )
      .toBe(1);
  }, 90_000);

  it('replies, follows the reply to Sent, and the customer receives it', async () => {
    await page.getByRole('textbox', { name: 'Your reply' }).fill('Thanks, Dario: we are on it.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const replies = page.getByRole('article', { name: /Reply by/ });
    await expect.poll(() => replies.count(), { timeout: 15_000 }).toBe(2);
    await replies.nth(1).locator('.badge', { hasText: 'Sent' }).waitFor({ timeout: 30_000 });
    await page.locator('.delivery-sent').waitFor();
    // Colleagues see which agent wrote it.
    expect(await replies.nth(1).locator('.message-author').textContent()).toBe('Written by Carla Agent');
    await screenshot(page, 'agent-reply-sent');

    await expect
      .poll(
        async () =>
          sinkSchema.parse(await stack.emulator.control('GET', `/exchange/sink?to=${encodeURIComponent(CUSTOMER)}`))
            .messages.length,
        { timeout: 20_000 },
      )
      .toBe(2);
  }, 60_000);

  it('says a reply Exchange deferred (451) is waiting, with its next try, in plain words', async () => {
    await stack.emulator.control('POST', '/exchange/faults/smtp', { count: 1, code: 451 });
    await page.getByRole('textbox', { name: 'Your reply' }).fill('Deferred once, then sent.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const waiting = page.getByRole('form', { name: 'Reply' }).locator('.delivery-waiting');
    await waiting.waitFor({ timeout: 30_000 });
    expect(await waiting.locator('p').textContent()).toMatch(/Waiting: the mail server was busy — next try .+\.$/);
    // The server's own words are one click away, not the headline.
    expect(await waiting.locator('details').getAttribute('open')).toBeNull();
    expect(await waiting.locator('details pre').textContent()).toContain('SMTP_TEMPORARY_FAILURE');
    expect(await page.getByRole('alert').filter({ hasText: 'could not be sent' }).count()).toBe(0);
    const article = page.getByRole('article', { name: /Reply by/ }).last();
    await article.locator('.badge', { hasText: 'Waiting' }).waitFor({ timeout: 15_000 });
    expect(await article.getByRole('status').textContent()).toContain('next try');
    await screenshot(page, 'agent-reply-waiting');
  }, 60_000);

  it('closes the conversation, which moves to Closed', async () => {
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('button', { name: 'Reopen' }).waitFor();
    const list = page.getByRole('region', { name: 'Conversations' });
    await list.getByRole('button', { name: 'Closed' }).click();
    await list.getByRole('link', { name: /The build is red/ }).waitFor();
    await screenshot(page, 'agent-inbox');
    await list.getByRole('button', { name: 'Open' }).click();
    await list.getByText('No open conversation.').waitFor();
  });

  it('finds the closed conversation from the Open tab by a body word, an attachment name and its reference', async () => {
    const list = page.getByRole('region', { name: 'Conversations' });
    const reference = (await page.locator('.conversation-state .conversation-reference code').textContent()) ?? '';
    expect(reference).toMatch(/^#P\d+-[0-9A-Z]{4}$/);
    const search = list.getByRole('searchbox', { name: 'Search conversations' });
    for (const q of ['pipeline', 'build.log', reference.slice(1), 'from:dario has:attachment']) {
      // From an empty result each time, so that the link seen is this search's.
      await search.fill('xylophone');
      await list.getByText('No conversation matches.').waitFor();
      await search.fill(q);
      const found = list.getByRole('link', { name: /The build is red/ });
      await found.waitFor();
      expect(await found.textContent()).toContain('Closed');
      expect(await found.textContent()).toContain(reference);
    }
    await search.fill('"morning since"');
    await list.getByText('No conversation matches.').waitFor();
    watch.expect(/status of 400/);
    await search.fill('"since this');
    await list.getByRole('alert').filter({ hasText: 'A quote is not closed' }).waitFor();
    await search.fill('');
    await list.getByText('No open conversation.').waitFor();
  });

  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});
