/**
 * Issue 18, point 7: the administrator's wrong turns on the sign-in path, in a real browser
 * (Debian's Chromium) against the emulator.
 *
 * - A wrong tenant id: Microsoft (the emulator) answers the discovery with AADSTS90002. The
 *   browser ends on the provider's console page with the catalogue message, Microsoft's own words,
 *   "What to do" and the code — never on the JSON of an API error — and the timeline has it.
 * - A secret's ID saved as its Value: the sign-in succeeds at Microsoft and the code's exchange is
 *   refused with AADSTS7000215; the provider page says the ID was probably pasted, with the remedy,
 *   and the timeline has it (the ID itself appears nowhere).
 * - A console opened under another host (127.0.0.1) than the public URL (localhost): Authenticate
 *   says why it cannot finish there and continues at the public URL, where the sign-in completes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, launchChromium, newContext } from './helpers/browser.js';
import { createThrough, signIn } from './helpers/session.js';
import { CONTOSO, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const watches: ConsoleWatch[] = [];

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await stack?.close();
});

async function openPage(origin: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const watch = new ConsoleWatch(origin);
  watch.attach(page);
  watches.push(watch);
  return { context, page };
}

function providerFields(name: string, tenantId: string): Record<string, unknown> {
  return {
    name,
    applicationId: CONTOSO.web.appId,
    tenantId,
    clientSecret: CONTOSO.web.secret,
    clientSecretExpiresAt: '2099-12-31',
    cloud: 'custom',
    authorityUrl: stack.emulator.base,
    caFile: stack.emulator.handle.caFile,
  };
}

describe("the administrator's wrong turns on the sign-in path", () => {
  it('a wrong tenant id ends on the provider page with AADSTS90002, its remedy and a timeline entry', async () => {
    const { context, page } = await openPage(stack.url);
    await signIn(page, stack.url, stack.admin.username, stack.admin.password);
    const unknownTenant = '3f2e1d0c-9b8a-4765-8432-10fedcba9876';
    const id = await createThrough(
      context,
      stack.url,
      '/api/cloudProviders',
      providerFields('Wrong tenant', unknownTenant),
    );
    await page.goto(`${stack.url}/ui/cloud-providers/${id}`);
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Authenticate' }).click();
    await page.getByRole('button', { name: 'Continue to Microsoft' }).click();

    await page.waitForURL(`${stack.url}/ui/cloud-providers/${id}`);
    const alert = page.getByRole('alert').filter({ hasText: 'Authentication failed.' });
    await alert.getByText('What to do:').waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('Microsoft does not know this tenant (AADSTS90002).');
    expect(text).toContain(`Microsoft said: AADSTS90002: Tenant '${unknownTenant}' not found`);
    expect(text).toContain("Copy the Directory (tenant) ID from the app registration's Overview page");
    expect(text).toContain('Error code: AUTH_TENANT_NOT_FOUND');
    const entry = page.locator('.timeline-item', { hasText: 'AADSTS90002' });
    await entry.waitFor();
    expect(await entry.locator('.timeline-type').textContent()).toBe('provider.authentication_failed');
  }, 60_000);

  it("a secret's ID saved as its Value ends on the provider page with AADSTS7000215, its remedy and a timeline entry", async () => {
    const { context, page } = await openPage(stack.url);
    await signIn(page, stack.url, stack.admin.username, stack.admin.password);
    const secretId = '8f3c2a1e-5b4d-4c3e-9a2b-1c0d9e8f7a6b';
    const id = await createThrough(context, stack.url, '/api/cloudProviders', {
      ...providerFields('Secret ID', CONTOSO.tenantId),
      clientSecret: secretId,
    });
    await page.goto(`${stack.url}/ui/cloud-providers/${id}`);
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Authenticate' }).click();
    await page.getByRole('dialog').getByLabel('Sign in as (optional)').fill(CONTOSO.andrea.upn);
    await page.getByRole('button', { name: 'Continue to Microsoft' }).click();
    // The sign-in itself succeeds at Microsoft; the code's exchange with the secret is refused.
    await page.waitForURL((url) => url.href.startsWith(stack.emulator.base));
    await page.locator('input[name="passwd"]').fill(CONTOSO.andrea.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const accept = page.getByRole('button', { name: 'Accept' });
    const failed = page.getByText('Authentication failed.');
    await accept.or(failed).waitFor();
    if (await accept.isVisible()) await accept.click();

    await page.waitForURL(`${stack.url}/ui/cloud-providers/${id}`);
    const alert = page.getByRole('alert').filter({ hasText: 'Authentication failed.' });
    await alert.getByText('What to do:').waitFor();
    const text = (await alert.textContent()) ?? '';
    expect(text).toContain('Microsoft rejected the client secret (AADSTS7000215).');
    expect(text).toContain('The secret ID was probably pasted instead of its value.');
    expect(text).toContain('Error code: AUTH_SECRET_INVALID');
    expect(text).not.toContain(secretId);
    const entry = page.locator('.timeline-item', { hasText: 'AADSTS7000215' });
    await entry.waitFor();
    expect(await entry.locator('.timeline-type').textContent()).toBe('provider.authentication_failed');
    expect(await page.locator('.timeline').textContent()).not.toContain(secretId);
  }, 60_000);

  it('a console opened at 127.0.0.1 continues the sign-in at the public URL (localhost), where it completes', async () => {
    const otherHost = stack.url.replace('//localhost:', '//127.0.0.1:');
    expect(otherHost).not.toBe(stack.url);
    const { context, page } = await openPage(otherHost);
    await signIn(page, otherHost, stack.admin.username, stack.admin.password);
    const id = await createThrough(
      context,
      otherHost,
      '/api/cloudProviders',
      providerFields('Other host', CONTOSO.tenantId),
    );
    await page.goto(`${otherHost}/ui/cloud-providers/${id}`);
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Authenticate' }).click();
    const dialog = page.getByRole('dialog');
    const warning = dialog.getByRole('status').filter({ hasText: 'not at Postern' });
    await warning.waitFor();
    const why = (await warning.textContent()) ?? '';
    expect(why).toContain(`This console is open at ${otherHost}`);
    expect(why).toContain(`${stack.url}/api/cloudProviders/oauth2/microsoft/callback`);
    await dialog.getByLabel('Sign in as (optional)').fill(CONTOSO.andrea.upn);
    await dialog.getByRole('button', { name: `Continue at ${new URL(stack.url).host}` }).click();

    // At the public URL this browser has no session yet: sign in there, and Authenticate reopens.
    await page.waitForURL((url) => url.origin === stack.url);
    await page.getByRole('textbox', { name: 'Username' }).fill(stack.admin.username);
    await page.getByLabel('Password').fill(stack.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const resumed = page.getByRole('dialog', { name: 'Authenticate Other host' });
    await resumed.waitFor();
    expect(await resumed.getByRole('status').count()).toBe(0);
    expect(await resumed.getByLabel('Sign in as (optional)').inputValue()).toBe(CONTOSO.andrea.upn);
    await resumed.getByRole('button', { name: 'Continue to Microsoft' }).click();

    await page.waitForURL((url) => url.href.startsWith(stack.emulator.base));
    await page.locator('input[name="passwd"]').fill(CONTOSO.andrea.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Microsoft asks for consent only when the user has not given it yet.
    const accept = page.getByRole('button', { name: 'Accept' });
    const succeeded = page.getByText('Authentication succeeded.');
    await accept.or(succeeded).waitFor();
    if (await accept.isVisible()) await accept.click();
    await page.waitForURL((url) => url.href.startsWith(`${stack.url}/ui/cloud-providers/${id}`));
    await page.getByText('Authentication succeeded.').waitFor();
  }, 90_000);

  it('logged no console errors', () => {
    expect(watches.flatMap((watch) => watch.problems)).toEqual([]);
  });
});
