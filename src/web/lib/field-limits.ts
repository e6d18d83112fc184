/**
 * The console's copy of the API's length limits (`src/domain/field-limits.ts`), for `maxlength`:
 * a form never accepts what the API would refuse. The console may not import the domain layer;
 * `field-limits.test.ts` keeps the two equal.
 */
export const FIELD_LIMITS = {
  providerName: 100,
  /** A GUID. */
  applicationId: 36,
  /** A GUID or a domain name (253 characters at most). */
  tenantId: 253,
  clientSecret: 1024,
  url: 2048,
  caFile: 4096,
  scope: 300,
  loginHint: 320,
} as const;
