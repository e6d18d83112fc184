/**
 * The rest of the console in a real browser: users (admins and agents), lists and contacts,
 * an agent's restricted view, the password change, sign-out and an expired session, keyboard use
 * of the actions menu, and the layout on a narrow screen.
 */
import http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleWatch, launchChromium, newContext, overflowing, screenshot } from './helpers/browser.js';
import { createThrough, signIn } from './helpers/session.js';
import { CONTOSO, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: ConsoleWatch;
const NEW_PASSWORD = 'a brand new admin password';

beforeAll(async () => {
  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  context = await newContext(browser);
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  watch = new ConsoleWatch(stack.url);
  watch.attach(page);
  await signIn(page, stack.url, stack.admin.username, stack.admin.password);
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.close();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

describe('administrator console: users, lists, contacts, account', () => {
  it('creates an agent and changes a user', async () => {
    await nav('Users').click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog', { name: 'New user' });
    await dialog.getByRole('textbox', { name: 'Username' }).fill('carla');
    await dialog.getByRole('textbox', { name: 'Display name' }).fill('Carla Agent');
    await dialog.getByLabel(/^Password/).fill('carla password 1');
    await dialog.getByRole('button', { name: 'Create user' }).click();
    await page.getByText('User carla created.').waitFor();
    const row = page.getByRole('row', { name: /carla/ });
    expect(await row.textContent()).toContain('Agent');

    await page.getByRole('button', { name: 'New user' }).click();
    await page.getByRole('dialog', { name: 'New user' }).getByRole('textbox', { name: 'Username' }).fill('sam');
    await page
      .getByRole('dialog', { name: 'New user' })
      .getByLabel(/^Password/)
      .fill('short');
    watch.expect(/status of 400/);
    await page.getByRole('dialog', { name: 'New user' }).getByRole('button', { name: 'Create user' }).click();
    const problem = page.getByRole('dialog', { name: 'New user' }).locator('.field-problem');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('at least 10 characters');
    await page.getByRole('dialog', { name: 'New user' }).getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Edit carla' }).click();
    await page
      .getByRole('dialog', { name: 'Edit carla' })
      .getByRole('textbox', { name: 'Display name' })
      .fill('Carla Bianchi');
    await page.getByRole('dialog', { name: 'Edit carla' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('User carla saved.').waitFor();
    expect(await row.textContent()).toContain('Carla Bianchi');
    await screenshot(page, 'users');
  });

  it('keeps contact lists and contacts: create, search, edit, delete', async () => {
    await nav('Lists').click();
    await page.getByRole('button', { name: 'New list' }).click();
    await page.getByRole('dialog', { name: 'New list' }).getByRole('textbox', { name: 'Name' }).fill('Customers');
    await page
      .getByRole('dialog', { name: 'New list' })
      .getByRole('textbox', { name: 'Description' })
      .fill('People who write to support@');
    await page.getByRole('dialog', { name: 'New list' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('List Customers saved.').waitFor();

    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
    for (const [name, addresses] of [
      ['Carla Customer', 'carla@customer.example\ncarla.c@home.example'],
      ['Dario Buyer', 'dario@buyer.example'],
    ] as const) {
      await page.getByRole('button', { name: 'New contact' }).click();
      const dialog = page.getByRole('dialog', { name: 'New contact' });
      expect(await dialog.getByRole('combobox', { name: 'List' }).locator('option:checked').textContent()).toBe(
        'Customers',
      );
      await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
      await dialog.getByRole('textbox', { name: 'Email addresses' }).fill(addresses);
      await dialog.getByRole('button', { name: 'Save' }).click();
      await page.getByText(`Contact ${name} saved.`).waitFor();
    }
    await expect.poll(() => page.getByRole('row').count()).toBe(3);

    await page.getByRole('searchbox', { name: 'Search by name or address' }).fill('home.example');
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    expect(await page.getByRole('row', { name: /Carla Customer/ }).textContent()).toContain('carla.c@home.example');
    expect(page.url()).toContain('q=home.example');

    await page.getByRole('button', { name: 'Edit Carla Customer' }).click();
    await page
      .getByRole('dialog', { name: 'Edit Carla Customer' })
      .getByRole('textbox', { name: 'Notes' })
      .fill('Prefers the phone.');
    await page.getByRole('dialog', { name: 'Edit Carla Customer' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('Prefers the phone.').waitFor();

    await page.getByRole('searchbox', { name: 'Search by name or address' }).fill('');
    await expect.poll(() => page.getByRole('row').count()).toBe(3);
    await screenshot(page, 'contacts');
    await page.getByRole('button', { name: 'Delete Dario Buyer' }).click();
    // The console's own dialog asks, never the browser's confirm().
    await page
      .getByRole('dialog', { name: 'Delete the contact "Dario Buyer"?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await page.getByText('Contact Dario Buyer deleted.').waitFor();
    await expect.poll(() => page.getByRole('row').count()).toBe(2);

    await nav('Lists').click();
    await expect
      .poll(async () => (await page.getByRole('row', { name: /Customers/ }).textContent()) ?? '')
      .toContain('1');
    await screenshot(page, 'lists');
  });

  it('operates the actions menu with the keyboard', async () => {
    const id = await createThrough(context, stack.url, '/api/cloudProviders', {
      name: 'Keyboard test',
      applicationId: CONTOSO.web.appId,
      tenantId: CONTOSO.tenantId,
      clientSecret: CONTOSO.web.secret,
      cloud: 'custom',
      authorityUrl: stack.emulator.base,
      caFile: stack.emulator.handle.caFile,
    });
    await page.goto(`${stack.url}/ui/cloud-providers/${id}`);
    const button = page.getByRole('button', { name: 'Actions' });
    await button.focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => button.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(() => page.locator(':focus').textContent()).toBe('Authenticate');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator(':focus').textContent()).toBe('Update Client Secret');
    await page.keyboard.press('End');
    await expect.poll(() => page.locator(':focus').textContent()).toBe('Delete');
    await page.keyboard.press('Escape');
    await expect.poll(() => button.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator(':focus').getAttribute('aria-haspopup')).toBe('menu');

    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator(':focus').textContent()).toBe('Authenticate');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator(':focus').textContent()).toBe('Update Client Secret');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Update Client Secret' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
  });

  it('lets an agent see lists and contacts (only those of its accounts) but not the administration', async () => {
    const agentContext = await newContext(browser);
    const agentPage = await agentContext.newPage();
    agentPage.setDefaultTimeout(10_000);
    watch.attach(agentPage);
    await signIn(agentPage, stack.url, 'carla', 'carla password 1');
    await expect.poll(() => agentPage.url()).toBe(`${stack.url}/ui/inbox`);
    await agentPage.getByText('An administrator has not assigned an Email Account to you yet.').waitFor();
    const links = await agentPage.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    expect(links).toEqual(['Inbox', 'Lists', 'Contacts', 'Canned answers']);
    await agentPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
    // Contacts are scoped to the agent's accounts (issue 13): with none assigned, none is shown,
    // not even the ones the administrator created in the shared lists.
    await agentPage.getByRole('status').filter({ hasText: 'No contact matches.' }).waitFor();
    expect(await agentPage.getByRole('row', { name: /Carla Customer/ }).count()).toBe(0);
    expect(await agentPage.getByRole('button', { name: 'New contact' }).count()).toBe(0);
    await agentPage.goto(`${stack.url}/ui/cloud-providers`);
    await agentPage.getByText('This page is reserved to administrators.').waitFor();
    await agentContext.close();
  });

  it('registers a webhook, shows its secret once, pings it and shows the delivery', async () => {
    const received: Array<{ signature: string | undefined; body: string }> = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ signature: request.headers['postern-signature']?.toString(), body });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    const receiverUrl = `http://127.0.0.1:${address !== null && typeof address === 'object' ? address.port : 0}/hooks/postern`;
    try {
      await nav('Webhooks').click();
      await page.getByRole('button', { name: 'New webhook' }).click();
      const dialog = page.getByRole('dialog', { name: 'New webhook' });
      await dialog.getByRole('textbox', { name: 'URL' }).fill(receiverUrl);
      await dialog.getByRole('textbox', { name: 'Events' }).fill('message.received, account.*');
      await dialog.getByRole('button', { name: 'Create webhook' }).click();
      const shown = page.getByRole('status').filter({ hasText: 'it is not shown again' });
      await shown.waitFor();
      expect((await shown.locator('.copy-value').textContent()) ?? '').toMatch(/^whsec_/);
      const card = page.getByRole('region', { name: `Webhook ${receiverUrl}` });
      await card.getByRole('button', { name: 'Actions' }).click();
      await card.getByRole('menuitem', { name: 'Ping' }).click();
      await card.getByRole('row', { name: /webhook\.ping.*Delivered/ }).waitFor({ timeout: 30_000 });
      expect(received[0]?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      await screenshot(page, 'webhooks');
    } finally {
      receiver.close();
    }
  }, 60_000);

  it('creates an API token shown once, and revokes it', async () => {
    await page.getByRole('link', { name: /Administrator/ }).click();
    await page.getByRole('textbox', { name: 'New token name' }).fill('CRM integration');
    await page.getByRole('button', { name: 'Create token' }).click();
    const shown = page.getByRole('status').filter({ hasText: 'it is not shown again' });
    await shown.waitFor();
    const token = (await shown.locator('.copy-value').textContent()) ?? '';
    expect(token).toMatch(/^pst_/);
    const me = await page.request.get(`${stack.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status()).toBe(200);
    await page.getByRole('row', { name: /CRM integration/ }).waitFor();
    await page.getByRole('button', { name: 'Revoke CRM integration' }).click();
    const revoking = page.getByRole('dialog', { name: 'Revoke the token "CRM integration"?' });
    expect(await revoking.textContent()).toContain('Programs using it stop working at once.');
    await revoking.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => page.getByRole('row', { name: /CRM integration/ }).count()).toBe(0);
    const after = await page.request.get(`${stack.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(after.status()).toBe(401);
  });

  it('changes the password, signs out, and signs in with the new one', async () => {
    await page.getByRole('link', { name: /Administrator/ }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByLabel(/^Current password/).fill('wrong password!');
    await page.getByLabel(/^New password/).fill(NEW_PASSWORD);
    await page.getByLabel(/^Repeat the new password/).fill(NEW_PASSWORD);
    watch.expect(/status of 40[013]/);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel(/^Current password/).fill(stack.admin.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password has been changed.').waitFor();
    await screenshot(page, 'account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(page.url()).toBe(`${stack.url}/ui/sign-in`);
    await page.getByRole('textbox', { name: 'Username' }).fill('admin');
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Cloud Providers', level: 1 }).waitFor();
  });

  it('sends an expired session back to sign-in, and returns to the page after it', async () => {
    // The page's heading shows before its requests leave: the session may only end once both of
    // the Users page's answers came back, or one of them (not the click on Lists) meets the
    // expired session and replaces the console, its navigation included, with the sign-in page.
    const answered = (pathname: string) =>
      page.waitForResponse((response) => new URL(response.url()).pathname === pathname && response.ok());
    const loaded = Promise.all([answered('/api/users'), answered('/api/email/accounts')]);
    await nav('Users').click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await loaded;
    const cookies = await context.cookies(stack.url);
    await context.clearCookies({ name: 'postern_session' });
    expect(cookies.some((c) => c.name === 'postern_session')).toBe(true);
    watch.expect(/status of 401/);
    await nav('Lists').click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('textbox', { name: 'Username' }).fill('admin');
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Lists', level: 1 }).waitFor();
  });

  // One page per test: each page's check is bounded on its own, however slow the machine is.
  let phone: Page;
  it('fits a narrow screen, with the navigation behind a menu button', async () => {
    const narrow = await newContext(browser, { width: 390, height: 844 });
    phone = await narrow.newPage();
    phone.setDefaultTimeout(10_000);
    watch.attach(phone);
    await signIn(phone, stack.url, 'admin', NEW_PASSWORD);
    await phone.getByRole('heading', { name: 'Cloud Providers', level: 1 }).waitFor();
    const links = phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' });
    expect(await links.isVisible()).toBe(false);
    const menu = phone.getByRole('button', { name: 'Menu' });
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    expect(await links.isVisible()).toBe(true);
    await screenshot(phone, 'narrow-navigation', { fullPage: false });
    await menu.click();
  });

  it.each([
    '/ui/cloud-providers',
    '/ui/cloud-providers/new',
    '/ui/email-accounts/new',
    '/ui/contacts',
    '/ui/users',
    '/ui/account',
  ])('fits a narrow screen on %s', async (path) => {
    await phone.goto(`${stack.url}${path}`);
    await phone.locator('h1').first().waitFor();
    expect(await overflowing(phone), path).toEqual([]);
    if (path === '/ui/cloud-providers/new') await screenshot(phone, 'narrow-cloud-provider-new');
  });

  it.each([
    '/ui/cloud-providers',
    '/ui/cloud-providers/new',
    '/ui/email-accounts',
    '/ui/email-accounts/new',
    '/ui/lists',
    '/ui/contacts',
    '/ui/users',
    '/ui/webhooks',
    '/ui/doctor',
    '/ui/account',
  ])('fits 1280 px on %s', async (path) => {
    await page.goto(`${stack.url}${path}`);
    await page.locator('h1').first().waitFor();
    expect(await overflowing(page), path).toEqual([]);
  });

  it('logged no console errors', () => {
    expect(watch.problems).toEqual([]);
  });
});
