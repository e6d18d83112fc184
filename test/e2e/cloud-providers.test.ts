/**
 * The reference guide's administrator flow in a real browser (Debian's Chromium) against the
 * emulator: sign in, create a Cloud Provider with the guide's fields, Authenticate through
 * Microsoft's (the emulator's) sign-in and consent pages, come back to the success banner; a
 * declined sign-in comes back with the error and its remedy; Update Client Secret; device code
 * sign-in; Delete. Screenshots of each screen go to docs/screenshots/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, launchChromium, newContext, overflowing, screenshot } from './helpers/browser.js';
import { CONTOSO, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: ConsoleWatch;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  context = await newContext(browser);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  watch = new ConsoleWatch(stack.url);
  watch.attach(page);
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

const providerUrl = /\/ui\/cloud-providers\/(\d+)$/;

describe('administrator console: Cloud Providers', () => {
  it('signs in as the administrator', async () => {
    await page.goto(`${stack.url}/`);
    await expect.poll(() => page.url()).toBe(`${stack.url}/ui/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');
    await page.getByRole('textbox', { name: 'Username' }).fill(stack.admin.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    watch.expect(/status of 401/);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('AUTH_');
    await page.getByLabel('Password').fill(stack.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Cloud Providers' }).waitFor();
    expect(page.url()).toBe(`${stack.url}/ui/cloud-providers`);
    await expect.poll(() => page.getByText('No Cloud Provider yet').isVisible()).toBe(true);
  });

  it('creates a Cloud Provider with the guide\'s fields and help', async () => {
    await page.getByRole('link', { name: 'New Cloud Provider' }).click();
    await page.getByRole('heading', { name: 'New Cloud Provider' }).waitFor();
    const redirect = `${stack.url}/api/cloudProviders/oauth2/microsoft/callback`;
    expect(await page.getByRole('textbox', { name: 'Redirect URI' }).inputValue()).toBe(redirect);
    await expect.poll(() => page.getByRole('button', { name: 'Copy redirect URI' }).isVisible()).toBe(true);
    expect(await page.getByText('IMAP.AccessAsUser.All').first().isVisible()).toBe(true);

    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Contoso developers');
    await page.getByRole('textbox', { name: 'Application Id' }).fill(CONTOSO.web.appId);
    await page.getByRole('textbox', { name: 'Tenant Id' }).fill(CONTOSO.tenantId);
    await page.getByLabel(/^Client Secret/).fill(CONTOSO.web.secret);
    await page.getByLabel('Client secret expires on').fill('2099-12-31');
    await page.getByText('Advanced: sign-in method, cloud and scopes').click();
    await page.getByRole('combobox', { name: 'Cloud' }).selectOption('custom');
    await page.getByRole('textbox', { name: 'Authority URL' }).fill(stack.emulator.base);
    await page.getByRole('textbox', { name: 'CA file' }).fill(stack.emulator.handle.caFile);
    await screenshot(page, 'cloud-provider-new');
    await page.getByRole('button', { name: 'Create provider' }).click();

    await expect.poll(() => page.url()).toMatch(providerUrl);
    await page.getByText('Cloud Provider created.').waitFor();
    expect(await page.getByText('Not authenticated').first().isVisible()).toBe(true);
  });

  it('authenticates through the emulator\'s sign-in and consent pages and comes back to the success banner', async () => {
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Authenticate' }).click();
    await page.getByRole('dialog').getByLabel('Sign in as (optional)').fill(CONTOSO.andrea.upn);
    await page.getByRole('button', { name: 'Continue to Microsoft' }).click();

    await page.waitForURL((url) => url.href.startsWith(stack.emulator.base));
    expect(await page.locator('input[name="loginfmt"]').inputValue()).toBe(CONTOSO.andrea.upn);
    await page.locator('input[name="passwd"]').fill(CONTOSO.andrea.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('form#consent').waitFor();
    await screenshot(page, 'microsoft-consent-emulator');
    await page.getByRole('button', { name: 'Accept' }).click();

    await page.waitForURL((url) => url.href.startsWith(`${stack.url}/ui/cloud-providers/`));
    await page.getByText('Authentication succeeded.').waitFor();
    expect(await page.getByRole('status').filter({ hasText: 'Authentication succeeded' }).textContent()).toContain(CONTOSO.andrea.upn);
    await expect.poll(() => page.getByText(`Authenticated as ${CONTOSO.andrea.upn}`).isVisible()).toBe(true);
    expect(page.url()).toMatch(providerUrl);
    await page.getByRole('row', { name: new RegExp(CONTOSO.andrea.upn) }).waitFor();
    await expect.poll(() => page.locator('.timeline-item').count()).toBeGreaterThan(0);
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'cloud-provider-authenticated');
  });

  it('comes back from a declined sign-in with the error, its code and the remedy', async () => {
    // Forget the emulator's single sign-on session, so that Microsoft asks again.
    await context.clearCookies({ domain: '127.0.0.1' });
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Authenticate' }).click();
    await page.getByRole('button', { name: 'Continue to Microsoft' }).click();
    await page.waitForURL((url) => url.href.startsWith(stack.emulator.base));
    await page.getByRole('button', { name: 'Back' }).click();

    await page.waitForURL((url) => url.href.startsWith(`${stack.url}/ui/cloud-providers/`));
    const alert = page.getByRole('alert').filter({ hasText: 'Authentication failed.' });
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('Error code: AUTH_');
    expect(text).toContain('What to do:');
    await screenshot(page, 'cloud-provider-authentication-failed');
  });
});
