/**
 * The whole emulator (identity + Exchange) for integration suites: real tokens from the identity
 * endpoints over HTTPS, the IMAP and SMTP listeners of the Exchange half, and its control routes.
 */
import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import { CONTOSO, EXCHANGE_SCOPES, startTestEmulator, type TestEmulator } from '../../emulator/helpers/emulator.js';

export { CONTOSO, EXCHANGE_SCOPES };

export interface ExchangeEmulator {
  readonly emu: TestEmulator;
  readonly imapPort: number;
  readonly smtpPort: number;
  readonly ca: string;
  stop(): Promise<void>;
}

export async function startExchangeEmulator(): Promise<ExchangeEmulator> {
  // The Exchange half is built into startEmulator; mail stays in memory for tests.
  const emu = await startTestEmulator({ exchange: { inMemory: true } });
  const port = (url: string | undefined): number => Number(new URL(url ?? 'x://0:0').port);
  return {
    emu,
    imapPort: port(emu.handle.urls.imap),
    smtpPort: port(emu.handle.urls.smtp),
    ca: emu.handle.caPem,
    stop: () => emu.stop(),
  };
}

const tokenResponse = z.object({ access_token: z.string(), expires_in: z.number() });

/** A delegated Exchange token by the password grant (the sample public client), over HTTPS. */
export async function passwordToken(
  emu: TestEmulator,
  user: { upn: string; password: string },
  scope = EXCHANGE_SCOPES,
): Promise<string> {
  return requestToken(emu, {
    grant_type: 'password',
    client_id: CONTOSO.publicClient.appId,
    username: user.upn,
    password: user.password,
    scope,
  });
}

/** An app-only Exchange token by client credentials (the sample daemon). */
export async function appToken(emu: TestEmulator): Promise<string> {
  return requestToken(emu, {
    grant_type: 'client_credentials',
    client_id: CONTOSO.daemon.appId,
    client_secret: CONTOSO.daemon.secret,
    scope: 'https://outlook.office365.com/.default',
  });
}

async function requestToken(emu: TestEmulator, form: Record<string, string>): Promise<string> {
  const response = await emu.handle.fetch(`${emu.authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body: unknown = await response.json();
  if (!response.ok) throw new Error(`token request failed: ${JSON.stringify(body)}`);
  return tokenResponse.parse(body).access_token;
}

export function imapClient(x: ExchangeEmulator, user: string, accessToken: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: x.imapPort,
    secure: true,
    tls: { ca: x.ca, servername: 'localhost' },
    auth: { user, accessToken },
    logger: false,
    disableAutoIdle: true,
  });
}

export function smtpTransport(x: ExchangeEmulator, user: string, accessToken: string): Transporter {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: x.smtpPort,
    secure: false,
    requireTLS: true,
    tls: { ca: x.ca, servername: 'localhost' },
    auth: { type: 'OAuth2', user, accessToken },
  });
}
