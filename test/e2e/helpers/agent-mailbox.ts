/**
 * Setup shared by the agent's browser tests: the shared mailbox developers@ through the emulator
 * (provider authenticated as its delegate andrea@, account syncing everything), assigned to a new
 * agent. Driven through the API with the administrator's browser session.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ConsoleWatch, launchChromium, newContext } from './browser.js';
import { createThrough, signIn } from './session.js';
import { CONTOSO, startStack, type Stack } from './stack.js';

/**
 * Signs the administrator in on `adminPage`, sets the mailbox up, and returns its account id. The
 * account's transport is IMAP and SMTP unless `options` names another, or names none (`{}`: the
 * default, `auto`).
 */
export async function setUpAgentMailbox(
  stack: Stack,
  adminPage: Page,
  agent: { username: string; password: string; displayName: string },
  options: { transport?: 'auto' | 'imap_smtp' | 'graph' } = { transport: 'imap_smtp' },
): Promise<number> {
  const admin = adminPage.context();
  await signIn(adminPage, stack.url, stack.admin.username, stack.admin.password);
  const providerId = await createThrough(admin, stack.url, '/api/cloudProviders', {
    name: 'Contoso developers',
    applicationId: CONTOSO.web.appId,
    tenantId: CONTOSO.tenantId,
    clientSecret: CONTOSO.web.secret,
    cloud: 'custom',
    authorityUrl: stack.emulator.base,
    caFile: stack.emulator.handle.caFile,
  });
  await adminPage.goto(
    `${stack.url}/api/cloudProviders/${providerId}/authenticate?loginHint=${encodeURIComponent(CONTOSO.andrea.upn)}`,
  );
  await adminPage.locator('input[name="passwd"]').fill(CONTOSO.andrea.password);
  await adminPage.getByRole('button', { name: 'Sign in' }).click();
  await adminPage.getByRole('button', { name: 'Accept' }).click();
  await adminPage.getByText('Authentication succeeded.').waitFor();
  const agentId = await createThrough(admin, stack.url, '/api/users', { ...agent, role: 'agent' });
  const accountId = await createThrough(admin, stack.url, '/api/email/accounts', {
    name: 'Developers',
    key: 'DEV',
    emailAddress: 'developers@contoso.com',
    username: 'developers@contoso.com',
    providerId,
    modernAuthEmail: CONTOSO.andrea.upn,
    imapHost: '127.0.0.1',
    imapPort: Number(new URL(stack.emulator.handle.urls.imap ?? '').port),
    smtpHost: '127.0.0.1',
    smtpPort: Number(new URL(stack.emulator.handle.urls.smtp ?? '').port),
    firstSync: { kind: 'all' },
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    agentIds: [agentId],
  });
  await adminPage.goto(`${stack.url}/ui/email-accounts/${accountId}`);
  await adminPage.locator('.badge', { hasText: 'Connected' }).waitFor({ timeout: 30_000 });
  return accountId;
}

/** The agent's desk the composer suites share: the stack, an administrator and a signed-in agent. */
export interface AgentDesk {
  readonly stack: Stack;
  readonly browser: Browser;
  readonly admin: BrowserContext;
  readonly adminPage: Page;
  readonly agent: BrowserContext;
  readonly page: Page;
  readonly watch: ConsoleWatch;
  readonly accountId: number;
  close(): Promise<void>;
}

/** How the agent's side of a desk starts. */
export interface AgentDeskOptions {
  /** Sign the agent in before the tests (default); false leaves it to a test that shows it. */
  readonly signIn?: boolean;
  /** The agent's browser context's time zone (default UTC), for tests of local times. */
  readonly timezoneId?: string;
}

/**
 * Starts the stack and Chromium, sets the shared mailbox up for `agentUser` (through the
 * administrator's page) and signs the agent in on a page of its own; both pages watched for
 * console errors.
 */
export async function startAgentDesk(
  agentUser: {
    username: string;
    password: string;
    displayName: string;
  },
  options: AgentDeskOptions = {},
): Promise<AgentDesk> {
  const stack = await startStack();
  const browser = await launchChromium([stack.emulatorCertPem]);
  const watch = new ConsoleWatch(stack.url);
  const admin = await newContext(browser);
  const adminPage = await admin.newPage();
  adminPage.setDefaultTimeout(15_000);
  watch.attach(adminPage);
  const accountId = await setUpAgentMailbox(stack, adminPage, agentUser);
  const agent = await newContext(browser, undefined, options.timezoneId);
  const page = await agent.newPage();
  page.setDefaultTimeout(15_000);
  watch.attach(page);
  if (options.signIn !== false) await signIn(page, stack.url, agentUser.username, agentUser.password);
  return {
    stack,
    browser,
    admin,
    adminPage,
    agent,
    page,
    watch,
    accountId,
    async close() {
      await agent.close();
      await admin.close();
      await browser.close();
      await stack.close();
    },
  };
}
