import { describe, expect, it } from 'vitest';
import { endpointOf, unreachable } from './http-fetch.js';

/** What undici's fetch throws when the connection fails: `fetch failed` with the system error as cause. */
function fetchFailed(code: string, message: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
}

const TOKEN_URL = 'https://login.contoso.invalid/tenant-id/oauth2/v2.0/token?client_secret=never-shown';

describe('unreachable', () => {
  it('names host and port, never the path or the query', () => {
    expect(endpointOf(TOKEN_URL)).toBe('login.contoso.invalid:443');
    expect(endpointOf('http://127.0.0.1:8080/x?y=z')).toBe('127.0.0.1:8080');
    const error = unreachable(
      TOKEN_URL,
      fetchFailed('ENOTFOUND', 'getaddrinfo ENOTFOUND login.contoso.invalid'),
      15_000,
    );
    expect([error.code, error.kind]).toEqual(['AUTH_PROVIDER_UNAVAILABLE', 'transient']);
    expect(error.message).toBe(
      "Microsoft's identity platform at login.contoso.invalid:443 could not be reached: its name could not be resolved (DNS ENOTFOUND).",
    );
    expect(JSON.stringify(error)).not.toContain('never-shown');
    expect(JSON.stringify(error)).not.toContain('tenant-id');
  });

  it('tells a refused port from a server that never answers', () => {
    expect(unreachable(TOKEN_URL, fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED'), 15_000).message).toBe(
      "The connection to Microsoft's identity platform at login.contoso.invalid:443 was refused: nothing accepts connections on that port there.",
    );
    const timedOut = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(unreachable(TOKEN_URL, timedOut, 15_000).message).toBe(
      "Microsoft's identity platform at login.contoso.invalid:443 did not answer within 15 s: the connection hangs somewhere on the way or at the server.",
    );
    expect(
      unreachable(TOKEN_URL, fetchFailed('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'), 2_500).message,
    ).toContain('did not answer within 2.5 s');
  });

  it('keeps the cause of anything else in its words', () => {
    expect(
      unreachable(TOKEN_URL, fetchFailed('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 15_000).message,
    ).toBe(
      "The connection to Microsoft's identity platform at login.contoso.invalid:443 failed or was dropped: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT).",
    );
  });
});
