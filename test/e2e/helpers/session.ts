/** Signing in through the UI, and API calls made with the browser's own session (for setup). */
import type { BrowserContext, Page } from 'playwright-core';
import { z } from 'zod';

export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/ui/sign-in`);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Calls the API as the signed-in browser does: session cookie plus the CSRF header. */
async function apiCall(
  context: BrowserContext,
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const csrf = (await context.cookies(baseUrl)).find((c) => c.name === 'postern_csrf')?.value ?? '';
  const response = await context.request.fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { data: JSON.stringify(body) }),
  });
  if (!response.ok()) throw new Error(`${method} ${path} → ${response.status()} ${await response.text()}`);
  const text = await response.text();
  const json: unknown = text === '' ? undefined : JSON.parse(text);
  return json;
}

/** Creates something through the API and returns its id. */
export async function createThrough(
  context: BrowserContext,
  baseUrl: string,
  path: string,
  body: unknown,
): Promise<number> {
  return z.object({ id: z.number() }).parse(await apiCall(context, baseUrl, 'POST', path, body)).id;
}
