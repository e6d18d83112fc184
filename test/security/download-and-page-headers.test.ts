/**
 * Issue 13, "what held": the headers that keep mail content from running on Postern's origin.
 *
 * - The UI's pages carry the exact page policy: scripts and requests only from Postern, no
 *   plugins, no <base>, forms only to Postern, no framing, and a same-origin referrer policy.
 * - Downloads (raw MIME and attachments) are always `attachment`, with `default-src 'none';
 *   sandbox`, `nosniff` and `private, no-store`, whatever the attachment claims to be (HTML, SVG,
 *   or a type that is no media type at all, which is sent as application/octet-stream).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandling } from '../../src/http/plugins/errors.js';
import { registerSecurityHeaders } from '../../src/http/plugins/security-headers.js';
import { webUiRoutes } from '../../src/http/plugins/web-ui.js';
import { setAccountAgents } from '../../src/store/index.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';
import { buildAccount } from '../ingest/helpers.js';
import { ingestNew } from '../helpers/store-factories.js';

/** A CSP header as a map from directive to its sources, in order. */
function directives(policy: string): Record<string, string> {
  return Object.fromEntries(
    policy
      .split(';')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => {
        const [name = '', ...sources] = part.split(/\s+/);
        return [name, sources.join(' ')];
      }),
  );
}

const PAGE_POLICY = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data: https: http:",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
};

describe('the UI page', () => {
  let ui: FastifyInstance;
  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-web-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(
      path.join(dir, 'index.html'),
      '<!doctype html><html><head><meta name="postern-public-url" content="" /></head><body><div id="app"></div></body></html>',
    );
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    ui = Fastify();
    registerErrorHandling(ui);
    registerSecurityHeaders(ui, { publicUrl: 'https://postern.example.com' });
    await ui.register(webUiRoutes, { publicUrl: 'https://postern.example.com', directory: dir });
    await ui.ready();
  });
  afterAll(async () => ui.close());

  function expectPageHeaders(response: LightMyRequestResponse): void {
    const policy = String(response.headers['content-security-policy']);
    expect(directives(policy)).toEqual(PAGE_POLICY);
    expect(policy).not.toContain("'unsafe-eval'");
    expect(directives(policy)['script-src']).not.toContain('unsafe-inline');
    expect(response.headers['referrer-policy']).toBe('same-origin');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  }

  it('has the exact page policy, on the app and on any of its pages', async () => {
    for (const url of ['/ui/', '/ui/cloud-providers/3?authentication=success', '/ui/interactions/7']) {
      const response = await ui.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expectPageHeaders(response);
    }
  });

  it('keeps it on a revalidated page (304)', async () => {
    const first = await ui.inject({ method: 'GET', url: '/ui/' });
    const again = await ui.inject({
      method: 'GET',
      url: '/ui/',
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expectPageHeaders(again);
  });
});

describe('downloads', () => {
  let postern: TestPostern;
  let agent: string;
  let messageId: number;
  let attachments: { id: number; filename: string; contentType: string; url: string }[];
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script></svg>';

  beforeAll(async () => {
    postern = await startTestPostern();
    const account = await buildAccount(postern.runtime.db);
    const a = await postern.bearer('agent');
    agent = a.authorization;
    await setAccountAgents(postern.runtime.db, account.id, [a.userId]);
    const raw = Buffer.from(
      [
        'From: Mallory <mallory@example.org>',
        'To: support@contoso.com',
        'Subject: Files',
        'Message-ID: <files@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Three files.',
        '--b',
        'Content-Type: image/svg+xml; name="logo.svg"',
        'Content-Disposition: inline; filename="logo.svg"',
        '',
        svg,
        '--b',
        'Content-Type: application/xhtml+xml; name="page.xhtml"',
        'Content-Disposition: inline; filename="page.xhtml"',
        '',
        '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
        '--b',
        'Content-Type: text/html<script>; name="odd.bin"',
        'Content-Disposition: attachment; filename="odd.bin"',
        '',
        '<script>alert(2)</script>',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const stored = await ingestNew(postern.runtime.db, account, raw, 1);
    messageId = stored.messageRowId;
    const detail = await postern.app.inject({
      method: 'GET',
      url: `/api/interactions/${stored.interactionId}`,
      headers: { authorization: agent },
    });
    attachments = detail.json().messages[0].attachments;
  });
  afterAll(async () => postern.close());

  const get = (url: string) => postern.app.inject({ method: 'GET', url, headers: { authorization: agent } });

  function expectDownloadHeaders(response: LightMyRequestResponse): void {
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(response.headers['cache-control']).toBe('private, no-store');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(String(response.headers['content-disposition'])).toMatch(/^attachment; /);
  }

  it('sends the raw MIME as a sandboxed, uncached attachment', async () => {
    const raw = await get(`/api/messages/${messageId}/raw`);
    expectDownloadHeaders(raw);
    expect(raw.headers['content-type']).toBe('message/rfc822');
  });

  it('sends an SVG with a script as an attachment, never inline, sandboxed', async () => {
    const logo = attachments.find((a) => a.filename === 'logo.svg');
    expect(logo?.contentType).toBe('image/svg+xml');
    const response = await get(logo?.url ?? '');
    expectDownloadHeaders(response);
    expect(response.headers['content-type']).toBe('image/svg+xml');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="logo.svg"; filename*=UTF-8''logo.svg`);
    expect(response.body).toBe(svg);
  });

  it('sends an XHTML page the sender marked inline as an attachment, sandboxed', async () => {
    const page = attachments.find((a) => a.filename === 'page.xhtml');
    const response = await get(page?.url ?? '');
    expectDownloadHeaders(response);
    expect(response.headers['content-type']).toBe('application/xhtml+xml');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="page.xhtml"; filename*=UTF-8''page.xhtml`,
    );
  });

  it('sends a type that is no plain media type as application/octet-stream', async () => {
    const odd = attachments.find((a) => a.filename === 'odd.bin');
    if (odd === undefined) throw new Error('no odd.bin');
    // Stored as the sender wrote it, served as bytes with no type a browser would render.
    expect(odd.contentType).toBe('text/html<script>');
    const response = await get(odd.url);
    expectDownloadHeaders(response);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.body).toBe('<script>alert(2)</script>');
  });
});
