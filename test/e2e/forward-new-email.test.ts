/**
 * Forward and new email in a real browser against the emulator: an agent forwards a customer's
 * message with `f` (listed in the `?` overlay), removes one of its two attachments and sends it to
 * an outside address, which receives "Fw: …" with the other attachment byte for byte; a new email
 * written from the inbox reaches the outside world and opens as a new conversation. Both
 * composers pass axe-core (no serious or critical WCAG 2.1 A/AA violation).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sink } from '../outbound/helpers.js';
import { parseMessage } from '../../src/mail/mime/parse-message.js';
import { ConsoleWatch, overflowing, screenshot } from './helpers/browser.js';
import { startAgentDesk, type AgentDesk } from './helpers/agent-mailbox.js';
import type { Stack } from './helpers/stack.js';

let stack: Stack;
let page: Page;
let watch: ConsoleWatch;
let accountId = 0;
const AGENT = { username: 'gianni', password: 'gianni password 1', displayName: 'Gianni Agent' };
const CUSTOMER = 'dario@customer.example';
const LAWYER = 'legal@partner.example';
const BUYER = 'buyer@partner.example';
/** Every byte value, so that an encoding slip on the way shows. */
const CONTRACT = Buffer.from([...Array.from({ length: 256 }, (_, i) => 255 - i), ...Buffer.from('%PDF-1.7 signed')]);

// Evaluated through the debugging protocol, so the console's Content-Security-Policy stays on.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const axeResult = z.object({
  violations: z.array(z.object({ id: z.string(), impact: z.string().nullable().optional(), help: z.string() })),
});

