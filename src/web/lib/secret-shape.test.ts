import { describe, expect, it } from 'vitest';
import { secretIdWarning } from './secret-shape.js';

describe('the secret-ID warning', () => {
  it("warns about a GUID, the shape of a secret's ID", () => {
    expect(secretIdWarning('8f3c2a1e-5b4d-4c3e-9a2b-1c0d9e8f7a6b')).toContain("secret's ID");
    expect(secretIdWarning(' 8F3C2A1E-5B4D-4C3E-9A2B-1C0D9E8F7A6B ')).toContain('Value');
  });

  it('stays quiet for a secret value and for near-GUIDs', () => {
    expect(secretIdWarning('Xy8Q~abcdefGHIJKLmnopQRSTuvwxYZ0123456789')).toBeUndefined();
    expect(secretIdWarning('8f3c2a1e-5b4d-4c3e-9a2b-1c0d9e8f7a6')).toBeUndefined();
    expect(secretIdWarning('8f3c2a1e-5b4d-4c3e-9a2b-1c0d9e8f7a6g')).toBeUndefined();
    expect(secretIdWarning('8f3c2a1e55b4d-4c3e-9a2b-1c0d9e8f7a6b')).toBeUndefined();
    expect(secretIdWarning('')).toBeUndefined();
  });
});
