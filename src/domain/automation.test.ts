import { describe, expect, it } from 'vitest';
import { detectAutomation, type AutomationInput } from './automation.js';

function input(headers: Record<string, string>, extra: Partial<AutomationInput> = {}): AutomationInput {
  return {
    headers: new Map(Object.entries(headers).map(([k, v]) => [k, [v]])),
    fromAddress: 'customer@example.org',
    contentType: 'text/plain',
    reportType: null,
    partTypes: ['text/plain'],
    subject: 'Order 42',
    ...extra,
  };
}

describe('detectAutomation', () => {
  it("lets a person's mail through", () => {
    const verdict = detectAutomation(input({ 'Auto-Submitted': 'no', Precedence: 'first-class' }));
    expect(verdict).toMatchObject({ autoReply: false, bounce: false, list: false, suppressAutoReply: false });
    expect(verdict.reasons).toEqual([]);
  });
  it.each([
    [{ 'Auto-Submitted': 'auto-replied' }],
    [{ 'auto-submitted': 'Auto-Generated; owner-email="x@y"' }],
    [{ 'X-Autoreply': 'yes' }],
    [{ 'X-Autorespond': 'Out of office' }],
    [{ Precedence: 'auto_reply' }],
  ])('flags an auto-reply: %j', (headers) => {
    expect(detectAutomation(input(headers))).toMatchObject({ autoReply: true, suppressAutoReply: true });
  });
  it('flags an Outlook automatic reply by its subject', () => {
    expect(detectAutomation(input({}, { subject: 'Automatic reply: Order 42' })).autoReply).toBe(true);
  });
  it.each([
    [{ Precedence: 'bulk' }],
    [{ Precedence: 'junk' }],
    [{ Precedence: 'list' }],
    [{ 'List-Id': '<news.example.org>' }],
    [{ 'List-Unsubscribe': '<mailto:u@example.org>' }],
  ])('flags list and bulk mail: %j', (headers) => {
    expect(detectAutomation(input(headers))).toMatchObject({ list: true, autoReply: false, suppressAutoReply: true });
  });
  it('flags delivery reports', () => {
    expect(detectAutomation(input({}, { contentType: 'multipart/report', reportType: 'delivery-status' })).bounce).toBe(
      true,
    );
    expect(detectAutomation(input({}, { partTypes: ['multipart/mixed', 'message/delivery-status'] })).bounce).toBe(
      true,
    );
    expect(detectAutomation(input({}, { fromAddress: 'MAILER-DAEMON@mx.example.org' })).bounce).toBe(true);
    expect(detectAutomation(input({}, { fromAddress: 'postmaster@contoso.com' })).bounce).toBe(true);
    expect(detectAutomation(input({ 'X-Failed-Recipients': 'a@b' })).bounce).toBe(true);
    expect(detectAutomation(input({ 'Return-Path': '<>' }, { subject: 'Undeliverable: Order' })).bounce).toBe(true);
    expect(detectAutomation(input({}, { subject: 'Undeliverable: Order' })).bounce).toBe(false);
  });
  it('treats read receipts as automatic, not as bounces', () => {
    const verdict = detectAutomation(
      input({}, { contentType: 'multipart/report', reportType: 'disposition-notification' }),
    );
    expect(verdict).toMatchObject({ autoReply: true, bounce: false });
  });
  it('suppresses replies when asked, or to a null sender, or on our own loop', () => {
    const suppressed = detectAutomation(input({ 'X-Auto-Response-Suppress': 'DR, OOF, AutoReply' }));
    expect(suppressed).toMatchObject({ suppressAutoReply: true, autoReply: false });
    expect(detectAutomation(input({ 'X-Auto-Response-Suppress': 'DR' })).suppressAutoReply).toBe(false);
    expect(detectAutomation(input({ 'Return-Path': '<>' })).suppressAutoReply).toBe(true);
    expect(
      detectAutomation(input({ 'X-Loop': 'Support@Contoso.com' }, { ownAddresses: ['support@contoso.com'] }))
        .suppressAutoReply,
    ).toBe(true);
  });
});
