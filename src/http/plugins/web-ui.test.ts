import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { registerErrorHandling } from './errors.js';
import { webUiRoutes } from './web-ui.js';

const INDEX = `<!doctype html><html><head><meta name="postern-public-url" content="" /><script type="module" src="/ui/assets/index-abc123.js"></script></head><body><div id="app"></div></body></html>`;
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

function bundle(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-web-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), SCRIPT);
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.css'), 'body{margin:0}');
  return dir;
}

let app: FastifyInstance | undefined;

async function start(directory: string, publicUrl = 'https://postern.example.com'): Promise<FastifyInstance> {
  app = Fastify();
  registerErrorHandling(app);
  await app.register(webUiRoutes, { publicUrl, directory });
  await app.ready();
  return app;
}

afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('web UI plugin', () => {
  it('serves hashed assets as immutable for a year', async () => {
    const ui = await start(bundle());
    const response = await ui.inject({ method: 'GET', url: '/ui/assets/index-abc123.css' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(response.body).toBe('body{margin:0}');
  });

  it('serves index.html with no-cache, the page policy and the public URL written in', async () => {
    const ui = await start(bundle(), 'https://mail.contoso.com/postern');
    const response = await ui.inject({ method: 'GET', url: '/ui/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.body).toContain('<meta name="postern-public-url" content="https://mail.contoso.com/postern" />');
  });

  it('answers any page of the app with index.html (the OAuth callback lands on one)', async () => {
    const ui = await start(bundle());
    const response = await ui.inject({
      method: 'GET',
      url: '/ui/cloud-providers/3?authentication=success&upn=andrea%40contoso.com',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toContain('<div id="app">');
  });

  it('answers a missing asset with 404 rather than the page', async () => {
    const ui = await start(bundle());
    const asset = await ui.inject({ method: 'GET', url: '/ui/assets/index-old999.js' });
    expect(asset.statusCode).toBe(404);
    expect(asset.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    const file = await ui.inject({ method: 'GET', url: '/ui/robots.txt' });
    expect(file.statusCode).toBe(404);
  });

  it('never serves a file outside the bundle', async () => {
    const ui = await start(bundle());
    for (const url of ['/ui/../package.json', '/ui/%2e%2e/%2e%2e/etc/passwd', '/ui/assets/..%2f..%2fpackage.json']) {
      const response = await ui.inject({ method: 'GET', url });
      expect(response.body, url).not.toContain('"name"');
      expect(response.body, url).not.toContain('root:');
    }
  });

  it('redirects / and /ui to /ui/', async () => {
    const ui = await start(bundle());
    const root = await ui.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/ui/');
    const bare = await ui.inject({ method: 'GET', url: '/ui' });
    expect(bare.headers.location).toBe('/ui/');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const ui = await start(bundle());
    const first = await ui.inject({ method: 'GET', url: '/ui/' });
    const etag = String(first.headers.etag);
    const again = await ui.inject({
      method: 'GET',
      url: '/ui/sign-in',
      headers: { 'if-none-match': `W/"other", ${etag}` },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('sends large text files gzip-compressed when the browser accepts it', async () => {
    const ui = await start(bundle());
    const response = await ui.inject({
      method: 'GET',
      url: '/ui/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(response.rawPayload).toString()).toBe(SCRIPT);
    const plain = await ui.inject({ method: 'GET', url: '/ui/assets/index-abc123.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);
  });

  it('answers 503 with the build command when the UI is not built', async () => {
    const ui = await start(fs.mkdtempSync(path.join(os.tmpdir(), 'postern-web-empty-')));
    const response = await ui.inject({ method: 'GET', url: '/ui/cloud-providers' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build');
  });
});
