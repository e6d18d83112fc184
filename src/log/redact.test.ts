import { describe, expect, it } from 'vitest';
import { scrubSecrets } from './redact.js';

describe('scrubSecrets (gaps found by the log scan)', () => {
  it("removes a PEM private key, raw or inside a JSON string (a provider's certificate credential)", () => {
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDx+y/z=';
    const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
    expect(scrubSecrets(`key ${pem}`)).not.toContain(body);
    expect(scrubSecrets(JSON.stringify({ msg: 'x', detail: pem }))).not.toContain(body);
    expect(scrubSecrets('-----BEGIN RSA PRIVATE KEY-----\nAAAA')).toBe('[redacted]');
    expect(scrubSecrets('-----BEGIN CERTIFICATE-----\nMIIC')).toContain('MIIC');
  });

  it('removes a webhook signing secret', () => {
    const line = 'created webhook with secret whsec_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde';
    expect(scrubSecrets(line)).toBe('created webhook with secret [redacted]');
  });
});

describe('scrubSecrets keeps what diagnosis needs', () => {
  it('keeps error codes in JSON and fields that merely end in "code"', () => {
    const line = String.raw`{"err":{"code":"AUTH_SESSIONS_REVOKED","details":{"imapCode":"NONEXISTENT"},"cause":{"code":"ECONNREFUSED"}},"msg":"x imapCode=ALERT"}`;
    expect(scrubSecrets(line)).toBe(line);
  });

  it('still removes an authorization code from JSON, a query string and a form body', () => {
    const code = '1.AVEAa0b1c2d3e4f5g6h7i8j9k0l1m2n3o4p5q6r7s8t9u0v1w2x3y4z5-_abc';
    for (const line of [
      `{"code":"${code}"}`,
      `GET /callback?code=${code}&state=s`,
      `grant_type=authorization_code&code=${code}`,
      String.raw`{"msg":"{\"code\":\"${code}\"}"}`,
    ]) {
      expect(scrubSecrets(line), line).not.toContain(code);
    }
  });

  it('removes passwords under any field name ending in password', () => {
    expect(scrubSecrets('{"newPassword":"s3cret-value","ropc_password":"x"}')).toBe(
      '{"newPassword":"[redacted]","ropc_password":"[redacted]"}',
    );
    expect(scrubSecrets('username=a&new_password=s3cret-value')).toBe('username=a&new_password=[redacted]');
  });
});
