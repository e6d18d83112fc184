/**
 * The agent's composer in a real browser against the emulator: the recipients of a reply all are
 * shown and edited (one Cc removed, a Bcc added, a bad address refused as it is typed), and what
 * reaches the emulator's outside world is exactly that.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sink } from '../outbound/helpers.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { ConsoleWatch, overflowing, screenshot } from './helpers/browser.js';
import { startAgentDesk, type AgentDesk } from './helpers/agent-mailbox.js';
import type { Stack } from './helpers/stack.js';

let stack: Stack;
let page: Page;
let watch: ConsoleWatch;
let accountId = 0;
const AGENT = { username: 'carla', password: 'carla password 1', displayName: 'Carla Agent' };
const CUSTOMER = 'dario@customer.example';
const COLLEAGUE = 'elena@customer.example';
const BOSS = 'franco@customer.example';
const AUDIT = 'audit@contoso-archive.example';

let desk: AgentDesk | undefined;

beforeAll(async () => {
  desk = await startAgentDesk(AGENT);
  ({ stack, page, watch, accountId } = desk);
}, 90_000);

afterAll(async () => {
  await desk?.close();
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

/** The reply editor's words (its lines, without the spaces that end them). */
async function replyText(): Promise<string> {
  const text = await page.getByRole('textbox', { name: 'Your reply' }).innerText();
  return text
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
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

describe('drafts', () => {
  it('keeps a half-written reply across another conversation and a reload', async () => {
    for (const subject of ['Draft one', 'Draft two']) await deliver(subject, { mailbox: 'developers@contoso.com' });
    await openConversation('Draft two');
    await openConversation('Draft one');
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const text = 'Half-written: the fix needs one more day';
    await page.getByRole('textbox', { name: 'Your reply' }).fill(text);
    // Saved by the server while typing (the draft API is what another device reads).
    await expect
      .poll(async () => {
        const response = await page.request.get(`${stack.url}/api/interactions/${id}/draft`);
        return ((await response.json()) as { draft: { text: string } | null }).draft?.text;
      })
      .toBe(text);

    const list = page.getByRole('region', { name: 'Conversations' });
    await list.getByRole('link', { name: /Draft two/ }).click();
    await page.getByRole('heading', { name: 'Draft two' }).waitFor();
    await expect.poll(() => replyText()).toBe('');
    await list.getByRole('link', { name: /Draft one/ }).click();
    await page.getByRole('heading', { name: 'Draft one' }).waitFor();
    await expect.poll(() => replyText()).toBe(text);

    await page.reload();
    await page.getByRole('heading', { name: 'Draft one' }).waitFor();
    await expect.poll(() => replyText()).toBe(text);
  }, 90_000);

  it('is gone once the reply is sent', async () => {
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    const response = await page.request.get(`${stack.url}/api/interactions/${id}/draft`);
    expect(await response.json()).toEqual({ draft: null });
    await page.reload();
    await page.getByRole('heading', { name: 'Draft one' }).waitFor();
    await expect.poll(() => replyText()).toBe('');
  }, 60_000);

  it('says when a draft could not be saved, lets the reply be sent, and saves the draft at the next change', async () => {
    await deliver('Draft trouble', { mailbox: 'developers@contoso.com' });
    await openConversation('Draft trouble');
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const refused = {
      error: { code: 'REQUEST_TOO_LARGE', message: 'The request body is too large.', remedy: 'Send a smaller body.' },
    };
    await page.route('**/api/interactions/*/draft', (route) =>
      route.request().method() === 'PUT'
        ? route.fulfill({ status: 413, contentType: 'application/json', body: JSON.stringify(refused) })
        : route.continue(),
    );
    watch.expect(/status of 413/);
    const box = page.getByRole('textbox', { name: 'Your reply' });
    await box.fill('First words');
    const alert = page.getByRole('alert').filter({ hasText: 'Your draft was not saved' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('The request body is too large.');
    expect(await page.getByRole('alert').filter({ hasText: 'The reply was not sent' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Send', exact: true }).isEnabled()).toBe(true);

    await page.unroute('**/api/interactions/*/draft');
    await box.fill('First words, saved');
    await alert.waitFor({ state: 'detached' });
    await expect
      .poll(async () => {
        const response = await page.request.get(`${stack.url}/api/interactions/${id}/draft`);
        return ((await response.json()) as { draft: { text: string } | null }).draft?.text;
      })
      .toBe('First words, saved');
  }, 60_000);
});

describe('formatting and files', () => {
  it('keeps a formatted draft across a reload: the bold words are still bold', async () => {
    await deliver('Bold draft', { mailbox: 'developers@contoso.com' });
    await openConversation('Bold draft');
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const box = page.getByRole('textbox', { name: 'Your reply' });
    const bold = page.getByRole('button', { name: 'Bold' });
    await box.focus();
    await page.keyboard.press('Control+B');
    await expect.poll(() => bold.getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.type('Bold words');
    await page.keyboard.press('Control+B');
    await page.keyboard.type(' and plain ones');
    await expect
      .poll(async () => {
        const response = await page.request.get(`${stack.url}/api/interactions/${id}/draft`);
        return ((await response.json()) as { draft: { html: string | null } | null }).draft?.html;
      })
      // Chromium writes the space after the bold words as &nbsp;.
      .toMatch(/<(b|strong)>Bold words<\/(b|strong)>(?: |&nbsp;)and plain ones/);

    await page.reload();
    await page.getByRole('heading', { name: 'Bold draft' }).waitFor();
    await expect.poll(() => replyText()).toBe('Bold words and plain ones');
    expect(await box.locator('b, strong').allTextContents()).toEqual(['Bold words']);
  }, 60_000);

  it('adds a link only to an http, https or mailto address, and reduces pasted HTML to its whitelist', async () => {
    const composer = page.getByRole('form', { name: 'Reply' });
    const box = page.getByRole('textbox', { name: 'Your reply' });
    await box.focus();
    await page.keyboard.press('End');
    await page.keyboard.type(' — status: ');
    await composer.getByRole('button', { name: 'Link' }).click();
    const address = composer.getByRole('textbox', { name: 'Link address' });
    await address.fill('javascript:alert(1)');
    await address.press('Enter');
    await composer.getByRole('alert').filter({ hasText: 'https://, http:// or mailto:' }).waitFor();
    await address.fill('https://status.contoso.example/');
    await composer.getByRole('button', { name: 'Add link' }).click();
    await expect
      .poll(() => box.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href'))))
      .toEqual(['https://status.contoso.example/']);
    expect(await box.locator('a[href^="javascript"]').count()).toBe(0);

    await box.focus();
    await page.keyboard.press('End');
    // Chromium reports the pasted onclick when it parses the clipboard's HTML (the page's CSP
    // refuses it there); the whitelist then leaves it out.
    watch.expect(/Executing inline event handler violates the following Content Security Policy/);
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.setData('text/html', '<p style="color:red" onclick="x()">Pasted <strong>strong</strong> <img src="https://tracker.example/p.gif">' +
        '<a href="javascript:alert(1)">bad link</a> <a href="mailto:ada@example.org">mail</a><script>window.__pwned = 1</script></p>' +
        '<h1>Title</h1><table><tr><td>cell</td></tr></table>');
      data.setData('text/plain', 'Pasted strong');
      document.querySelector('[role="textbox"][contenteditable]').dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    })()`);
    await expect.poll(() => box.innerText()).toContain('Pasted strong');
    const html = await box.evaluate((element) => element.innerHTML);
    expect(html).toMatch(/<strong>strong<\/strong>/);
    expect(html).toContain('href="mailto:ada@example.org"');
    expect(html).toContain('bad link');
    expect(html).toContain('cell');
    for (const gone of ['<img', 'tracker.example', 'javascript:', 'onclick', 'style=', '<script', '<h1', '<table'])
      expect(html).not.toContain(gone);
    expect(await page.evaluate('window.__pwned === undefined')).toBe(true);
  }, 60_000);

  it('takes files dropped on the composer, shows the limit, refuses a file over it, and sends the dropped one', async () => {
    await deliver('Dropped file', { mailbox: 'developers@contoso.com' });
    await openConversation('Dropped file');
    const composer = page.getByRole('form', { name: 'Reply' });
    // The account's maximum message size, next to Attach files.
    await composer.getByText('up to 35.0 MB').waitFor();
    await page.getByRole('textbox', { name: 'Your reply' }).fill('The log you asked for.');
    await page.evaluate(`(() => {
      const form = document.querySelector('form[aria-label="Reply"]');
      const drop = (files) => {
        const data = new DataTransfer();
        for (const file of files) data.items.add(file);
        form.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: data }));
        window.__dropZone = document.querySelector('.drop-zone') !== null;
        return data;
      };
      window.__drop = (files) => {
        const data = drop(files);
        return new Promise((resolve) => requestAnimationFrame(() => {
          window.__dropZoneShown = document.querySelector('.drop-zone') !== null;
          form.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));
          resolve(window.__dropZoneShown);
        }));
      };
    })()`);
    const shown = await page.evaluate(
      `window.__drop([new File(['line 1\\nline 2\\n'], 'server.log', { type: 'text/plain' })])`,
    );
    expect(shown).toBe(true);
    const files = composer.getByRole('list', { name: 'Attached files' });
    await files.getByText('server.log').waitFor();
    expect(await composer.locator('.drop-zone').count()).toBe(0);

    // Over the account's limit: refused in the browser, with the reason, before any upload.
    await page.evaluate(`window.__drop([new File([new Uint8Array(36 * 1024 * 1024)], 'huge.bin')])`);
    const refusal = composer.getByRole('alert').filter({ hasText: 'huge.bin' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('this account sends messages of up to 35.0 MB');
    expect(await files.getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('server.log')]);

    await composer.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };
    await expect
      .poll(async () => (await sink(control, CUSTOMER)).filter((m) => m.raw?.includes('Dropped file')).length, {
        timeout: 20_000,
      })
      .toBe(1);
    const out = (await sink(control, CUSTOMER)).find((m) => m.raw?.includes('Dropped file'));
    const parsed = await parseMessage(Buffer.from(out?.raw ?? '', 'utf8'));
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['server.log']);
    expect(parsed.text).toContain('The log you asked for.');
  }, 60_000);
});

describe('assignment', () => {
  it("shows the owner's name in the list and the header, and assigns to a named person of the account", async () => {
    await deliver('Who owns this', { mailbox: 'developers@contoso.com' });
    await openConversation('Who owns this');
    const list = page.getByRole('region', { name: 'Conversations' });
    const item = list.getByRole('link', { name: /Who owns this/ });
    const header = page.getByTestId('assignee');
    await expect.poll(() => item.textContent()).toContain('Unassigned');
    expect(await header.textContent()).toBe('Not assigned');

    // The account's agents and the administrators, by name.
    const select = page.getByRole('combobox', { name: 'Assign to' });
    await expect
      .poll(() => select.locator('option').allTextContents())
      .toEqual(['Nobody', 'Administrator', `${AGENT.displayName} (you)`]);
    await select.selectOption({ label: 'Administrator' });
    await expect.poll(() => header.textContent()).toBe('Assigned to Administrator');
    await expect.poll(() => item.textContent()).toContain('Owner: Administrator');
    expect(await overflowing(page)).toEqual([]);

    await select.selectOption({ label: `${AGENT.displayName} (you)` });
    await expect.poll(() => header.textContent()).toBe('Assigned to you');
    await expect.poll(() => item.textContent()).toContain(`Owner: ${AGENT.displayName}`);
    await select.selectOption({ label: 'Nobody' });
    await expect.poll(() => header.textContent()).toBe('Not assigned');
    await expect.poll(() => item.textContent()).toContain('Unassigned');
  }, 60_000);

  it('assigns an unassigned conversation to the agent who replies, and "Send and close" closes it', async () => {
    await deliver('Close after the answer', { mailbox: 'developers@contoso.com' });
    await openConversation('Close after the answer');
    const header = page.getByTestId('assignee');
    expect(await header.textContent()).toBe('Not assigned');
    await page.getByRole('textbox', { name: 'Your reply' }).fill('Fixed for good: closing this.');
    await page.getByRole('button', { name: 'Send and close' }).click();
    await page.getByRole('button', { name: 'Reopen' }).waitFor();
    await expect.poll(() => header.textContent()).toBe('Assigned to you');
    await page.locator('.conversation-state .badge', { hasText: 'Closed' }).waitFor();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });

    const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };
    await expect
      .poll(
        async () => (await sink(control, CUSTOMER)).filter((m) => m.raw?.includes('Close after the answer')).length,
        {
          timeout: 20_000,
        },
      )
      .toBe(1);

    const list = page.getByRole('region', { name: 'Conversations' });
    await list.getByRole('button', { name: 'Closed' }).click();
    const item = list.getByRole('link', { name: /Close after the answer/ });
    await expect.poll(() => item.textContent()).toContain(`Owner: ${AGENT.displayName}`);
  }, 60_000);
});

describe('the page', () => {
  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});
