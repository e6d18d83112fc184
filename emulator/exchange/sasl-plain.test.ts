import { describe, expect, it } from 'vitest';
import { decodeSaslPlain, encodeSaslPlain } from './sasl-plain.js';

describe('SASL PLAIN', () => {
  it('decodes authzid, authcid and password (RFC 4616 §2)', () => {
    expect(decodeSaslPlain(encodeSaslPlain('andrea@contoso.com', 'Andrea#2025'))).toEqual({
      user: 'andrea@contoso.com',
      password: 'Andrea#2025',
      authzid: '',
    });
    expect(decodeSaslPlain(encodeSaslPlain('andrea@contoso.com', 'pässwörd', 'andrea@contoso.com'))).toEqual({
      user: 'andrea@contoso.com',
      password: 'pässwörd',
      authzid: 'andrea@contoso.com',
    });
  });

  it('rejects what is not a PLAIN message: no base64, wrong field count, empty authcid', () => {
    expect(decodeSaslPlain('')).toBeUndefined();
    expect(decodeSaslPlain('not base64!')).toBeUndefined();
    expect(decodeSaslPlain(Buffer.from('andrea\0secret').toString('base64'))).toBeUndefined();
    expect(decodeSaslPlain(Buffer.from('a\0b\0c\0d').toString('base64'))).toBeUndefined();
    expect(decodeSaslPlain(encodeSaslPlain('', 'secret', 'andrea@contoso.com'))).toBeUndefined();
  });
});
