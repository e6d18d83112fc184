/**
 * The whole emulator for the Graph suites: started in-process (identity + Exchange + Graph, mail in
 * memory), Graph tokens from its own token endpoint over HTTPS — ROPC on the public client for
 * andrea (Mail.ReadWrite, Mail.Send and the `.Shared` variants, consented here) and marco (no
 * `.Shared`), client credentials on the daemon — and a small Graph client on the CA-trusting fetch.
 */
import { expect } from 'vitest';
import { z } from 'zod';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../../emulator/helpers/emulator.js';

export { CONTOSO };

export const SHARED = 'developers@contoso.com';
const GRAPH = 'https://graph.microsoft.com';

/** Starts the emulator and grants the public client the Graph scopes the suites use. */
export async function startGraphEmulator(): Promise<TestEmulator> {
  const emu = await startTestEmulator({ exchange: { inMemory: true } });
  const consent = (user: string, scopes: string[]): Promise<unknown> =>
    emu.control('POST', '/consents', {
      tenant: CONTOSO.tenantId,
      appId: CONTOSO.publicClient.appId,
      user,
      scopes: scopes.map((s) => `${GRAPH}/${s}`),
    });
  await consent(CONTOSO.andrea.upn, [
    'User.Read',
    'Mail.ReadWrite',
    'Mail.Send',
    'Mail.ReadWrite.Shared',
    'Mail.Send.Shared',
  ]);
  await consent(CONTOSO.marco.upn, ['User.Read', 'Mail.ReadWrite', 'Mail.Send']);
  return emu;
}

const tokenResponse = z.object({ access_token: z.string() });

async function token(emu: TestEmulator, form: Record<string, string>): Promise<string> {
  const response = await emu.handle.fetch(`${emu.authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body: unknown = await response.json();
  if (!response.ok) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return tokenResponse.parse(body).access_token;
}

/** A delegated token by ROPC on the public client; Graph by default, or any scope string. */
export function userToken(
  emu: TestEmulator,
  user: { upn: string; password: string },
  scope = `${GRAPH}/Mail.ReadWrite`,
): Promise<string> {
  return token(emu, {
    grant_type: 'password',
    client_id: CONTOSO.publicClient.appId,
    username: user.upn,
    password: user.password,
    scope,
  });
}

/** An app-only Graph token of the daemon (roles Mail.ReadWrite, Mail.Send). */
export function appToken(emu: TestEmulator): Promise<string> {
  return token(emu, {
    grant_type: 'client_credentials',
    client_id: CONTOSO.daemon.appId,
    client_secret: CONTOSO.daemon.secret,
    scope: `${GRAPH}/.default`,
  });
}

/** A Graph response, its JSON parsed when there is some. */
export interface GraphResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/** Calls the emulated Graph with a bearer token. Paths are under `/v1.0`; absolute URLs (nextLink) are used as given. */
export class GraphClient {
  constructor(
    private readonly emu: TestEmulator,
    private readonly accessToken: string | undefined,
  ) {}

  url(path: string): string {
    return path.startsWith('https://') ? path : `${this.emu.base}/v1.0${path}`;
  }

  async call(
    method: string,
    path: string,
    options: { body?: unknown; text?: string; headers?: Record<string, string> } = {},
  ): Promise<GraphResponse> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.accessToken !== undefined) headers.authorization = `Bearer ${this.accessToken}`;
    let body: string | undefined;
    if (options.text !== undefined) {
      headers['content-type'] ??= 'text/plain';
      body = options.text;
    } else if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await this.emu.handle.fetch(this.url(path), {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    const parsed: unknown = text !== '' && type.startsWith('application/json') ? JSON.parse(text) : {};
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: z.record(z.string(), z.unknown()).parse(parsed),
    };
  }

  get(path: string, headers?: Record<string, string>): Promise<GraphResponse> {
    return this.call('GET', path, headers === undefined ? {} : { headers });
  }

  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<GraphResponse> {
    return this.call('POST', path, {
      ...(body === undefined ? {} : { body }),
      ...(headers === undefined ? {} : { headers }),
    });
  }

  patch(path: string, body: unknown): Promise<GraphResponse> {
    return this.call('PATCH', path, { body });
  }
}

const messageListSchema = z.object({
  '@odata.context': z.string(),
  '@odata.nextLink': z.string().optional(),
  value: z.array(z.record(z.string(), z.unknown())),
});

/** Parses a collection response. */
export function collection(response: GraphResponse): z.infer<typeof messageListSchema> {
  expect(response.status, response.text).toBe(200);
  return messageListSchema.parse(response.json);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Graph's error body: exactly `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`. */
const graphErrorSchema = z
  .object({
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        innerError: z
          .object({
            date: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/),
            'request-id': z.string().regex(GUID),
            'client-request-id': z.string(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

/** Asserts a response is a Graph error with this status, code and (optionally) message. */
export function expectGraphError(response: GraphResponse, status: number, code: string, message?: string): void {
  expect(response.status, response.text).toBe(status);
  const body = graphErrorSchema.parse(response.json);
  expect(body.error.code).toBe(code);
  if (message !== undefined) expect(body.error.message).toBe(message);
  expect(response.headers.get('request-id')).toBe(body.error.innerError['request-id']);
}

/** Delivers a message into a mailbox through the Exchange control API; returns its internal date order. */
export async function deliver(emu: TestEmulator, body: Record<string, unknown>): Promise<void> {
  await emu.control('POST', '/exchange/messages', { from: 'customer@example.org', ...body });
}

/** The Graph messages of a folder through the control API's view of the store (subjects only). */
export async function storeSubjects(emu: TestEmulator, mailbox: string, folder: string): Promise<string[]> {
  const listing = z
    .object({ messages: z.array(z.object({ subject: z.string().nullable() })) })
    .parse(await emu.control('GET', `/exchange/mailboxes/${mailbox}/folders/${encodeURIComponent(folder)}/messages`));
  return listing.messages.map((m) => m.subject ?? '');
}
