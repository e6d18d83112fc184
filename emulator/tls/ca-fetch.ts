/**
 * A Fetch-API function over `node:https` that trusts one extra CA (the emulator's) on top of
 * Node's defaults — what a test passes to openid-client as `customFetch`, since Node's global
 * fetch cannot take a CA per call. Redirects are never followed (`redirect: 'manual'` is the
 * only behaviour), which is also what an HTML form walk needs.
 *
 * @see https://github.com/panva/openid-client/blob/main/docs/variables/customFetch.md
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

/** The options this fetch honours. */
export interface CaFetchInit {
  method?: string;
  headers?: Record<string, string> | Headers | Array<[string, string]>;
  body?: string | URLSearchParams | Uint8Array | ArrayBuffer | null;
  signal?: AbortSignal | null;
  redirect?: 'manual' | 'follow' | 'error';
}

/** A fetch that trusts the CA; the same call shape as the global `fetch` for string/URL inputs. */
export type CaFetch = (input: string | URL, init?: CaFetchInit) => Promise<Response>;

const NO_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function headerRecord(headers: CaFetchInit['headers']): Record<string, string> {
  if (headers === undefined) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return { ...headers };
}

function bodyBuffer(body: CaFetchInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return Buffer.from(body);
}

/**
 * Builds a fetch that trusts `caPem` (plus Node's root store). Plain `http:` URLs work too, for
 * redirect targets on loopback.
 */
export function createCaFetch(caPem: string, options: { timeoutMs?: number } = {}): CaFetch {
  const ca = [...rootCertificates, caPem];
  const timeoutMs = options.timeoutMs ?? 10_000;
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      const headers = headerRecord(init.headers);
      const body = bodyBuffer(init.body);
      if (
        body !== undefined &&
        init.body instanceof URLSearchParams &&
        !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
      ) {
        headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
      }
      if (body !== undefined) headers['content-length'] = String(body.length);
      const requestOptions: https.RequestOptions = {
        method: init.method ?? 'GET',
        headers,
        timeout: timeoutMs,
        ...(init.signal ? { signal: init.signal } : {}),
      };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
          }
          const status = res.statusCode ?? 500;
          const payload = NO_BODY_STATUS.has(status) ? null : Buffer.concat(chunks);
          resolve(new Response(payload, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
        });
      };
      const req =
        url.protocol === 'https:'
          ? https.request(url, { ...requestOptions, ca }, onResponse)
          : http.request(url, requestOptions, onResponse);
      req.on('timeout', () => req.destroy(new Error(`request to ${url.origin} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}
