import { describe, expect, it } from 'vitest';
import { PosternError } from '../../errors/index.js';
import { endsSession, mapImapError } from './imap-errors.js';

const context = { host: 'outlook.office365.com', user: 'developers@contoso.com', folder: 'INBOX' };

function imapflowError(fields: Record<string, unknown>, message = 'Command failed'): Error {
  return Object.assign(new Error(message), fields);
}

describe('mapImapError', () => {
  it('maps NO AUTHENTICATE failed. to a sign-in problem with a remedy', () => {
    const error = mapImapError(
      imapflowError({
        authenticationFailed: true,
        responseStatus: 'NO',
        responseText: 'AUTHENTICATE failed.',
        executedCommand: 'A1 AUTHENTICATE XOAUTH2 dXNlcj1zZWNyZXQ=',
      }),
      context,
    );
    expect(error).toMatchObject({ code: 'IMAP_AUTH_FAILED', kind: 'needs-admin' });
    expect(error.remedy).toContain('IMAP.AccessAsUser.All');
    expect(error.details).toMatchObject({ response: 'NO AUTHENTICATE failed.', user: 'developers@contoso.com' });
    expect(JSON.stringify(error)).not.toContain('dXNlcj1zZWNyZXQ');
    expect(JSON.stringify(error.details)).not.toContain('dXNlcj1zZWNyZXQ');
  });

  it('maps a refused password to a password problem, not a token one, and keeps the password out', () => {
    const plain = Buffer.from('\0support@example.org\0hunter2-secret').toString('base64');
    const error = mapImapError(
      imapflowError({
        authenticationFailed: true,
        responseStatus: 'NO',
        responseText: 'AUTHENTICATE failed.',
        executedCommand: `A1 AUTHENTICATE PLAIN ${plain}`,
      }),
      { ...context, method: 'password' },
    );
    expect(error).toMatchObject({ code: 'IMAP_LOGIN_FAILED', kind: 'needs-admin' });
    expect(error.remedy).toMatch(/username and the password/);
    expect(JSON.stringify({ error, details: error.details, message: error.message })).not.toContain(plain);
    expect(
      mapImapError(imapflowError({ responseStatus: 'NO', responseText: 'LOGIN failed.' }), {
        ...context,
        method: 'password',
      }).code,
    ).toBe('IMAP_LOGIN_FAILED');
  });

  it('maps NO AUTHENTICATE failed. of an app-only token to registering the service principal', () => {
    const error = mapImapError(imapflowError({ responseStatus: 'NO', responseText: 'AUTHENTICATE failed.' }), {
      ...context,
      method: 'xoauth2-app',
    });
    expect(error).toMatchObject({ code: 'IMAP_APP_NOT_REGISTERED', kind: 'needs-admin' });
    expect(error.remedy).toContain('New-ServicePrincipal');
  });

  it('maps BAD User is authenticated but not connected. to the reference checklist', () => {
    const error = mapImapError(
      imapflowError({ responseStatus: 'BAD', responseText: 'User is authenticated but not connected.' }),
      context,
    );
    expect(error.code).toBe('IMAP_NOT_CONNECTED');
    expect(error.remedy).toMatch(/IMAP is enabled/);
    expect(error.remedy).toMatch(/FullAccess/);
    expect(error.remedy).toMatch(/not as a tenant administrator/);
  });

  it('maps throttling to a transient error with the rest of the suggested back-off', () => {
    const error = mapImapError(
      imapflowError({
        code: 'ETHROTTLE',
        responseStatus: 'NO',
        responseText: 'Request is throttled. Suggested Backoff Time: 256625',
        throttleReset: 256_625,
        throttleWaited: 150_000,
      }),
      context,
    );
    expect(error).toMatchObject({
      code: 'IMAP_THROTTLED',
      kind: 'transient',
      details: { suggestedBackoffMs: 256_625, backoffMs: 106_625 },
    });
    const fromText = mapImapError(
      imapflowError({ responseStatus: 'NO', responseText: 'Request is throttled. Suggested Backoff Time: 500' }),
      context,
    );
    expect(fromText.details).toMatchObject({ backoffMs: 500 });
    expect(endsSession(error)).toBe(false);
  });

  it('maps the token-expiry BYE, unavailability, missing folders, TLS and network failures', () => {
    expect(
      mapImapError(
        imapflowError(
          { code: 'NoConnection', reason: 'Session invalidated - AccessTokenExpired' },
          'Connection not available',
        ),
        context,
      ).code,
    ).toBe('IMAP_TOKEN_EXPIRED');
    expect(
      mapImapError(imapflowError({ responseStatus: 'NO', responseText: 'Server Unavailable. 15' }), context).code,
    ).toBe('IMAP_SERVER_UNAVAILABLE');
    const missing = mapImapError(
      imapflowError({ mailboxMissing: true, responseStatus: 'NO', responseText: "Support doesn't exist." }),
      { ...context, folder: 'Support' },
    );
    expect(missing).toMatchObject({ code: 'IMAP_FOLDER_NOT_FOUND', kind: 'needs-admin' });
    expect(missing.message).toContain('"Support"');
    expect(
      mapImapError(imapflowError({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'self-signed certificate'), context).code,
    ).toBe('IMAP_TLS_FAILED');
    const network = mapImapError(
      imapflowError({ code: 'ECONNREFUSED' }, 'connect ECONNREFUSED 127.0.0.1:993'),
      context,
    );
    expect(network).toMatchObject({ code: 'IMAP_CONNECTION_FAILED', kind: 'transient' });
    expect(endsSession(network)).toBe(true);
    expect(mapImapError(imapflowError({ responseStatus: 'NO', responseText: 'Something else' }), context).code).toBe(
      'IMAP_COMMAND_FAILED',
    );
  });

  it('passes Postern errors through and calls anything else internal', () => {
    const own = new PosternError('AUTH_REAUTH_INACTIVE');
    expect(mapImapError(own, context)).toBe(own);
    expect(mapImapError('weird', context).code).toBe('INTERNAL');
  });

  it('keeps the original error only as a non-enumerable raw', () => {
    const original = imapflowError({
      responseStatus: 'NO',
      responseText: 'AUTHENTICATE failed.',
      authenticationFailed: true,
    });
    const error = mapImapError(original, context);
    expect(error.raw).toBe(original);
    expect(Object.keys(error)).not.toContain('raw');
  });
});
