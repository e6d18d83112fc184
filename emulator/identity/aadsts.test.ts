import { describe, expect, it } from 'vitest';
import { aadsts, aadTimestamp, errorBody, framedDescription, newRequestIds } from './aadsts.js';

describe('AADSTS errors', () => {
  it('fill placeholders and keep unknown ones visible', () => {
    const err = aadsts(700016, { appId: 'abc', tenant: 'contoso.com' });
    expect(err.message).toBe(
      "AADSTS700016: Application with identifier 'abc' was not found in the directory 'contoso.com'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    );
    expect(aadsts(50034, {}).text).toContain('{EUII Hidden}');
  });

  it('use 401 for invalid_client and 400 otherwise', () => {
    expect(aadsts(7000215, { appId: 'x' }).status).toBe(401);
    expect(aadsts(700025).status).toBe(401);
    expect(aadsts(54005).status).toBe(400);
    expect(aadsts(70016, {}, { error: 'slow_down' }).error).toBe('slow_down');
  });

  it('frame the description and build Microsoft’s body', () => {
    const at = new Date('2022-04-05T06:21:12.345Z');
    const ids = {
      traceId: '11111111-1111-4111-8111-111111111111',
      correlationId: '22222222-2222-4222-8222-222222222222',
    };
    const err = aadsts(70043, { issuedAt: '2022-04-04T06:21:12Z', maxAge: '86400' });
    expect(aadTimestamp(at)).toBe('2022-04-05 06:21:12Z');
    expect(framedDescription(err, ids, at)).toBe(
      `AADSTS70043: ${err.text}\r\nTrace ID: 11111111-1111-4111-8111-111111111111\r\nCorrelation ID: 22222222-2222-4222-8222-222222222222\r\nTimestamp: 2022-04-05 06:21:12Z`,
    );
    expect(errorBody(err, ids, at)).toEqual({
      error: 'invalid_grant',
      error_description: framedDescription(err, ids, at),
      error_codes: [70043],
      timestamp: '2022-04-05 06:21:12Z',
      trace_id: ids.traceId,
      correlation_id: ids.correlationId,
      error_uri: 'https://login.microsoftonline.com/error?code=70043',
      suberror: 'token_expired',
    });
  });

  it('echo a client-request-id GUID as the correlation id', () => {
    expect(newRequestIds('ABCDEF01-2345-4678-89AB-CDEF01234567').correlationId).toBe(
      'abcdef01-2345-4678-89ab-cdef01234567',
    );
    expect(newRequestIds('not-a-guid').correlationId).not.toBe('not-a-guid');
  });
});
