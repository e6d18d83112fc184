/**
 * The provider form's credential choice and the provider page's certificate and admin consent, in
 * a real browser (Debian's Chromium) against the emulator: create a provider whose key pair
 * Postern generates, see its thumbprint and the certificate's download link, download it (public
 * part only), and open the admin consent dialog with its one-time link.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, launchChromium, newContext } from './helpers/browser.js';
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

describe('a Cloud Provider with a certificate', () => {
  it('is created with a generated key pair; the page shows the thumbprint and downloads the certificate', async () => {
    await page.goto(`${stack.url}/`);
    await page.getByRole('textbox', { name: 'Username' }).fill(stack.admin.username);
    await page.getByLabel('Password').fill(stack.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Cloud Providers' }).waitFor();

    await page.getByRole('link', { name: 'New Cloud Provider' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Contoso certificate');
    await page.getByRole('textbox', { name: 'Application Id' }).fill(CONTOSO.web.appId);
    await page.getByRole('textbox', { name: 'Tenant Id' }).fill(CONTOSO.tenantId);
    await page.getByRole('combobox', { name: 'Credential' }).selectOption('certificate');
    expect(await page.getByLabel(/^Client Secret/).count()).toBe(0);
    await page.getByText('Advanced: sign-in method, cloud and scopes').click();
    await page.getByRole('combobox', { name: 'Cloud' }).selectOption('custom');
    await page.getByRole('textbox', { name: 'Authority URL' }).fill(stack.emulator.base);
    await page.getByRole('textbox', { name: 'CA file' }).fill(stack.emulator.handle.caFile);
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByText('Cloud Provider created.').waitFor();

    const link = page.getByRole('link', { name: 'Download the certificate' });
    await link.waitFor();
    const facts = await page.locator('.facts').textContent();
    expect(facts).toMatch(/Certificate[0-9A-F]{40} \(CN=Postern Contoso certificate\)/);
    const href = await link.getAttribute('href');
    expect(href).toMatch(/^\/api\/cloudProviders\/\d+\/clientCertificate$/);
    const pem = await page.evaluate(async (url) => (await fetch(url)).text(), href ?? '');
    expect(pem).toContain('-----BEGIN CERTIFICATE-----');
    expect(pem).not.toContain('PRIVATE KEY');
  });

  it('offers a one-time admin consent link', async () => {
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Admin consent link' }).click();
    const dialog = page.getByRole('dialog', { name: 'Admin consent' });
    const open = dialog.getByRole('link', { name: 'Open the admin consent page' });
    await open.waitFor();
    const url = new URL((await open.getAttribute('href')) ?? '');
    expect(url.pathname).toBe(`/${CONTOSO.tenantId}/v2.0/adminconsent`);
    expect(url.searchParams.get('client_id')).toBe(CONTOSO.web.appId);
    expect(url.searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');
  });

  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});
