import { describe, expect, it } from 'vitest';
import { checkOutboundAddress } from './outbound-address.js';

describe('checkOutboundAddress', () => {
  it('accepts plain and named addresses, lower-casing only the domain', () => {
    expect(checkOutboundAddress('Customer.Care@Fabrikam.COM')).toEqual({
      ok: true,
      value: { name: '', address: 'Customer.Care@fabrikam.com', display: 'Customer.Care@fabrikam.com' },
    });
    expect(checkOutboundAddress({ name: '  Zoë Müller ', address: 'zoe@example.org' })).toMatchObject({
      ok: true,
      value: { name: 'Zoë Müller' },
    });
  });

  it('converts an internationalized domain to A-labels for the wire and keeps Unicode for display', () => {
    expect(checkOutboundAddress('info@bücher.example')).toEqual({
      ok: true,
      value: { name: '', address: 'info@xn--bcher-kva.example', display: 'info@bücher.example' },
    });
    expect(checkOutboundAddress('info@xn--bcher-kva.example')).toMatchObject({
      ok: true,
      value: { display: 'info@bücher.example' },
    });
  });

  it.each([
    ['', 'is empty'],
    ['no-at-sign', 'must be an address'],
    ['a@b', 'not a valid domain name'],
    ['a@-bad-.com', 'not a valid domain name'],
    ['a@example.123', 'not a valid domain name'],
    ['two words@example.com', 'without spaces'],
    ['"quoted"@example.com', 'without spaces, brackets or quotes'],
    ['a..b@example.com', 'not a valid address'],
    ['.a@example.com', 'not a valid address'],
    ['josé@example.com', 'must be ASCII'],
    [`${'x'.repeat(65)}@example.com`, 'at most 64 characters'],
    ['Name <a@example.com>', 'plain address'],
  ])('refuses %j (%s)', (input, problem) => {
    const result = checkOutboundAddress(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });

  it('refuses a display name with a line break (header injection)', () => {
    expect(checkOutboundAddress({ name: 'x\r\nBcc: victim@example.com', address: 'a@example.com' })).toEqual({
      ok: false,
      problem: 'the name must not contain line breaks',
    });
  });
});
