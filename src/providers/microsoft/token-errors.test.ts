import { describe, expect, it } from 'vitest';
import {
  PROVIDER_CODES,
  REAUTH_CODES,
  aadstsCodeOf,
  classifyMicrosoftError,
  describeMicrosoftError,
} from './token-errors.js';

const body = (aadsts: number, error: string, text: string) => ({
  error,
  error_description: `AADSTS${aadsts}: ${text}\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-01-01 00:00:00Z`,
  error_codes: [aadsts],
  trace_id: '0000',
  correlation_id: '1111',
});

describe('classifyMicrosoftError', () => {
  it.each([
    [7000215, 'invalid_client', 'AUTH_SECRET_INVALID', 'provider'],
    [7000222, 'invalid_client', 'AUTH_SECRET_EXPIRED', 'provider'],
    [700016, 'unauthorized_client', 'AUTH_APP_NOT_FOUND', 'provider'],
    [50194, 'invalid_request', 'AUTH_SINGLE_TENANT_APP', 'provider'],
    [7000218, 'invalid_client', 'AUTH_SECRET_MISSING', 'provider'],
    [700025, 'invalid_client', 'AUTH_SECRET_NOT_ALLOWED', 'provider'],
    [700082, 'invalid_grant', 'AUTH_REAUTH_INACTIVE', 'reauth'],
    [50173, 'invalid_grant', 'AUTH_SESSIONS_REVOKED', 'reauth'],
    [50133, 'invalid_grant', 'AUTH_PASSWORD_CHANGED', 'reauth'],
    [70043, 'invalid_grant', 'AUTH_SIGNIN_FREQUENCY', 'reauth'],
    [65001, 'invalid_grant', 'AUTH_CONSENT_REQUIRED', 'reauth'],
    [50076, 'invalid_grant', 'AUTH_MFA_REQUIRED', 'reauth'],
    [54005, 'invalid_grant', 'AUTH_GRANT_INVALID', 'reauth'],
  ])('AADSTS%i (%s) → %s', (aadsts, error, code, family) => {
    const mapped = classifyMicrosoftError(body(aadsts, error, 'text'), 400);
    expect(mapped.code).toBe(code);
    expect(mapped.details?.aadsts).toBe(`AADSTS${aadsts}`);
    expect(mapped.remedy).toBeTruthy();
    if (family === 'provider') expect(PROVIDER_CODES.has(mapped.code)).toBe(true);
    else expect(REAUTH_CODES.has(mapped.code)).toBe(true);
  });

  it.each([70011, 700022, 28000, 28003])(
    'AADSTS%i (invalid_scope) → AUTH_SCOPE_INVALID, for an administrator',
    (aadsts) => {
      const mapped = classifyMicrosoftError(body(aadsts, 'invalid_scope', 'text'), 400);
      expect(mapped.code).toBe('AUTH_SCOPE_INVALID');
      expect(mapped.kind).toBe('needs-admin');
      expect(mapped.message).toContain(String(aadsts));
      expect(mapped.remedy).toContain('one resource per token');
    },
  );

  it('treats server errors and temporarily_unavailable as transient whatever the code', () => {
    expect(classifyMicrosoftError({ error: 'temporarily_unavailable' }).kind).toBe('transient');
    const mapped = classifyMicrosoftError(body(700082, 'invalid_grant', 'x'), 503);
    expect(mapped.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
    expect(mapped.kind).toBe('transient');
  });

  it('turns an MFA suberror on a generic invalid_grant into the MFA remedy', () => {
    expect(classifyMicrosoftError({ error: 'invalid_grant', suberror: 'basic_action' }).code).toBe('AUTH_MFA_REQUIRED');
  });

  it('reads the AADSTS code from the description when error_codes is absent', () => {
    expect(aadstsCodeOf({ error: 'invalid_grant', error_description: 'AADSTS70008: expired' })).toBe(70008);
    expect(describeMicrosoftError(body(70008, 'invalid_grant', 'The code has expired.'))).toBe(
      'AADSTS70008: The code has expired.',
    );
  });

  it('keeps unknown errors as a provider rejection with the Microsoft text in details', () => {
    const mapped = classifyMicrosoftError({ error: 'weird_error', error_description: 'something' });
    expect(mapped.code).toBe('AUTH_PROVIDER_REJECTED');
    expect(mapped.details?.microsoftMessage).toBe('something');
  });
});
