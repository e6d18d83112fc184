/**
 * Serves the web UI built by `npm run build` (Vite, into dist/web) under /ui:
 *
 * - hashed files under /ui/assets/ are immutable for a year; index.html is `no-cache` (revalidated
 *   by ETag), so a new release is picked up at the next page load;
 * - any other /ui/* path is a page of the single-page app and gets index.html (the OAuth callback
 *   sends the browser to /ui/cloud-providers/{id}); a missing asset is a 404;
 * - `/` redirects to /ui/;
 * - the public base URL is written into index.html (the UI builds the redirect URI to register
 *   in Azure from it);
 * - text files are gzip-compressed once, at start, and sent compressed when the browser accepts it.
 *
 * The files are read into memory when the plugin is registered: only those files can ever be
 * served, whatever the request path says. Without a built bundle, /ui answers 503 with the command
 * that builds it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2 (Cache-Control: no-cache, max-age)
 * @see https://www.rfc-editor.org/rfc/rfc8246 (immutable)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PosternError } from '../../errors/index.js';
import { escapeHtml, resultPage } from '../html.js';

export interface WebUiOptions {
  /** Postern's public base URL (POSTERN_PUBLIC_URL), written into index.html. */
  publicUrl: string;
  /** The built bundle; defaults to dist/web at the package root. */
  directory?: string;
}

interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
  immutable: boolean;
}

const UI_PREFIX = '/ui';
const ASSETS_DIR = 'assets';
const YEAR_SECONDS = 365 * 24 * 60 * 60;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.map', '.json', '.svg', '.txt']);

/**
 * The UI's page policy: scripts and requests only from Postern itself; no framing. Mail bodies are
 * shown in sandboxed srcdoc frames, which inherit this policy: their sanitized inline styles need
 * 'unsafe-inline' for styles (never for scripts), and remote images — blocked by the sanitizer
 * until the agent asks for them — need http(s) image sources. Each mail frame adds its own, narrower
 * policy (src/web/lib/mail-frame-policy.ts): no http(s) image at all while remote images are
 * blocked, exactly the message's image URLs once shown.
 * @see https://www.w3.org/TR/CSP3/
 */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
};

/** The fastify plugin: register it once on the root application. */
export async function webUiRoutes(app: FastifyInstance, options: WebUiOptions): Promise<void> {
  const directory = options.directory ?? defaultBundleDirectory();
  const files = loadBundle(directory, options.publicUrl);

  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, (_request, reply) =>
    reply.redirect(`${UI_PREFIX}/`, 302),
  );
  app.get(UI_PREFIX, { config: { access: 'public' }, schema: { hide: true } }, (_request, reply) =>
    reply.redirect(`${UI_PREFIX}/`, 301),
  );

  if (files === null) {
    app.log.warn({ directory }, 'the web UI is not built: /ui answers 503 until "npm run build" has run');
    app.get(`${UI_PREFIX}/*`, { config: { access: 'public' }, schema: { hide: true } }, (_request, reply) =>
      reply
        .status(503)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(
          resultPage('The web UI is not built', {
            message: `Postern found no built UI in ${directory}.`,
            remedy:
              'Run "npm run build" (npm start does it), then reload this page. The API under /api works meanwhile.',
          }),
        ),
    );
    return;
  }

  const index = files.get('index.html');
  if (index === undefined) throw new Error(`${directory} has no index.html`);
  app.get(`${UI_PREFIX}/*`, { config: { access: 'public' }, schema: { hide: true } }, (request, reply) => {
    const wanted = requestedFile(request);
    const file = files.get(wanted);
    if (file !== undefined) return send(request, reply, file);
    if (wanted.startsWith(`${ASSETS_DIR}/`) || path.posix.extname(wanted) !== '') {
      throw new PosternError('ROUTE_NOT_FOUND', { message: `There is no file ${UI_PREFIX}/${wanted} in the web UI.` });
    }
    return send(request, reply, index);
  });
}

/** dist/web at the package root, found from this module's place in src/ or dist/src/. */
export function defaultBundleDirectory(): string {
  let dir = import.meta.dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'web');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('dist', 'web');
    dir = parent;
  }
}

/** Reads every file of the bundle; null when there is no bundle. */
function loadBundle(directory: string, publicUrl: string): Map<string, StaticFile> | null {
  if (!fs.existsSync(path.join(directory, 'index.html'))) return null;
  const files = new Map<string, StaticFile>();
  for (const relative of listFiles(directory)) {
    const extension = path.extname(relative);
    let body = fs.readFileSync(path.join(directory, relative));
    if (relative === 'index.html') body = Buffer.from(withPublicUrl(body.toString('utf8'), publicUrl));
    files.set(relative, {
      body,
      gzip: COMPRESSIBLE.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null,
      type: TYPES[extension] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: relative.startsWith(`${ASSETS_DIR}/`),
    });
  }
  return files;
}

function listFiles(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, prefix), { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(root, relative));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

function withPublicUrl(html: string, publicUrl: string): string {
  return html.replace(
    /<meta name="postern-public-url" content="[^"]*"\s*\/?>/,
    `<meta name="postern-public-url" content="${escapeHtml(publicUrl)}" />`,
  );
}

/** The bundle-relative path a request names (`/ui/assets/x.js` → `assets/x.js`). */
function requestedFile(request: FastifyRequest): string {
  const pathname = (request.url.split('?')[0] ?? '').slice(UI_PREFIX.length + 1);
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  void reply
    .header('content-type', file.type)
    .header('etag', file.etag)
    .header('vary', 'accept-encoding')
    .header('cache-control', file.immutable ? `public, max-age=${YEAR_SECONDS}, immutable` : 'no-cache');
  if (!file.immutable) void reply.headers(PAGE_HEADERS);
  if (matchesEtag(request.headers['if-none-match'], file.etag)) return reply.status(304).send();
  const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  if (file.gzip !== null && acceptsGzip) return reply.header('content-encoding', 'gzip').send(file.gzip);
  return reply.send(file.body);
}

/** Whether an If-None-Match header names this entity tag (weak comparison, RFC 9110 §13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
