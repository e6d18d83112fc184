/**
 * Issue 13: a hostile mail must neither tell its sender that it was read nor run anything. A
 * corpus of tracker and script techniques (test/fixtures/hostile-html/corpus.ts), each reporting
 * to its own path at a loopback tracker, is delivered to a mailbox in one message and opened by
 * the agent in Chromium. Until "Show remote images": no request reaches the tracker, no script
 * runs (nothing logged, no dialog, no global set), and Chromium never even has to refuse anything
 * (no CSP or sandbox message), so the sanitizer alone held. After it: exactly the plain `<img src>`
 * images are requested, and still nothing else.
 */
import http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { imageSource } from '../../src/web/lib/mail-frame-policy.js';
import { corpusHtml, hostileCorpus, sentinel, type Technique } from '../fixtures/hostile-html/corpus.js';
import { setUpAgentMailbox } from './helpers/agent-mailbox.js';
import { launchChromium, newContext } from './helpers/browser.js';
import { signIn } from './helpers/session.js';
import { startStack, type Stack } from './helpers/stack.js';

const AGENT = { username: 'vera', password: 'vera password 1', displayName: 'Vera Agent' };
const SUBJECT = 'Hostile corpus';
/** A 1×1 PNG, sent as the message's inline (cid:) image: the frame's policy must still show it. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

let stack: Stack;
let browser: Browser;
let admin: BrowserContext;
let agent: BrowserContext;
let page: Page;
let tracker: http.Server;
let trackerUrl = '';
let corpus: Technique[] = [];
/** Paths the tracker was asked for, in order. */
const requests: string[] = [];
/** Everything any page or frame logged, and every dialog opened. */
const consoleLog: string[] = [];
const dialogs: string[] = [];

/** The corpus as a multipart/related message, with one inline image the sanitizer must keep. */
function corpusMessage(): string {
  const html = `<p><img src="cid:logo@corpus" alt="inline logo"></p>\n${corpusHtml(corpus)}`;
  return [
    'From: Mallory Sender <mallory@attacker.example>',
    'To: developers@contoso.com',
    `Subject: ${SUBJECT}`,
    'Message-ID: <hostile-corpus@attacker.example>',
    'Date: Wed, 02 Dec 2026 08:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="corpus-boundary"',
    '',
    '--corpus-boundary',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    ...(Buffer.from(html, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []),
    '--corpus-boundary',
    'Content-Type: image/png',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <logo@corpus>',
    'Content-Disposition: inline; filename="logo.png"',
    '',
    PNG,
    '--corpus-boundary--',
    '',
  ].join('\r\n');
}

/** A technique's id from a request path: its first segment. */
function techniqueOf(path: string): string {
  return path.split('/')[1] ?? '';
}

/**
 * What the browser made of the mail: run in the console page, reaching into the same-origin frame.
 * Lists every element, attribute and style that could load or run something, and every sentinel
 * missing from the text. Given as source text (the test project has no DOM types).
 */
const AUDIT = `((sentinels) => {
  const frame = document.querySelector('iframe.mail-frame');
  const doc = frame && frame.contentDocument;
  if (!doc || !doc.body) return { ready: false };
  const found = [];
  const forbidden = /^(script|iframe|frame|frameset|object|embed|applet|link|meta|style|base|form|input|button|select|textarea|svg|math|video|audio|source|track|picture|template|noscript|portal|bgsound|image)$/i;
  for (const element of Array.from(doc.body.querySelectorAll('*'))) {
    const tag = element.tagName.toLowerCase();
    if (forbidden.test(tag)) found.push('<' + tag + '>');
    for (const attribute of Array.from(element.attributes)) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (name.startsWith('on') || /^(srcset|lowsrc|dynsrc|background|poster|action|formaction|ping|srcdoc|xlink:href|data)$/.test(name))
        found.push(tag + '[' + name + ']');
      if ((name === 'href' || name === 'src') && /^(javascript|vbscript|data:text)/.test(value)) found.push(tag + '[' + name + '=' + value.slice(0, 20) + ']');
      if (name === 'style' && /url|image|fade|element|paint|expression|var\\(|\\\\|@/.test(value)) found.push(tag + '[style=' + value + ']');
    }
  }
  const text = doc.body.textContent || '';
  return {
    ready: doc.readyState === 'complete' && Array.from(doc.images).every((image) => image.complete),
    found,
    missing: sentinels.filter((s) => !text.includes(s)),
    policy: (doc.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || null,
    sources: Array.from(doc.images).map((image) => image.getAttribute('src')).filter((src) => src !== null && !src.startsWith('/api/')),
    inlineLoaded: Array.from(doc.images).filter((image) => (image.getAttribute('src') || '').startsWith('/api/messages/') && image.naturalWidth > 0).length,
    xss: window.xss === undefined ? [] : window.xss,
  };
})`;

const auditSchema = z.object({
  ready: z.boolean(),
  found: z.array(z.string()).default([]),
  missing: z.array(z.string()).default([]),
  policy: z.string().nullable().default(null),
  sources: z.array(z.string()).default([]),
  inlineLoaded: z.number().default(0),
  xss: z.array(z.string()).default([]),
});
type Audit = z.infer<typeof auditSchema>;

async function audit(): Promise<Audit> {
  return auditSchema.parse(await page.evaluate(`${AUDIT}(${JSON.stringify(corpus.map(sentinel))})`));
}

/** Waits until the frame has loaded and every image in it has settled (loaded or failed). */
async function settled(): Promise<Audit> {
  await expect.poll(async () => (await audit()).ready, { timeout: 15_000 }).toBe(true);
  return audit();
}

beforeAll(async () => {
  tracker = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' }).end(GIF);
  });
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
  const address = tracker.address();
  if (address === null || typeof address !== 'object') throw new Error('the tracker is not listening');
  trackerUrl = `http://127.0.0.1:${address.port}`;
  corpus = hostileCorpus(trackerUrl);

  stack = await startStack();
  browser = await launchChromium([stack.emulatorCertPem]);
  admin = await newContext(browser);
  const adminPage = await admin.newPage();
  adminPage.setDefaultTimeout(10_000);
  const accountId = await setUpAgentMailbox(stack, adminPage, AGENT);

  agent = await newContext(browser);
  page = await agent.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => consoleLog.push(`${message.type()}: ${message.text()}`));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => consoleLog.push(`uncaught: ${error.message}`));
  await signIn(page, stack.url, AGENT.username, AGENT.password);
  await page.waitForURL(`${stack.url}/ui/inbox/${accountId}`);
}, 120_000);

