import { describe, expect, it } from 'vitest';
import { MAX_RECIPIENTS, readDeliveryStatus, reportedMessageId } from './delivery-status.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

describe('readDeliveryStatus', () => {
  it("reads Exchange Online's report: recipient, action, status and the server's words", () => {
    const report = crlf([
      'Reporting-MTA: dns;SY5P282MB1234.AUSP282.PROD.OUTLOOK.COM',
      'Received-From-MTA: dns;SY5P282MB1234.AUSP282.PROD.OUTLOOK.COM',
      'Arrival-Date: Wed, 15 Jan 2025 09:00:00 +0000',
      '',
      'Final-Recipient: rfc822;nobody@contoso.com',
      'Action: failed',
      'Status: 5.1.10',
      'Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.com not found by SMTP address lookup',
      'X-Display-Name: nobody@contoso.com',
      '',
    ]);
    expect(readDeliveryStatus(report)).toEqual([
      {
        address: 'nobody@contoso.com',
        action: 'failed',
        status: '5.1.10',
        diagnostic:
          '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.com not found by SMTP address lookup',
      },
    ]);
  });

  it('reads several recipients, folded lines, bare LF, brackets and a status with a comment', () => {
    const report = Buffer.from(
      [
        'Reporting-MTA: dns; mx.fabrikam.example',
        '',
        'Original-Recipient: rfc822;<ada@fabrikam.example>',
        'Final-Recipient: RFC822; <ada@fabrikam.example>',
        'Action: Failed',
        'Status: 5.2.2 (mailbox full)',
        'Diagnostic-Code: smtp; 552 5.2.2 <ada@fabrikam.example>:',
        '    Mailbox full',
        '',
        'Final-Recipient: rfc822; bob@fabrikam.example',
        'Action: delayed',
        'Status: 4.4.7',
        '',
      ].join('\n'),
    );
    expect(readDeliveryStatus(report)).toEqual([
      {
        address: 'ada@fabrikam.example',
        action: 'failed',
        status: '5.2.2',
        diagnostic: '552 5.2.2 <ada@fabrikam.example>:    Mailbox full',
      },
      { address: 'bob@fabrikam.example', action: 'delayed', status: '4.4.7', diagnostic: null },
    ]);
  });

  it('gives nothing for garbage, refuses malformed status codes and keeps at most the cap of recipients', () => {
    expect(readDeliveryStatus(Buffer.from('not a report at all'))).toEqual([]);
    expect(
      readDeliveryStatus(crlf(['X: y', '', 'Final-Recipient: rfc822;a@b', 'Status: 5.1.1111', '']))[0]?.status,
    ).toBeNull();
    const many = ['Reporting-MTA: dns;x', ''];
    for (let i = 0; i < MAX_RECIPIENTS + 50; i += 1)
      many.push(`Final-Recipient: rfc822;r${i}@x.example`, 'Action: failed', '');
    expect(readDeliveryStatus(crlf(many))).toHaveLength(MAX_RECIPIENTS);
  });

  it('stays linear on a hostile part: a million blank lines and one huge field', () => {
    const hostile = Buffer.concat([
      Buffer.from('\n'.repeat(1_000_000)),
      Buffer.from(`Final-Recipient: ${'x'.repeat(5_000_000)}`),
    ]);
    // Only the first 64 KB are read, so this returns at once instead of walking 6 MB.
    expect(readDeliveryStatus(hostile)).toEqual([]);
  });
});

describe('reportedMessageId', () => {
  it("takes the report's In-Reply-To, else the Message-ID of the attached original or its headers", () => {
    expect(reportedMessageId(['<a@x>'], [])).toBe('<a@x>');
    const original = {
      contentType: 'message/rfc822',
      content: Buffer.from('Subject: x\r\nMessage-ID: <b@x>\r\n\r\nbody'),
    };
    expect(reportedMessageId([], [{ contentType: 'text/plain', content: Buffer.from('hi') }, original])).toBe('<b@x>');
    const headersOnly = { contentType: 'text/rfc822-headers', content: Buffer.from('Message-ID:   <c@x>\r\n') };
    expect(reportedMessageId([], [headersOnly])).toBe('<c@x>');
    expect(
      reportedMessageId([], [{ contentType: 'message/rfc822', content: Buffer.from('no id here') }]),
    ).toBeUndefined();
  });
});
