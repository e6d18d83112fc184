import { describe, expect, it } from 'vitest';
import { decodeXOAuth2, encodeXOAuth2 } from './xoauth2.js';

describe('XOAUTH2', () => {
  it('matches the test vector of the Microsoft document', () => {
    const encoded = encodeXOAuth2('test@contoso.onmicrosoft.com', 'EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA');
    expect(encoded).toBe(
      'dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==',
    );
    expect(decodeXOAuth2(encoded)).toEqual({
      user: 'test@contoso.onmicrosoft.com',
      token: 'EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA',
    });
  });

  it('refuses responses without a user or a bearer token', () => {
    expect(decodeXOAuth2(Buffer.from('auth=Bearer x\x01\x01').toString('base64'))).toBeUndefined();
    expect(decodeXOAuth2(Buffer.from('user=a@b\x01auth=Basic x\x01\x01').toString('base64'))).toBeUndefined();
    expect(decodeXOAuth2('not base64!')).toBeUndefined();
    expect(decodeXOAuth2('')).toBeUndefined();
  });
});
