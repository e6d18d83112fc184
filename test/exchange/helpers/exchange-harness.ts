/**
 * Starts the Exchange half on loopback against a fake tenant (test tokens, a manual clock and a
 * throwaway certificate), for suites that need neither the identity endpoints nor the directory.
 */
import { ExchangeService, type ExchangeServiceOptions } from '../../../emulator/exchange/exchange-service.js';
import { FakeTenant, ManualClock } from './fake-tenant.js';
import { selfSignedCertificate } from './self-signed.js';

export interface ExchangeHarness {
  readonly service: ExchangeService;
  readonly tenant: FakeTenant;
  readonly clock: ManualClock;
  readonly ca: string;
  readonly imapPort: number;
  readonly smtpPort: number;
  stop(): Promise<void>;
}

export async function startExchangeHarness(
  options: Partial<Pick<ExchangeServiceOptions, 'imap' | 'smtp' | 'dataDir'>> = {},
): Promise<ExchangeHarness> {
  const clock = new ManualClock();
  const tenant = new FakeTenant(clock);
  const cert = selfSignedCertificate();
  const service = new ExchangeService({ access: tenant.access, clock, tls: cert, ...options });
  const endpoints = await service.start();
  return {
    service,
    tenant,
    clock,
    ca: cert.cert,
    imapPort: endpoints.imap.port,
    smtpPort: endpoints.smtp.port,
    stop: () => service.stop(),
  };
}

/** A small RFC 5322 message. */
export function sampleMessage(
  options: { subject?: string; from?: string; to?: string; messageId?: string; body?: string } = {},
): Buffer {
  const lines = [
    `From: ${options.from ?? 'Customer <customer@example.org>'}`,
    `To: ${options.to ?? 'andrea@contoso.com'}`,
    `Subject: ${options.subject ?? 'Order 42'}`,
    `Message-ID: ${options.messageId ?? `<${Math.random().toString(36).slice(2)}@example.org>`}`,
    'Date: Wed, 15 Jan 2025 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    options.body ?? 'Where is my order?',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