/** The serious and critical WCAG 2.1 A/AA violations on the page as it is now. */
async function violations(): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = axeResult.parse(
    await page.evaluate(
      `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })`,
    ),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help}`);
}

const control = { control: (m: string, r: string, b?: unknown) => stack.emulator.control(m, r, b) };

let desk: AgentDesk | undefined;

beforeAll(async () => {
  desk = await startAgentDesk(AGENT);
  ({ stack, page, watch, accountId } = desk);
}, 90_000);

afterAll(async () => {
  await desk?.close();
});

describe('forward', () => {
  it('lists f in the shortcuts and forwards the latest message with it, one attachment removed', async () => {
    await stack.emulator.control('POST', '/exchange/messages', {
      mailbox: 'developers@contoso.com',
      from: `Dario Customer <${CUSTOMER}>`,
      to: 'developers@contoso.com',
      subject: 'RE: Signed contract',
      text: 'The signed contract and my notes.',
      attachments: [
        { filename: 'contract.pdf', contentType: 'application/pdf', contentBase64: CONTRACT.toString('base64') },
        { filename: 'notes.txt', contentType: 'text/plain', contentBase64: Buffer.from('private').toString('base64') },
      ],
    });
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    const item = page.getByRole('link', { name: /Signed contract/ });
    await item.waitFor({ timeout: 30_000 });
    await item.click();
    await page.getByRole('heading', { name: 'Signed contract' }).waitFor();

    await page.locator('body').press('?');
    const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await overlay.getByText('Forward the latest message').waitFor();
    await page.keyboard.press('Escape');
    await overlay.waitFor({ state: 'hidden' });

    await page.locator('body').press('f');
    const composer = page.getByRole('form', { name: 'Forward' });
    await composer.waitFor();
    expect(await page.getByRole('form', { name: 'Reply' }).count()).toBe(0);
    // The To line has the focus: the agent types the first address at once.
    expect(await page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')")).toBe(
      'Add to To',
    );
    expect(await composer.getByRole('textbox', { name: 'Subject' }).inputValue()).toBe('Fw: Signed contract');
    expect(await composer.getByRole('list', { name: 'To recipients' }).getByRole('listitem').count()).toBe(0);
    const block = composer.getByRole('group', { name: 'Forwarded message' });
    expect(await block.textContent()).toContain(`From:Dario Customer <${CUSTOMER}>`);
    expect(await block.textContent()).toContain('Subject:RE: Signed contract');
    expect(await block.textContent()).toContain('The signed contract and my notes.');
    const carried = composer.getByRole('list', { name: 'Forwarded attachments' });
    await expect.poll(() => carried.getByRole('listitem').count()).toBe(2);
    expect(await violations()).toEqual([]);
    await composer.getByRole('button', { name: 'Remove notes.txt' }).click();
    expect(await carried.getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('contract.pdf')]);

    const to = composer.getByRole('combobox', { name: 'Add to To' });
    await to.fill(LAWYER);
    await to.press('Enter');
    await composer.getByRole('list', { name: 'To recipients' }).getByText(LAWYER).waitFor();
    await composer.getByRole('textbox', { name: 'Your message' }).fill('Please file this.');
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'agent-forward');
    await composer.getByRole('button', { name: 'Forward', exact: true }).click();
    await composer.waitFor({ state: 'detached' });
    await page.getByRole('form', { name: 'Reply' }).waitFor();
    const forwarded = page.getByRole('article', { name: /^Reply by/ });
    await forwarded.getByRole('link', { name: 'contract.pdf' }).waitFor();
    await forwarded.locator('.badge', { hasText: 'Sent' }).waitFor({ timeout: 30_000 });

    await expect.poll(async () => (await sink(control, LAWYER)).length, { timeout: 20_000 }).toBe(1);
    const [out] = await sink(control, LAWYER);
    if (out?.raw === undefined) throw new Error('the lawyer received nothing');
    const parsed = await parseMessage(Buffer.from(out.raw, 'utf8'));
    expect(parsed.subject).toMatch(/^Fw: Signed contract \[#P\d+-[0-9A-Z]{4}\]$/);
    expect(parsed.from.map((a) => a.address)).toEqual(['developers@contoso.com']);
    expect(parsed.attachments.map((a) => a.filename)).toEqual(['contract.pdf']);
    expect(parsed.attachments[0]?.content.equals(CONTRACT)).toBe(true);
    expect(parsed.text).toContain('Please file this.');
    expect(parsed.text).toContain('---------- Forwarded message ----------');
    expect(parsed.text).toContain(`From: Dario Customer <${CUSTOMER}>`);
    expect(await sink(control, CUSTOMER)).toEqual([]);
  }, 90_000);
});

describe('new email', () => {
  it('writes from the assigned account, and the sent email opens as a new conversation', async () => {
    await page.goto(`${stack.url}/ui/inbox/${accountId}`);
    await page.getByRole('button', { name: 'New email' }).click();
    const composer = page.getByRole('form', { name: 'New email' });
    await composer.waitFor();
    const from = composer.getByRole('combobox', { name: 'From' });
    expect(await from.locator('option').allTextContents()).toEqual(['DEV — Developers <developers@contoso.com>']);
    const to = composer.getByRole('combobox', { name: 'Add to To' });
    await to.fill(BUYER);
    await to.press('Enter');
    await composer.getByRole('list', { name: 'To recipients' }).getByText(BUYER).waitFor();
    await composer.getByRole('textbox', { name: 'Subject' }).fill('Quote for 2027');
    await composer.getByRole('textbox', { name: 'Your message' }).fill('Here is our quote.');
    expect(await overflowing(page)).toEqual([]);
    expect(await violations()).toEqual([]);
    await composer.getByRole('button', { name: 'Send', exact: true }).click();

    await page.getByRole('heading', { name: 'Quote for 2027' }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/ui/inbox/${accountId}/\\d+$`));
    await page
      .getByRole('region', { name: 'Conversations' })
      .getByRole('link', { name: /Quote for 2027/ })
      .waitFor();
    const reference = await page.locator('.conversation-reference code').textContent();
    expect(reference).toMatch(/^#P\d+-[0-9A-Z]{4}$/);

    await expect.poll(async () => (await sink(control, BUYER)).length, { timeout: 20_000 }).toBe(1);
    const [out] = await sink(control, BUYER);
    expect(out?.subject).toBe(`Quote for 2027 [${reference ?? ''}]`);
  }, 60_000);
});

describe('the page', () => {
  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});
