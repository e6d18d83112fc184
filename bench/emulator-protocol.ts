/**
 * What the emulator benchmark's two processes say to each other, and the generated tenant and
 * messages they share.
 */
import type { SeedInput } from '../emulator/directory/schema.js';

/** The public client of the generated tenant (ROPC with admin consent). */
export const BENCH_TENANT_ID = 'b0000000-0000-4000-8000-00000000be01';
export const BENCH_CLIENT_ID = 'b0000000-0000-4000-8000-00000000c11e';
export const BENCH_PASSWORD = 'Bench#2025!';
export const BENCH_SCOPES =
  'https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access';

export type BenchRequest =
  | { type: 'populate'; mailbox: string; count: number }
  | { type: 'deliver'; mailbox: string; sequence: number }
  | { type: 'stats' }
  | { type: 'stop' };

export type BenchReply =
  | { type: 'ready'; caPem: string; tokenUrl: string; imapPort: number; smtpPort: number }
  | { type: 'populated'; count: number }
  | { type: 'delivered'; mailbox: string; sentAt: number }
  | { type: 'stats'; rss: number; heapUsed: number; cpuMs: number; imapConnections: number };

/** `user0001@bench.example` ... */
export function benchUser(index: number): string {
  return `user${String(index).padStart(4, '0')}@bench.example`;
}

/** A tenant of `users` users with mailboxes, and a public client allowed to use ROPC. */
export function benchSeed(users: number): SeedInput {
  return {
    tenants: [
      {
        id: BENCH_TENANT_ID,
        displayName: 'Bench',
        domains: ['bench.onmicrosoft.com', 'bench.example'],
        users: Array.from({ length: users }, (_, i) => ({
          id: `b1000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
          userPrincipalName: benchUser(i + 1),
          displayName: `Bench user ${i + 1}`,
          password: BENCH_PASSWORD,
        })),
        apps: [
          {
            appId: BENCH_CLIENT_ID,
            displayName: 'Bench client',
            redirectUris: { publicClient: ['http://localhost'] },
            allowPublicClient: true,
            permissions: {
              delegated: [
                'https://outlook.office.com/IMAP.AccessAsUser.All',
                'https://outlook.office.com/SMTP.Send',
                'offline_access',
              ],
            },
            adminConsentGranted: true,
          },
        ],
      },
    ],
  };
}

const PARAGRAPH =
  'Dear team, the shipment for order {n} left our warehouse this morning. The carrier expects to deliver it within two working days. ' +
  'Please find the tracking details below and do not hesitate to contact us should anything be unclear. ';

/** A realistic customer message of about 4 KB: multipart/alternative, text and HTML. */
export function benchMessage(n: number): Buffer {
  const text = PARAGRAPH.replace('{n}', String(n)).repeat(6);
  const html = `<html><body><p>${text}</p></body></html>`;
  return Buffer.from(
    [
      `From: "Customer ${n % 97}" <customer${n % 97}@example.org>`,
      'To: "Support" <support@bench.example>',
      `Subject: Order ${n}: shipment update`,
      `Message-ID: <bench-${n}@example.org>`,
      `Date: ${new Date(Date.UTC(2025, 0, 1) + n * 60_000).toUTCString().replace('GMT', '+0000')}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="bench-boundary"',
      '',
      '--bench-boundary',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 7bit',
      '',
      text,
      '--bench-boundary',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 7bit',
      '',
      html,
      '--bench-boundary--',
      '',
    ].join('\r\n'),
  );
}
