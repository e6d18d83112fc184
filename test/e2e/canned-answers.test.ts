/**
 * Signatures and canned answers in a real browser against the emulator: the administrator sets the
 * account's signature on its form and shares a canned answer from the Canned answers page; the
 * agent sets their own signature on the Account page. In a conversation the agent finds the answer
 * by typing part of its title, picks it with the keyboard, and it lands above the signatures
 * (the agent's, then the account's, after "-- ") with the customer's first name filled in; a
 * reload restores the draft without a second signature; what reaches the customer's mailbox in
 * the emulator's outside world is that text.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sink } from '../outbound/helpers.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { startAgentDesk, type AgentDesk } from './helpers/agent-mailbox.js';
import type { Stack } from './helpers/stack.js';
import { screenshot } from './helpers/browser.js';

let stack: Stack;
let adminPage: Page;
let page: Page;
let accountId = 0;
const AGENT = { username: 'gina', password: 'gina password 1', displayName: 'Gina Agent' };
const CUSTOMER = 'dario@customer.example';
const ANSWER = 'Dear Dario, refunds reach your card within 5 working days.';

let desk: AgentDesk | undefined;

/** Text as lines without the spaces that end them, and at most one empty line in a row. */
function lines(text: string): string {
  return text
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The reply editor's words, as {@link lines}. */
async function shown(): Promise<string> {
  return lines(await page.getByRole('textbox', { name: 'Your reply' }).innerText());
}

beforeAll(async () => {
  desk = await startAgentDesk(AGENT);
  ({ stack, page, accountId, adminPage } = desk);
}, 120_000);

afterAll(async () => {
  await desk?.close();
});

describe('signatures and canned answers', () => {
  it("lets the administrator set the account's signature and share a canned answer", async () => {
    await adminPage.goto(`${stack.url}/ui/email-accounts/${accountId}/edit`);
    await adminPage
      .getByRole('textbox', { name: 'Signature' })
      .fill('{{account.name}} team · {{conversation.reference}}');
    await adminPage.getByRole('button', { name: 'Save changes' }).click();
    await expect
      .poll(async () => {
        const response = await adminPage.request.get(`${stack.url}/api/email/accounts/${accountId}`);
        return ((await response.json()) as { signature: string | null }).signature;
      })
      .toBe('{{account.name}} team · {{conversation.reference}}');

    await adminPage.goto(`${stack.url}/ui/canned-answers`);
    await adminPage.getByRole('button', { name: 'New canned answer' }).click();
    await adminPage.getByRole('textbox', { name: 'Title' }).fill('Refund delay');
    await adminPage
      .getByRole('textbox', { name: 'Text' })
      .fill('Dear {{contact.firstName}}, refunds reach your card within 5 working days.');
    await adminPage.getByRole('checkbox', { name: 'Shared with all agents' }).check();
    await adminPage.getByRole('button', { name: 'Save', exact: true }).click();
    await adminPage
      .getByRole('row', { name: /Refund delay/ })
      .getByText('Shared')
      .waitFor();

    // A typo in a placeholder is named before anyone sends it.
    await adminPage.getByRole('button', { name: 'New canned answer' }).click();
    await adminPage.getByRole('textbox', { name: 'Title' }).fill('Typo');
    await adminPage.getByRole('textbox', { name: 'Text' }).fill('Hello {{contact.nmae}}');
    await adminPage.getByRole('button', { name: 'Save', exact: true }).click();
    await adminPage
      .getByRole('row', { name: /Typo/ })
      .getByText(/Unknown placeholder \{\{contact\.nmae\}\}/)
      .waitFor();
  }, 60_000);

  it('lets the agent set their own signature and not share an answer', async () => {
    // The stored signature arrives late, as on a slow link: what the agent types is not
    // overwritten by it, because the box takes no typing before it is there.
    const held = '**/api/auth/me/signature';
    await page.route(held, async (route) => {
      if (route.request().method() === 'GET') await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });
    await page.goto(`${stack.url}/ui/account`);
    const box = page.getByRole('textbox', { name: 'Signature' });
    await box.waitFor();
    expect(await box.isEditable()).toBe(false);
    await expect.poll(() => box.isEditable(), { timeout: 10_000 }).toBe(true);
    await page.unroute(held);
    await box.fill('{{agent.name}}\nSupport desk');
    await page.getByRole('button', { name: 'Save signature' }).click();
    await page.getByText('Your signature has been saved.').waitFor();

    await page.goto(`${stack.url}/ui/canned-answers`);
    await page.getByRole('row', { name: /Refund delay/ }).waitFor();
    await page.getByRole('button', { name: 'New canned answer' }).click();
    expect(await page.getByRole('checkbox', { name: 'Shared with all agents' }).count()).toBe(0);
    // Nor change the shared one.
    expect(await page.getByRole('button', { name: 'Edit Refund delay' }).count()).toBe(0);
  }, 60_000);

  it('picks the answer by typing part of its title, fills it, keeps one signature, and sends it', async () => {
    await stack.emulator.control('POST', '/exchange/messages', {
      from: `Dario Customer <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject: 'Where is my refund',
      text: 'I returned the parcel last week.',
    });
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    const item = page.getByRole('link', { name: /Where is my refund/ });
    await item.waitFor({ timeout: 30_000 });
    await item.click();
    await page.getByRole('heading', { name: 'Where is my refund' }).waitFor();
    const id = Number(new URL(page.url()).pathname.split('/').pop());
    const detail = await page.request.get(`${stack.url}/api/interactions/${id}`);
    const reference = ((await detail.json()) as { subjectToken: string }).subjectToken;
    expect(reference).toMatch(/^#P\d+-/);
    const signature = `-- \nGina Agent\nSupport desk\n\nDevelopers team · ${reference}`;

    await expect.poll(() => shown()).toBe(lines(signature));
    // The signature alone is not a reply.
    const composer = page.getByRole('form', { name: 'Reply' });
    expect(await composer.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true);

    await composer.getByRole('button', { name: 'Canned answer' }).click();
    const filter = composer.getByRole('combobox', { name: 'Find a canned answer by its title' });
    await filter.pressSequentially('refund');
    const options = composer.getByRole('listbox', { name: 'Canned answers' }).getByRole('option');
    await expect.poll(() => options.allTextContents()).toEqual(['Refund delay']);
    expect(await options.first().getAttribute('aria-selected')).toBe('true');
    await filter.press('Enter');
    await expect.poll(() => shown()).toBe(lines(`${ANSWER}\n\n${signature}`));

    // Saved as the draft, restored after a reload without a second signature.
    await expect
      .poll(async () => {
        const response = await page.request.get(`${stack.url}/api/interactions/${id}/draft`);
        const draft = ((await response.json()) as { draft: { text: string } | null }).draft;
        return draft === null ? undefined : lines(draft.text);
      })
      .toBe(lines(`${ANSWER}\n\n${signature}`));
    await page.reload();
    await page.getByRole('heading', { name: 'Where is my refund' }).waitFor();
    await expect.poll(() => shown()).toBe(lines(`${ANSWER}\n\n${signature}`));

    await composer.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    // The next reply starts again with the signature alone.
    await expect.poll(() => shown()).toBe(lines(signature));

    const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };
    await expect.poll(async () => (await sink(control, CUSTOMER)).length, { timeout: 20_000 }).toBe(1);
    const [out] = await sink(control, CUSTOMER);
    if (out?.raw === undefined) throw new Error('the customer received nothing');
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    const text = (parsed.text ?? '').replace(/\r\n/g, '\n');
    expect(text.startsWith(`${ANSWER}\n\n${signature}`)).toBe(true);
    expect(text.split('\n-- \n')).toHaveLength(2);
    expect(text).not.toContain('{{');
  }, 120_000);

  it('replies in HTML: bold and a list from the editor, a canned answer, the signature, one Cc removed', async () => {
    const colleague = 'elena@customer.example';
    const boss = 'franco@customer.example';
    // Straight into the mailbox: the copies to Elena and Franco would otherwise reach the sink too.
    await stack.emulator.control('POST', '/exchange/messages', {
      mailbox: 'developers@contoso.com',
      from: `Dario Customer <${CUSTOMER}>`,
      to: ['developers@contoso.com'],
      cc: [`Elena <${colleague}>`, `Franco <${boss}>`],
      subject: 'Refund for two parcels',
      text: 'Both parcels went back.',
      messageId: '<two-parcels@customer.example>',
    });
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    const item = page.getByRole('link', { name: /Refund for two parcels/ });
    await item.waitFor({ timeout: 30_000 });
    await item.click();
    await page.getByRole('heading', { name: 'Refund for two parcels' }).waitFor();
    const composer = page.getByRole('form', { name: 'Reply' });
    await composer.getByRole('radio', { name: 'Reply all' }).check();
    const cc = composer.getByRole('list', { name: 'Cc recipients', exact: true });
    await expect.poll(() => cc.getByRole('listitem').count()).toBe(2);
    await composer.getByRole('button', { name: `Remove ${boss} from Cc` }).click();
    await expect.poll(() => cc.getByRole('listitem').allTextContents()).toEqual([`Elena <${colleague}>×`]);

    // The signature is there; the agent writes above it.
    await expect.poll(() => shown()).toContain('Gina Agent');
    const box = page.getByRole('textbox', { name: 'Your reply' });
    await box.focus();
    await page.keyboard.press('Control+B');
    await page.keyboard.type('Good news');
    await page.keyboard.press('Control+B');
    await page.keyboard.type(', Dario:');
    await page.keyboard.press('Enter');
    await composer.getByRole('button', { name: 'Bulleted list' }).click();
    await expect
      .poll(() => composer.getByRole('button', { name: 'Bulleted list' }).getAttribute('aria-pressed'))
      .toBe('true');
    await page.keyboard.type('first parcel received');
    await page.keyboard.press('Enter');
    await page.keyboard.type('second parcel received');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await composer.getByRole('button', { name: 'Canned answer' }).click();
    const filter = composer.getByRole('combobox', { name: 'Find a canned answer by its title' });
    await filter.pressSequentially('refund');
    await filter.press('Enter');
    await expect.poll(() => shown()).toContain(ANSWER);
    const words = await shown();
    expect(words.indexOf('Good news')).toBeLessThan(words.indexOf(ANSWER));
    expect(words.indexOf(ANSWER)).toBeLessThan(words.indexOf('Gina Agent'));
    await screenshot(page, 'agent-composer-html');

    await composer.getByRole('button', { name: 'Send to all' }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };
    const mine = async () =>
      (await sink(control, CUSTOMER)).filter((m) => m.raw?.includes('Refund for two parcels') === true);
    await expect.poll(async () => (await mine()).length, { timeout: 20_000 }).toBe(1);
    const [out] = await mine();
    if (out?.raw === undefined) throw new Error('the customer received nothing');
    expect(out.raw).toMatch(/^Content-Type: multipart\/alternative;/im);
    // Not in the envelope, not in the header.
    expect([...out.recipients].sort()).toEqual([CUSTOMER, colleague].sort());
    expect(out.raw).not.toContain(boss);
    expect(await sink(control, boss)).toEqual([]);
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.inReplyTo).toEqual(['<two-parcels@customer.example>']);
    expect(parsed.references).toContain('<two-parcels@customer.example>');
    expect(parsed.cc.map((a) => a.address)).toEqual([colleague]);
    const html = parsed.html ?? '';
    expect(html).toMatch(/<(b|strong)>Good news<\/(b|strong)>/);
    expect(html).toMatch(/<ul>\s*<li>first parcel received<\/li>\s*<li>second parcel received<\/li>\s*<\/ul>/);
    expect(html).toContain(ANSWER);
    const text = (parsed.text ?? '').replace(/\r\n/g, '\n');
    expect(text).toContain('Good news, Dario:');
    expect(text).toContain('- first parcel received\n- second parcel received');
    expect(text).toContain(ANSWER);
    expect(text).toContain('\n-- \nGina Agent\nSupport desk');
    expect(text).toContain('> Both parcels went back.');

    // A Cc'd address finds the open conversation from the Closed tab.
    const list = page.getByRole('region', { name: 'Conversations' });
    await list.getByRole('button', { name: 'Closed' }).click();
    const search = list.getByRole('searchbox', { name: 'Search conversations' });
    await search.fill('xylophone');
    await list.getByText('No conversation matches.').waitFor();
    await search.fill(boss);
    const found = list.getByRole('link', { name: /Refund for two parcels/ });
    await found.waitFor();
    expect(await list.getByRole('link').allTextContents()).toHaveLength(1);
  }, 120_000);
});