afterAll(async () => {
  await agent?.close();
  await admin?.close();
  await browser?.close();
  await stack?.close();
  await new Promise((resolve) => tracker?.close(resolve));
});

describe('hostile HTML in the mail frame', () => {
  it('has at least 40 techniques, each with its own tracker path', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((technique) => technique.id)).size).toBe(corpus.length);
    expect(corpus.filter((technique) => technique.family === 'xss').length).toBeGreaterThanOrEqual(20);
  });

  it('renders the corpus with remote images blocked: no request, no script, nothing for the browser to refuse', async () => {
    await stack.emulator.control('POST', '/exchange/messages', {
      from: 'mallory@attacker.example',
      to: 'developers@contoso.com',
      raw: corpusMessage(),
    });
    await page.getByRole('link', { name: new RegExp(SUBJECT) }).click({ timeout: 30_000 });
    await page.getByRole('heading', { name: SUBJECT }).waitFor();
    const shown = corpus.filter((technique) => technique.shownImage);
    await page.getByText(`${shown.length} remote images are blocked`).waitFor();

    const result = await settled();
    expect(requests).toEqual([]);
    expect(result.xss).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(consoleLog.filter((line) => /XSS|Content Security Policy|sandbox|Refused|Blocked/i.test(line))).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.found).toEqual([]);
    expect(result.sources).toEqual([]);
    expect(result.inlineLoaded).toBe(1);
    expect(result.policy).not.toBeNull();
    expect(result.policy).not.toMatch(/\bhttps?:\/\/(?!localhost:\d+\/api\/messages\/)/);
  }, 60_000);

  it('after "Show remote images" loads exactly the plain images, and still nothing else', async () => {
    const shown = corpus.filter((technique) => technique.shownImage).map((technique) => technique.id);
    await page.getByRole('button', { name: 'Show remote images' }).click();
    await expect.poll(() => new Set(requests.map(techniqueOf)).size, { timeout: 15_000 }).toBe(shown.length);
    const result = await settled();
    expect([...new Set(requests.map(techniqueOf))].sort()).toEqual([...shown].sort());
    expect(result.sources).toHaveLength(shown.length);
    expect(result.found).toEqual([]);
    expect(result.xss).toEqual([]);
    const allowed = (result.policy ?? '').split('; ').find((directive) => directive.startsWith('img-src '));
    expect(allowed?.split(' ')).toEqual(expect.arrayContaining(result.sources.map((source) => imageSource(source))));
    expect(dialogs).toEqual([]);
    expect(consoleLog.filter((line) => /XSS|Content Security Policy|sandbox|Refused|Blocked/i.test(line))).toEqual([]);
  }, 60_000);
});
