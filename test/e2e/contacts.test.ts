/**
 * Contacts in a real browser (issue 18, point 5): mail delivered through the emulator saves its
 * sender and its Cc'd person; the agent opens a contact from the list, sees its conversations and
 * opens one in the inbox, where the contact card wraps a long address only after its @ and dots;
 * the agent merges two contacts of the account's list with "Merge into…" (the conversations move);
 * the administrator edits a contact on its page.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { overflowing, screenshot } from './helpers/browser.js';
import { startAgentDesk, type AgentDesk } from './helpers/agent-mailbox.js';
import { signIn } from './helpers/session.js';
import { type Stack } from './helpers/stack.js';

let desk: AgentDesk;
let stack: Stack;
let adminPage: Page;
let page: Page;
let accountId = 0;
const AGENT = { username: 'nora', password: 'nora password 12' };
const LONG = 'dario.private.correspondence@home-office.customer-family.example';

beforeAll(async () => {
  desk = await startAgentDesk({ ...AGENT, displayName: 'Nora Agent' }, { signIn: false });
  ({ stack, adminPage, page, accountId } = desk);
}, 90_000);

afterAll(async () => {
  await desk?.close();
});

describe('contacts', () => {
  it("saves the sender and the Cc'd person of a delivered mail", async () => {
    await stack.emulator.control('POST', '/exchange/messages', {
      from: 'Dario Customer <dario@customer.example>',
      to: 'developers@contoso.com',
      cc: 'Erin Colleague <erin@customer.example>',
      subject: 'Invoice 7 is wrong',
      text: 'The total is off by one.',
    });
    await stack.emulator.control('POST', '/exchange/messages', {
      from: `D. Customer <${LONG}>`,
      to: 'developers@contoso.com',
      subject: 'Also the delivery',
      text: 'It came late.',
    });
    await signIn(page, stack.url, AGENT.username, AGENT.password);
    await page.getByRole('link', { name: /Also the delivery/ }).waitFor({ timeout: 30_000 });
    await page.goto(`${stack.url}/ui/contacts?q=customer`);
    const table = page.getByRole('table', { name: 'Contacts' });
    await expect
      .poll(async () => (await table.getByRole('rowheader').allTextContents()).sort())
      .toEqual(['D. Customer', 'Dario Customer', 'Erin Colleague']);
  }, 60_000);

  it('opens a contact from the list with its conversations, and a conversation from there', async () => {
    await page.getByRole('link', { name: 'D. Customer' }).click();
    await page.getByRole('heading', { name: 'D. Customer', level: 1 }).waitFor();
    expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    const conversations = page.getByRole('region', { name: 'Conversations' });
    await conversations.getByRole('link', { name: 'Also the delivery' }).click();
    await page.getByRole('heading', { name: 'Also the delivery' }).waitFor();
    expect(page.url()).toMatch(new RegExp(`/ui/inbox/${accountId}/\\d+$`));

    // The sidebar wraps the long address after its @ and dots, never inside a word, within its box.
    const card = page.getByRole('complementary', { name: 'Contact' });
    await card.locator('.email-address').waitFor();
    expect(await card.locator('.email-address').getAttribute('title')).toBe(LONG);
    const parts = await card.locator('.email-address-part').allTextContents();
    expect(parts.join('')).toBe(LONG);
    expect(parts.every((part, index) => index === parts.length - 1 || /[@.]$/.test(part))).toBe(true);
    const layout: unknown = await page.evaluate(`(() => {
      const card = document.querySelector('.contact-card');
      const parts = [...document.querySelectorAll('.contact-card .email-address-part')];
      return {
        fits: card !== null && card.scrollWidth <= card.clientWidth,
        lines: new Set(parts.map((part) => Math.round(part.getBoundingClientRect().top))).size,
        split: parts.filter((part) => part.getClientRects().length !== 1).length,
      };
    })()`);
    // It does wrap (the column is narrower than the address), each part whole on its line.
    const { fits, lines, split } = z.object({ fits: z.boolean(), lines: z.number(), split: z.number() }).parse(layout);
    expect({ fits, split }).toEqual({ fits: true, split: 0 });
    expect(lines).toBeGreaterThan(1);
    expect(await overflowing(page)).toEqual([]);
    await card.getByRole('link', { name: 'Contact page of D. Customer' }).click();
    await page.getByRole('heading', { name: 'D. Customer', level: 1 }).waitFor();
  });

  it('merges the contact into another of the list found by search: the conversations move', async () => {
    await page.getByRole('button', { name: 'Merge into…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Merge D. Customer into…' });
    await dialog.getByRole('searchbox', { name: 'Find a contact' }).fill('dario@');
    // Other contacts of the list until the search answers; then Dario alone (this one is never offered).
    await expect.poll(() => dialog.getByRole('radio').count()).toBe(1);
    await dialog.getByRole('radio', { name: /Dario Customer/ }).check();
    await dialog.getByRole('button', { name: 'Merge into Dario Customer' }).click();
    await page.getByRole('heading', { name: 'Dario Customer', level: 1 }).waitFor();
    await page.getByText('D. Customer was merged into Dario Customer.').waitFor();
    const details = page.getByRole('region', { name: 'Details' });
    await expect
      .poll(() => details.locator('.email-address').allTextContents())
      .toEqual(['dario@customer.example', LONG]);
    const conversations = page.getByRole('region', { name: 'Conversations' });
    await expect
      .poll(async () => (await conversations.getByRole('link').allTextContents()).sort())
      .toEqual(['Also the delivery', 'Invoice 7 is wrong']);
    await screenshot(page, 'contact-page');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await overflowing(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 860 });

    await page.goto(`${stack.url}/ui/contacts?q=customer`);
    await expect
      .poll(async () =>
        (await page.getByRole('table', { name: 'Contacts' }).getByRole('rowheader').allTextContents()).sort(),
      )
      .toEqual(['Dario Customer', 'Erin Colleague']);
  });

  it('lets the administrator edit a contact on its page', async () => {
    await adminPage.goto(`${stack.url}/ui/contacts?q=erin`);
    await adminPage.getByRole('link', { name: 'Erin Colleague' }).click();
    await adminPage.getByRole('heading', { name: 'Erin Colleague', level: 1 }).waitFor();
    await adminPage.getByRole('region', { name: 'Conversations' }).getByText('No conversation').waitFor();
    await adminPage.getByRole('button', { name: 'Edit' }).click();
    const dialog = adminPage.getByRole('dialog', { name: 'Edit Erin Colleague' });
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Erin Accounts');
    await dialog.getByRole('textbox', { name: 'Notes' }).fill('Copied on invoices.');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await adminPage.getByText('Contact Erin Accounts saved.').waitFor();
    await adminPage.getByRole('heading', { name: 'Erin Accounts', level: 1 }).waitFor();
    expect(await adminPage.getByRole('region', { name: 'Details' }).textContent()).toContain('Copied on invoices.');
  });
});
