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

let stack: Stack;
let adminPage: Page;
let page: Page;
let accountId = 0;
const AGENT = { username: 'gina', password: 'gina password 1', displayName: 'Gina Agent' };
const CUSTOMER = 'dario@customer.example';
const ANSWER = 'Dear Dario, refunds reach your card within 5 working days.';

let desk: AgentDesk | undefined;

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
    await page.goto(`${stack.url}/ui/account`);
    const box = page.getByRole('textbox', { name: 'Signature' });
    await expect.poll(() => box.isEditable()).toBe(true);
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

    const box = page.getByRole('textbox', { name: 'Your reply' });
    await expect.poll(() => box.inputValue()).toBe(`\n\n${signature}`);
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
    await expect.poll(() => box.inputValue()).toBe(`${ANSWER}\n\n${signature}`);

    // Saved as the draft, restored after a reload without a second signature.
    await expect
      .poll(async () => {
        const response = await page.request.get(`${stack.url}/api/interactions/${id}/draft`);
        return ((await response.json()) as { draft: { text: string } | null }).draft?.text;
      })
      .toBe(`${ANSWER}\n\n${signature}`);
    await page.reload();
    await page.getByRole('heading', { name: 'Where is my refund' }).waitFor();
    await expect.poll(() => box.inputValue()).toBe(`${ANSWER}\n\n${signature}`);

    await composer.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.delivery-sent').waitFor({ timeout: 30_000 });
    // The next reply starts again with the signature alone.
    await expect.poll(() => box.inputValue()).toBe(`\n\n${signature}`);

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
});
