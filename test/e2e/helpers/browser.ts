/**
 * Debian's Chromium driven by playwright-core for the end-to-end suite. The browser is never
 * downloaded: it must be installed (`apt-get install chromium`, which scripts/ensure-chromium.mjs
 * does as root before `npm test` and `npm run test:e2e`), and the suite fails — never skips — when
 * it is not there.
 *
 * Trust for the emulator's TLS: Chromium is started with --ignore-certificate-errors-spki-list
 * naming the SHA-256 of the emulator server certificate's public key (SPKI). Chromium then accepts
 * that one key despite the unknown CA, and still rejects every other certificate error: narrower
 * than ignoring HTTPS errors, and needing no change to the machine's or the profile's trust store.
 *
 * @see https://source.chromium.org/chromium/chromium/src/+/main:services/network/public/cpp/network_switches.cc (ignore-certificate-errors-spki-list)
 */
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = process.env.POSTERN_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine without outside network (see the machine notes). */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
];

/** Throws a clear error when Debian's Chromium is not installed. */
export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM} and it is missing. Install it with ` +
        '"apt-get update && apt-get install -y chromium" (as root; "node scripts/ensure-chromium.mjs" does it, and ' +
        '"npm test" runs that first), or set POSTERN_E2E_CHROMIUM to its path.',
    );
  }
}

/** Base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo, as Chromium's SPKI list wants it. */
export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export async function launchChromium(trustedCertPems: string[]): Promise<Browser> {
  requireChromium();
  const spki = trustedCertPems.map(spkiHash).join(',');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...FLAGS, ...(spki === '' ? [] : [`--ignore-certificate-errors-spki-list=${spki}`])],
    timeout: 30_000,
  });
}

/** Console errors and uncaught exceptions of the pages of one origin. */
export class ConsoleWatch {
  readonly problems: string[] = [];
  private allowed: RegExp[] = [];

  constructor(private readonly origin: string) {}

  attach(page: Page): void {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      const where = message.location().url;
      if (where !== '' && !where.startsWith(this.origin)) return;
      const text = `${message.type()}: ${message.text()} (${where})`;
      if (this.allowed.some((pattern) => pattern.test(text))) return;
      this.problems.push(text);
    });
    page.on('pageerror', (error) => this.problems.push(`uncaught: ${error.message}`));
  }

  /** Lets through one expected message (an API error the test provokes, logged by Chromium). */
  expect(pattern: RegExp): void {
    this.allowed.push(pattern);
  }
}

export async function newContext(
  browser: Browser,
  viewport = { width: 1280, height: 860 },
  timezoneId = 'UTC',
): Promise<BrowserContext> {
  return browser.newContext({ viewport, locale: 'en-GB', timezoneId, colorScheme: 'light' });
}

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * Where the screenshots go: dist/screenshots (not committed) on every run, so that a test run
 * leaves the work tree clean; `npm run screenshots` sets POSTERN_E2E_SCREENSHOTS=docs/screenshots
 * to refresh the committed ones the README shows.
 */
export const SCREENSHOTS = path.resolve(ROOT, process.env.POSTERN_E2E_SCREENSHOTS ?? 'dist/screenshots');

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}.png`),
    fullPage: options.fullPage ?? true,
    animations: 'disabled',
    caret: 'hide',
  });
}

/**
 * Elements sticking out to the right of the viewport (the page would scroll sideways), as
 * "tag.class (right edge)" strings; empty when the layout fits. The check runs in the page, so it
 * is given as source text (the test project has no DOM types).
 */
const OVERFLOW_CHECK = `(() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width) out.push('document (' + document.documentElement.scrollWidth + ' > ' + width + ')');
  for (const element of Array.from(document.body.querySelectorAll('*'))) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let clipped = false;
    for (let parent = element.parentElement; parent !== null && parent !== document.body; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== 'visible' && parent.getBoundingClientRect().right <= width + 1) { clipped = true; break; }
    }
    if (!clipped) out.push(element.tagName.toLowerCase() + '.' + element.className + ' (' + Math.round(box.right) + ')');
  }
  return out;
})()`;

export async function overflowing(page: Page): Promise<string[]> {
  const result: unknown = await page.evaluate(OVERFLOW_CHECK);
  return Array.isArray(result) ? result.map(String) : [`unexpected answer: ${String(result)}`];
}
