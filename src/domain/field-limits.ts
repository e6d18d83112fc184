/**
 * Length limits of the fields people type, shared by the API's schemas and the console's forms
 * (`maxlength`, through the copy in `src/web/lib/field-limits.ts`, kept equal by its test), so
 * that a form never accepts what the API would refuse.
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
