/**
 * The emulated Exchange IMAP service serves what Exchange serves (issue 15, point 7): RFC822.SIZE
 * an estimate unless exact sizes are on for the mailbox, and MIME re-rendered with Exchange's added
 * header fields, the same on every fetch. Checked with imapflow over loopback TLS.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimateRfc822Size } from '../../emulator/exchange/imap-rendering.js';
import { sampleMessage, startExchangeHarness, type ExchangeHarness } from './helpers/exchange-harness.js';

let h: ExchangeHarness;
const clients: ImapFlow[] = [];
let serial = 0;

function user(): string {
  serial += 1;
  const address = `render${serial}@contoso.com`;
  h.tenant.addUser(address);
  return address;
}

async function fetchOne(address: string): Promise<{ size: number; source: Buffer; header: Buffer }> {
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: h.imapPort,
    secure: true,
    tls: { ca: h.ca, servername: 'localhost' },
    auth: { user: address, accessToken: h.tenant.userToken(address) },
    logger: false,
    disableAutoIdle: true,
  });
  clients.push(flow);
  await flow.connect();
  await flow.mailboxOpen('INBOX');
  const message = await flow.fetchOne('*', { size: true, source: true, headers: true });
  if (message === false || message.source === undefined || message.headers === undefined || message.size === undefined)
    throw new Error('nothing fetched');
  return { size: message.size, source: message.source, header: message.headers };
}

function deliver(address: string, raw: string): void {
  h.service.store.append(address, h.service.store.mailbox(address).wellKnown('inbox'), Buffer.from(raw, 'latin1'));
}

beforeAll(async () => {
  h = await startExchangeHarness();
});

afterEach(async () => {
  for (const flow of clients.splice(0)) await flow.logout().catch(() => flow.close());
});

afterAll(() => h.stop());

describe('RFC822.SIZE and re-rendered MIME', () => {
  it('reports an estimate that differs from the served length by at most 3 %, exact with ImapEnableExactRFC822Size', async () => {
    const address = user();
    const raw = sampleMessage({ subject: 'Estimate', body: 'z'.repeat(5_000) }).toString('latin1');
    deliver(address, raw);
    h.service.imapRendering.setExactSize(address, false);
    const estimated = await fetchOne(address);
    expect(estimated.source.equals(Buffer.from(raw, 'latin1'))).toBe(true);
    expect(estimated.size).not.toBe(estimated.source.length);
    expect(Math.abs(estimated.size - estimated.source.length)).toBeLessThanOrEqual(
      Math.ceil(estimated.source.length * 0.03),
    );
    expect(estimated.size).toBe(estimateRfc822Size(estimated.source));

    h.service.imapRendering.setExactSize(address, true);
    const exact = await fetchOne(address);
    expect(exact.size).toBe(exact.source.length);
  });

  it('serves re-rendered MIME with the X-MS-* fields before Content-Type, the same on every fetch', async () => {
    const address = user();
    const raw = sampleMessage({ subject: 'Rendered', body: 'Hello' }).toString('latin1');
    deliver(address, raw);
    h.service.imapRendering.setRerender(address, true);
    h.service.imapRendering.setExactSize(address, true);
    const first = await fetchOne(address);
    const text = first.source.toString('latin1');
    expect(first.source.equals(Buffer.from(raw, 'latin1'))).toBe(false);
    expect(text).toMatch(/^X-MS-Has-Attach:\r\n/m);
    expect(text).toMatch(/^X-MS-Exchange-Organization-Network-Message-Id: [0-9a-f-]{36}\r\n/m);
    const header = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(header.indexOf('X-MS-Has-Attach:')).toBeLessThan(header.search(/^Content-Type:/im));
    expect(first.header.toString('latin1')).toContain('X-MS-TNEF-Correlator:');
    expect(first.size).toBe(first.source.length);
    // The delivered body is untouched.
    expect(text.slice(text.indexOf('\r\n\r\n'))).toBe(raw.slice(raw.indexOf('\r\n\r\n')));

    const second = await fetchOne(address);
    expect(second.source.equals(first.source)).toBe(true);
  });

  it('marks a message with an attachment X-MS-Has-Attach: yes', async () => {
    const address = user();
    const raw = [
      'From: a@example.org',
      `To: ${address}`,
      'Subject: With file',
      'Message-ID: <file@example.org>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'See file.',
      '--b1',
      'Content-Type: application/pdf; name="a.pdf"',
      'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERi0=',
      '--b1--',
      '',
    ].join('\r\n');
    deliver(address, raw);
    h.service.imapRendering.setRerender(address, true);
    const served = (await fetchOne(address)).source.toString('latin1');
    expect(served).toMatch(/^X-MS-Has-Attach: yes\r\n/m);
    expect(served.indexOf('X-MS-Has-Attach')).toBeLessThan(served.indexOf('MIME-Version'));
  });
});
