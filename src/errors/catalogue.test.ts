import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, RETIRED_CODES } from './catalogue.js';
import { renderErrorsDoc } from './errors-doc.js';
import { PosternError } from './postern-error.js';

describe('error catalogue', () => {
  it('is documented: docs/ERRORS.md matches the catalogue (run "npm run docs:errors" after a change)', () => {
    const committed = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderErrorsDoc());
  });

  it('names codes AREA_CONDITION and never reuses a retired code', () => {
    for (const code of Object.keys(CATALOGUE)) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z0-9]+)*$/);
      expect(RETIRED_CODES).not.toContain(code);
    }
  });

  it('gives every needs-admin and permanent client error a remedy', () => {
    for (const [code, entry] of Object.entries(CATALOGUE)) {
      if (entry.kind === 'needs-admin') expect(entry.remedy, code).toBeTruthy();
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
    }
  });

  it('keeps raw provider responses out of JSON and enumeration', () => {
    const error = new PosternError('INTERNAL', { raw: { refresh_token: 'rt-secret' }, cause: new Error('inner') });
    expect(error.raw).toEqual({ refresh_token: 'rt-secret' });
    expect(Object.keys(error)).not.toContain('raw');
    expect(JSON.stringify(error)).not.toContain('rt-secret');
    expect(JSON.stringify({ ...error })).not.toContain('rt-secret');
  });
});
