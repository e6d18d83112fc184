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

  it("creates a Cloud Provider with the guide's fields and help", async () => {
    await page.getByRole('link', { name: 'New Cloud Provider' }).click();
    await page.getByRole('heading', { name: 'New Cloud Provider' }).waitFor();
    const redirect = `${stack.url}/api/cloudProviders/oauth2/microsoft/callback`;
    expect(await page.getByRole('textbox', { name: 'Redirect URI' }).inputValue()).toBe(redirect);
    await expect.poll(() => page.getByRole('button', { name: 'Copy redirect URI' }).isVisible()).toBe(true);
    expect(await page.getByText('IMAP.AccessAsUser.All').first().isVisible()).toBe(true);

    // The form stops at the API's limits, and says at once when a secret's ID is pasted for its Value.
    const name = page.getByRole('textbox', { name: 'Name', exact: true });
    await name.fill('N'.repeat(150));
    expect((await name.inputValue()).length).toBe(100);
    await name.fill('Contoso developers');
    await page.getByRole('textbox', { name: 'Application Id' }).fill(CONTOSO.web.appId);
    await page.getByRole('textbox', { name: 'Tenant Id' }).fill(CONTOSO.tenantId);
    const secret = page.getByLabel(/^Client Secret/);
    await secret.fill('8f3c2a1e-5b4d-4c3e-9a2b-1c0d9e8f7a6b');
    await page.getByText("This looks like the secret's ID, not its Value.").waitFor();
    await secret.fill(CONTOSO.web.secret);
    expect(await page.getByText("This looks like the secret's ID").count()).toBe(0);
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

  it("authenticates through the emulator's sign-in and consent pages and comes back to the success banner", async () => {
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
    expect(await page.getByRole('status').filter({ hasText: 'Authentication succeeded' }).textContent()).toContain(
      CONTOSO.andrea.upn,
    );
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

  it('updates the client secret with its expiry date and counts down to it', async () => {
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Update Client Secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Update Client Secret' });
    await dialog.getByLabel(/^New Client Secret/).fill(CONTOSO.web.secret);
    await dialog.getByLabel('Expires on').fill(inDays(12));
    await screenshot(page, 'update-client-secret', { fullPage: false });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Client secret updated.').waitFor();
    await expect
      .poll(() => page.locator('.badge').allTextContents())
      .toContainEqual(expect.stringMatching(/^Secret expires in 1[12] days$/));
    expect(await page.getByRole('status').filter({ hasText: 'expires in' }).count()).toBeGreaterThan(0);
  });

  it('associates the shared mailbox with the provider through its delegate and sees it connected', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Email Accounts' }).click();
    await page.getByRole('link', { name: 'New Email Account' }).first().click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Developers');
    await page.getByRole('textbox', { name: 'Key' }).fill('DEV');
    await page.getByRole('textbox', { name: 'Email Address' }).fill('developers@contoso.com');
    await page.getByRole('textbox', { name: 'Username' }).fill('developers@contoso.com');
    const picker = page.getByRole('combobox', { name: 'Cloud Provider' });
    expect(await picker.inputValue()).not.toBe('');
    // The picker says each provider's state; the delegate is chosen from who signed in under it.
    expect(await picker.locator('option:checked').textContent()).toMatch(/\(authenticated\)$/);
    await page.getByRole('checkbox', { name: 'This is a shared mailbox' }).check();
    const delegate = page.getByRole('combobox', { name: 'Modern Authentication Email' });
    expect(await delegate.locator('option').allTextContents()).toContain(CONTOSO.andrea.upn);
    await delegate.selectOption('Another user…');
    await page.getByRole('textbox', { name: "Other user's email" }).fill('nobody@contoso.com');
    await page.getByText('The provider has no sign-in for nobody@contoso.com').waitFor();
    await delegate.selectOption(CONTOSO.andrea.upn);
    expect(await page.getByRole('textbox', { name: "Other user's email" }).count()).toBe(0);
    await screenshot(page, 'email-account-new');
    // The emulator's Exchange listens on its own loopback ports instead of outlook.office365.com.
    await page.getByText('Advanced: servers, inbox, sending limits and retention').click();
    await page.getByRole('textbox', { name: 'IMAP host' }).fill('127.0.0.1');
    await page.getByRole('textbox', { name: 'IMAP port' }).fill(portOf(stack.emulator.handle.urls.imap));
    await page.getByRole('textbox', { name: 'SMTP host' }).fill('127.0.0.1');
    await page.getByRole('textbox', { name: 'SMTP port' }).fill(portOf(stack.emulator.handle.urls.smtp));
    // Retention of originals: empty keeps them for ever; 0 days is refused next to the field.
    const keep = page.getByRole('textbox', { name: 'Keep originals for' });
    expect(await keep.inputValue()).toBe('');
    expect(await keep.getAttribute('placeholder')).toBe('for ever');
    await keep.fill('0');
    watch.expect(/status of 400/);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page
      .locator('.field-problem', { hasText: 'must be at least 1 day (null keeps originals for ever)' })
      .waitFor();
    await keep.fill('90');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Email Account created.').waitFor();
    expect(await page.getByTestId('keep-originals').textContent()).toContain('90 days');
    expect(await page.getByRole('region', { name: 'Settings' }).textContent()).toContain(CONTOSO.andrea.upn);
    await page.getByRole('region', { name: 'Sending' }).getByText('0 of 30 messages').waitFor();
    await page.locator('.badge', { hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByRole('status').filter({ hasText: 'The connection works.' });
    await result.waitFor();
    expect(await result.textContent()).toContain('IMAP sign-in');
    // SMTP AUTH is signed in as the delegate; Send As, which only a submission checks, waits for its button.
    const steps = page.locator('.connection-test .test-steps');
    expect(await steps.getByRole('listitem').filter({ hasText: 'SMTP AUTH' }).textContent()).toContain(
      `succeeded: Signed in to 127.0.0.1:${portOf(stack.emulator.handle.urls.smtp)} as ${CONTOSO.andrea.upn}`,
    );
    const sendAs = steps.getByRole('listitem').filter({ hasText: 'Send As' });
    expect(await sendAs.textContent()).toContain('not tested');
    await screenshot(page, 'email-account');
    const probes = async (): Promise<number> => {
      const { sent } = (await stack.emulator.control('GET', '/exchange/sent')) as {
        sent: Array<{ subject: string | null }>;
      };
      return sent.filter((m) => m.subject === `Postern check: ${CONTOSO.andrea.upn} can send as developers@contoso.com`)
        .length;
    };
    const before = await probes();
    await page.locator('.connection-test').getByRole('button', { name: 'Send a test message' }).click();
    await expect.poll(() => sendAs.textContent()).toContain('Send As succeeded: Exchange accepted a test message');
    expect(await probes()).toBe(before + 1);
    expect(await page.locator('.connection-test').getByRole('button', { name: 'Send a test message' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Diagnose' }).click();
    const diagnosis = page.getByRole('dialog', { name: /^Diagnosis/ });
    await diagnosis.locator('.check').first().waitFor({ timeout: 30_000 });
    expect(await diagnosis.locator('.check-title').count()).toBeGreaterThan(2);
    await screenshot(page, 'doctor', { fullPage: false });
    await page.keyboard.press('Escape');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Email Accounts' }).click();
    await page.getByRole('row', { name: /DEV.*developers@contoso\.com/ }).waitFor();
    await screenshot(page, 'email-accounts');
  }, 60_000);

  it('refuses to delete a provider in use and names the accounts', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cloud Providers' }).click();
    await page.getByRole('link', { name: 'Contoso developers' }).click();
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    watch.expect(/status of 409/);
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    const refusal = page.getByRole('dialog').getByRole('alert');
    await refusal.waitFor();
    const text = (await refusal.textContent()) ?? '';
    expect(text).toContain('The provider was not deleted');
    expect(text).toMatch(/DEV|Developers|developers@contoso\.com/);
    expect(text).toContain('What to do:');
    await screenshot(page, 'cloud-provider-delete-refused', { fullPage: false });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  });

  it('signs in with a device code: shows the code and the address, and waits for the sign-in', async () => {
    await page.getByRole('link', { name: 'Cloud Providers', exact: true }).first().click();
    await page.getByRole('link', { name: 'New Cloud Provider' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Contoso devices');
    await page.getByRole('textbox', { name: 'Application Id' }).fill(CONTOSO.publicClient.appId);
    await page.getByRole('textbox', { name: 'Tenant Id' }).fill(CONTOSO.tenantId);
    await page.getByText('Advanced: sign-in method, cloud and scopes').click();
    await page.getByRole('combobox', { name: 'Grant type' }).selectOption('device_code');
    await page.getByRole('combobox', { name: 'Cloud' }).selectOption('custom');
    await page.getByRole('textbox', { name: 'Authority URL' }).fill(stack.emulator.base);
    await page.getByRole('textbox', { name: 'CA file' }).fill(stack.emulator.handle.caFile);
    await page.getByRole('button', { name: 'Create provider' }).click();
    await page.getByText('Cloud Provider created.').waitFor();

    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Authenticate with a device code' }).click();
    const dialog = page.getByRole('dialog');
    const code = (await dialog.locator('.device-code').textContent())?.trim() ?? '';
    expect(code).toMatch(/^[A-Z0-9]{6,12}$/);
    const verificationUri = (await dialog.getByRole('link').first().getAttribute('href')) ?? '';
    expect(verificationUri).toBe(`${stack.emulator.base}/devicelogin`);
    await dialog.getByText('Waiting for the sign-in').waitFor();
    await screenshot(page, 'device-code', { fullPage: false });

    const phone = await context.newPage();
    await phone.goto(verificationUri);
    await phone.locator('input[name="otc"]').fill(code);
    await phone.getByRole('button', { name: 'Next' }).click();
    await phone.locator('input[name="loginfmt"]').fill(CONTOSO.marco.upn);
    await phone.locator('input[name="passwd"]').fill(CONTOSO.marco.password);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    // Microsoft asks for consent only when the user has not given it yet.
    const accept = phone.getByRole('button', { name: 'Accept' });
    await phone.getByText('You have signed in').or(accept).waitFor();
    if (await accept.isVisible()) await accept.click();
    await phone.getByText('You have signed in').waitFor();
    await phone.close();

    await dialog.getByText(`Signed in as ${CONTOSO.marco.upn}`).waitFor({ timeout: 15_000 });
    await dialog.getByRole('button', { name: 'Close' }).last().click();
    await expect.poll(() => page.getByText(`Authenticated as ${CONTOSO.marco.upn}`).first().isVisible()).toBe(true);
  }, 60_000);

  it('deletes a provider no account uses and lists the rest with their badges', async () => {
    // Forgetting an identity asks in the console's dialog; cancel keeps it, Forget removes it.
    await page.getByRole('button', { name: `Forget ${CONTOSO.marco.upn}` }).click();
    const forget = page.getByRole('dialog', { name: `Forget ${CONTOSO.marco.upn}?` });
    expect(await forget.textContent()).toContain('Accounts using this identity stop working');
    await forget.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.getByRole('row', { name: new RegExp(CONTOSO.marco.upn) }).count()).toBe(1);
    await page.getByRole('button', { name: `Forget ${CONTOSO.marco.upn}` }).click();
    await forget.getByRole('button', { name: 'Forget' }).click();
    await expect.poll(() => page.getByRole('row', { name: new RegExp(CONTOSO.marco.upn) }).count()).toBe(0);
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Cloud Providers', level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    const row = page.getByRole('row', { name: /Contoso developers/ });
    expect(await row.textContent()).toContain(`Authenticated as ${CONTOSO.andrea.upn}`);
    expect(await row.textContent()).toMatch(/Secret expires in 1[12] days/);
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'cloud-providers');
  });

  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});

/** The UTC date `days` from now, as a date input wants it. */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

function portOf(url: string | undefined): string {
  if (url === undefined) throw new Error('the emulator has no Exchange listener');
  return new URL(url).port;
}
