import { describe, expect, it } from 'vitest';
import { imageSource, mailFramePolicy } from './mail-frame-policy.js';

describe('mail frame policy', () => {
  it('allows no remote origin while remote images are blocked', () => {
    const policy = mailFramePolicy('http://localhost:8080', []);
    expect(policy).toBe(
      "default-src 'none'; img-src data: http://localhost:8080/api/messages/; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'",
    );
    expect(policy).not.toMatch(/\bhttps?:(?!\/\/localhost:8080\/api\/messages\/)/);
  });

  it("allows exactly the message's image URLs once they are shown", () => {
    const policy = mailFramePolicy('https://postern.example', [
      'https://cdn.example/logo.png?u=42',
      "http://127.0.0.1:9000/a;b,c d'e",
      'https://cdn.example/logo.png',
      'javascript:alert(1)',
      'http://[::1]/x.gif',
    ]);
    expect(policy).toContain(
      'img-src data: https://postern.example/api/messages/ https://cdn.example/logo.png http://127.0.0.1:9000/a%3Bb%2Cc%20d%27e;',
    );
    expect(policy.split('; ')).toHaveLength(5);
  });

  it('names nothing that is not an http(s) URL', () => {
    expect(imageSource('data:image/png;base64,AAAA')).toBeNull();
    expect(imageSource('not a url')).toBeNull();
    expect(imageSource('HTTPS://CDN.Example:443/A.PNG')).toBe('https://cdn.example/A.PNG');
  });
});
