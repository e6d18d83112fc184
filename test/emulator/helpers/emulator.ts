/**
 * Test helpers for the emulator's integration suites: start it in-process on port 0 with a
 * temporary data directory, the sample seed's identifiers, an openid-client `customFetch` that
 * trusts the emulator's CA, and assertions on Microsoft's error body shape.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { expect } from 'vitest';
import { z } from 'zod';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../../../emulator/main.js';
import type { CaFetch } from '../../../emulator/tls/ca-fetch.js';

/** Identifiers of `emulator/seeds/contoso.json`. */
export const CONTOSO = {
  tenantId: '7a3c9f4e-2b1d-4e8a-9c6f-1d2e3f4a5b6c',
  domain: 'contoso.com',
  andrea: { upn: 'andrea@contoso.com', password: 'Andrea#2025', id: 'a1b2c3d4-0001-4000-8000-00000000a001' },
  marco: { upn: 'marco@contoso.com', password: 'Marco#2025', id: 'a1b2c3d4-0002-4000-8000-00000000a002' },
  giulia: {
    upn: 'giulia@contoso.com',
    password: 'Giulia#2025',
    mfaCode: '246810',
    id: 'a1b2c3d4-0003-4000-8000-00000000a003',
  },
  luca: { upn: 'luca@contoso.com', password: 'Luca#2025', id: 'a1b2c3d4-0004-4000-8000-00000000a004' },
  admin: { upn: 'admin@contoso.onmicrosoft.com', password: 'Admin#2025', id: 'a1b2c3d4-0005-4000-8000-00000000a005' },
  web: {
    appId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01',
    secret: 'Xy78Q~postern.web.valid.secret.0123456789',
    expiredSecret: 'Ab18Q~postern.web.expired.secret.9876543',
    expiredSecretId: 'c0ffee00-0000-4000-8000-000000000002',
    redirectUri: 'http://localhost:8080/api/cloudProviders/oauth2/microsoft/callback',
  },
  publicClient: { appId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a02', redirectUri: 'http://localhost' },
  daemon: { appId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03', secret: 'Dm38Q~postern.daemon.valid.secret.4567890' },
} as const;

/** The Exchange scopes Postern asks for. */
export const EXCHANGE_SCOPES =
  'https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid profile email';

/** A running emulator plus its temporary data directory. */
export interface TestEmulator {
  handle: EmulatorHandle;
  /** `https://127.0.0.1:PORT` */
  base: string;
  /** `https://127.0.0.1:PORT/{contoso tenant id}` */
  authority: string;
  /** A control API call returning the parsed JSON (undefined when empty); throws on non-2xx. */
  control(method: string, route: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts the emulator on port 0 with a fresh data directory (CA created there). */
export async function startTestEmulator(options: Partial<EmulatorOptions> = {}): Promise<TestEmulator> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'postern-emulator-')));
  const handle = await startEmulator({ identity: { deviceCodeIntervalSeconds: 0.05 }, ...options, dataDir });
  return {
    handle,
    base: handle.urls.https,
    authority: `${handle.urls.https}/${CONTOSO.tenantId}`,
    async control(method: string, route: string, body?: unknown): Promise<unknown> {
      const response = await handle.control(method, route, body);
      const text = await response.text();
      if (!response.ok) throw new Error(`control ${method} ${route} → ${response.status} ${text}`);
      return text.length === 0 ? undefined : JSON.parse(text);
    },
    async stop() {
      await handle.close();
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Adapts the CA-trusting fetch to openid-client's `customFetch` signature. */
function openidFetch(caFetch: CaFetch): client.CustomFetch {
  return (url, options) => {
    const body = options.body;
    if (body instanceof ReadableStream) throw new Error('streamed bodies are not used by these tests');
    return caFetch(url, {
      method: options.method,
      headers: options.headers,
      ...(body === undefined ? {} : { body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  };
}

/** An openid-client configuration against the emulator, trusting its CA (no insecure requests). */
export async function discover(
  emu: TestEmulator,
  clientId: string,
  auth: client.ClientAuth,
  options: { tenant?: string; metadata?: Partial<client.ClientMetadata> } = {},
): Promise<client.Configuration> {
  const issuer = new URL(`${emu.base}/${options.tenant ?? CONTOSO.tenantId}/v2.0`);
  return client.discovery(issuer, clientId, options.metadata, auth, {
    [client.customFetch]: openidFetch(emu.handle.fetch),
  });
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Microsoft's token-endpoint error body: exactly these keys (`suberror` optional). */
const aadErrorSchema = z
  .object({
    error: z.string(),
    error_description: z.string(),
    error_codes: z.array(z.number().int()),
    timestamp: z.string(),
    trace_id: z.string().regex(GUID),
    correlation_id: z.string().regex(GUID),
    error_uri: z.string(),
    suberror: z.string().optional(),
  })
  .strict();
export type AadErrorJson = z.infer<typeof aadErrorSchema>;

/** Asserts a body is Microsoft's error shape with this AADSTS code and `error` value. */
export function expectAadError(body: unknown, code: number, error: string): AadErrorJson {
  const json = aadErrorSchema.parse(body);
  expect(json).toMatchObject({
    error,
    error_codes: [code],
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
  expect(json.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  expect(json.error_description).toMatch(
    new RegExp(
      `^AADSTS${code}: .+\\r\\nTrace ID: ${json.trace_id}\\r\\nCorrelation ID: ${json.correlation_id}\\r\\nTimestamp: ${json.timestamp}$`,
      's',
    ),
  );
  return json;
}

/** POSTs a form to the emulator's token endpoint (raw, for error cases). */
export async function postToken(
  emu: TestEmulator,
  params: Record<string, string>,
  options: { tenant?: string; headers?: Record<string, string>; path?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await emu.handle.fetch(
    `${emu.base}/${options.tenant ?? CONTOSO.tenantId}/oauth2/v2.0/${options.path ?? 'token'}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
      body: new URLSearchParams(params).toString(),
    },
  );
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null) throw new Error('token endpoint answered non-object JSON');
  return { status: response.status, body: { ...body }, headers: response.headers };
}
