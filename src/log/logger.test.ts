import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { scrubSecrets } from './redact.js';

const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbSJ9.c2lnbmF0dXJlLXBhcnQ';
const XOAUTH2 = Buffer.from(`user=andrea@contoso.com\x01auth=Bearer ${JWT}\x01\x01`).toString('base64');

describe('scrubSecrets', () => {
  it.each([
    ['a bearer header', `Authorization: Bearer abc.DEF-123_xyz`, 'abc.DEF-123_xyz'],
    [
      'a form body',
      'grant_type=refresh_token&refresh_token=0.AAAA-rt-value&client_secret=Sx8Q~secret',
      '0.AAAA-rt-value',
    ],
    ['a client secret in a form', 'client_id=1&client_secret=Sx8Q~secret&scope=x', 'Sx8Q~secret'],
    ['JSON token fields', '{"access_token":"opaque-at","refresh_token":"opaque-rt"}', 'opaque-rt'],
    [
      'an escaped JSON string inside a message',
      String.raw`{"msg":"body {\"refresh_token\":\"inner-rt\"}"}`,
      'inner-rt',
    ],
    ['an XOAUTH2 string', `C: A1 AUTHENTICATE XOAUTH2 ${XOAUTH2}`, XOAUTH2],
    ['a JWT anywhere', `token was ${JWT} today`, JWT],
    ['an API token', 'used pst_AbCdEfGhIjKlMnOpQrStUv', 'pst_AbCdEfGhIjKlMnOpQrStUv'],
    ['a password in a URL', 'connecting to postgres://postern:pa55word@db/postern', 'pa55word'],
  ])('removes %s', (_name, line, secret) => {
    const out = scrubSecrets(line);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it('leaves ordinary text alone', () => {
    const line = 'IMAP connected to outlook.office365.com:993 for developers@contoso.com';
    expect(scrubSecrets(line)).toBe(line);
  });
});

describe('createLogger', () => {
  it('writes daily combined and error files and redacts by path and by pattern', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-log-'));
    let now = new Date('2022-10-04T23:59:59Z');
    const { logger, close } = createLogger({ level: 'debug', dir, clock: () => now });
    logger.info({ clientSecret: 'field-secret', nested: { refreshToken: 'nested-rt' } }, 'provider saved');
    logger.debug(`token endpoint said client_secret=pattern-secret and ${JWT}`);
    logger.error({ err: new Error(`refresh failed: Bearer ${JWT}`) }, 'refresh failed');
    now = new Date('2022-10-05T00:00:01Z');
    logger.warn('next day');
    close();

    const read = (name: string) => fs.readFileSync(path.join(dir, name), 'utf8');
    const combined = read('email-combined.2022-10-04.log');
    const errors = read('email-error.2022-10-04.log');
    expect(combined).toContain('provider saved');
    expect(combined.split('\n').filter(Boolean)).toHaveLength(3);
    expect(errors.split('\n').filter(Boolean)).toHaveLength(1);
    expect(errors).toContain('refresh failed');
    expect(read('email-combined.2022-10-05.log')).toContain('next day');
    for (const secret of ['field-secret', 'nested-rt', 'pattern-secret', JWT]) {
      expect(combined).not.toContain(secret);
      expect(errors).not.toContain(secret);
    }
  });

  it('respects the level', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-log-'));
    const { logger, files, close } = createLogger({ level: 'warn', dir });
    logger.info('quiet');
    logger.warn('loud');
    close();
    const combined = fs.readFileSync(files().combined ?? '', 'utf8');
    expect(combined).not.toContain('quiet');
    expect(combined).toContain('loud');
  });
});
