import { describe, expect, it } from 'vitest';
import { redirectUriMatches } from './redirect-uri.js';

describe('redirect URI matching', () => {
  const callback = 'http://localhost:8080/api/cloudProviders/oauth2/microsoft/callback';

  it('ignores the port for localhost and 127.0.0.1 only', () => {
    expect(redirectUriMatches(callback, 'http://localhost:3000/api/cloudProviders/oauth2/microsoft/callback')).toBe(
      true,
    );
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:5555/cb')).toBe(true);
    expect(redirectUriMatches('https://app.example.com:8443/cb', 'https://app.example.com:9443/cb')).toBe(false);
    expect(redirectUriMatches('http://localhost/cb', 'http://127.0.0.1/cb')).toBe(false);
  });

  it('is case-sensitive on the path and strict on scheme and query', () => {
    expect(redirectUriMatches(callback, callback.replace('cloudProviders', 'cloudproviders'))).toBe(false);
    expect(redirectUriMatches(callback, callback.replace('http:', 'https:'))).toBe(false);
    expect(redirectUriMatches(callback, `${callback}?x=1`)).toBe(false);
  });

  it('treats a registered URI without a path as matching the trailing slash', () => {
    expect(redirectUriMatches('http://localhost', 'http://localhost/')).toBe(true);
    expect(redirectUriMatches('https://contoso.com', 'https://contoso.com/')).toBe(true);
  });
});
