import { describe, expect, it } from 'vitest';
import { providerBody } from './cloud-provider-fields.js';
import { FIELD_LIMITS } from './field-limits.js';

const valid = {
  name: 'Contoso',
  applicationId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a01',
  tenantId: 'contoso.onmicrosoft.com',
};

function problemsOf(body: Record<string, unknown>): string[] {
  const parsed = providerBody.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('Cloud Provider fields', () => {
  it('accept a provider within every limit', () => {
    expect(
      problemsOf({
        ...valid,
        redirectUri: `https://postern.example/${'a'.repeat(1000)}`,
        authorityUrl: 'https://login.example.com',
      }),
    ).toEqual([]);
  });

  it('refuse URLs and names longer than the limits, by name', () => {
    const long = `https://postern.example/${'a'.repeat(FIELD_LIMITS.url)}`;
    expect(problemsOf({ ...valid, redirectUri: long })).toEqual([
      `redirectUri: must be at most ${FIELD_LIMITS.url} characters`,
    ]);
    expect(problemsOf({ ...valid, authorityUrl: long })).toContainEqual(
      `authorityUrl: must be at most ${FIELD_LIMITS.url} characters`,
    );
    expect(problemsOf({ ...valid, name: 'n'.repeat(FIELD_LIMITS.providerName + 1) })).toEqual([
      `name: must be at most ${FIELD_LIMITS.providerName} characters`,
    ]);
  });
});
