import { PosternError, type ErrorCode } from '../../errors/index.js';

/**
 * Translation of Microsoft identity platform errors into catalogue errors, at the edge. Decisions
 * follow the `error` value and the AADSTS code, never the description text (Microsoft's advice).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#error-codes-for-token-endpoint-errors
 */
export interface MicrosoftErrorBody {
  error: string;
  error_description?: string | undefined;
  error_codes?: number[] | undefined;
  suberror?: string | undefined;
  trace_id?: string | undefined;
  correlation_id?: string | undefined;
}

const BY_AADSTS: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [7000215, 'AUTH_SECRET_INVALID'],
  [7000222, 'AUTH_SECRET_EXPIRED'],
  [7000218, 'AUTH_SECRET_MISSING'],
  [700025, 'AUTH_SECRET_NOT_ALLOWED'],
  [700027, 'AUTH_CERTIFICATE_INVALID'],
  [700021, 'AUTH_CERTIFICATE_INVALID'],
  [700023, 'AUTH_CERTIFICATE_INVALID'],
  [700024, 'AUTH_ASSERTION_TIME_INVALID'],
  [700016, 'AUTH_APP_NOT_FOUND'],
  [50194, 'AUTH_SINGLE_TENANT_APP'],
  [90002, 'AUTH_TENANT_NOT_FOUND'],
  [50011, 'AUTH_REDIRECT_URI_MISMATCH'],
  [70011, 'AUTH_SCOPE_INVALID'],
  [700022, 'AUTH_SCOPE_INVALID'],
  [28000, 'AUTH_SCOPE_INVALID'],
  [28003, 'AUTH_SCOPE_INVALID'],
  [65001, 'AUTH_CONSENT_REQUIRED'],
  [65004, 'AUTH_ACCESS_DENIED'],
  [90094, 'AUTH_ADMIN_CONSENT_REQUIRED'],
  [90095, 'AUTH_ADMIN_CONSENT_REQUIRED'],
  [700082, 'AUTH_REAUTH_INACTIVE'],
  [50173, 'AUTH_SESSIONS_REVOKED'],
  [50132, 'AUTH_PASSWORD_CHANGED'],
  [50133, 'AUTH_PASSWORD_CHANGED'],
  [50055, 'AUTH_PASSWORD_CHANGED'],
  [70043, 'AUTH_SIGNIN_FREQUENCY'],
  [50076, 'AUTH_MFA_REQUIRED'],
  [50079, 'AUTH_MFA_REQUIRED'],
  [50057, 'AUTH_USER_INVALID'],
  [50053, 'AUTH_USER_INVALID'],
  [50034, 'AUTH_USER_INVALID'],
  [16000, 'AUTH_USER_INVALID'],
  [90072, 'AUTH_USER_INVALID'],
  [53003, 'AUTH_USER_INVALID'],
  [530035, 'AUTH_USER_INVALID'],
  [50126, 'AUTH_BAD_CREDENTIALS'],
  [70019, 'AUTH_DEVICE_CODE_EXPIRED'],
  [50196, 'AUTH_REQUEST_LOOP'],
]);

const BY_ERROR: Readonly<Record<string, ErrorCode>> = {
  invalid_grant: 'AUTH_GRANT_INVALID',
  interaction_required: 'AUTH_GRANT_INVALID',
  login_required: 'AUTH_GRANT_INVALID',
  consent_required: 'AUTH_CONSENT_REQUIRED',
  access_denied: 'AUTH_ACCESS_DENIED',
  invalid_scope: 'AUTH_SCOPE_INVALID',
  expired_token: 'AUTH_DEVICE_CODE_EXPIRED',
  authorization_declined: 'AUTH_DEVICE_CODE_DECLINED',
  temporarily_unavailable: 'AUTH_PROVIDER_UNAVAILABLE',
  server_error: 'AUTH_PROVIDER_UNAVAILABLE',
};

/** Errors after which the grant cannot be used until someone signs in again. */
export const REAUTH_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUTH_REAUTH_INACTIVE',
  'AUTH_SESSIONS_REVOKED',
  'AUTH_PASSWORD_CHANGED',
  'AUTH_SIGNIN_FREQUENCY',
  'AUTH_CONSENT_REQUIRED',
  'AUTH_ADMIN_CONSENT_REQUIRED',
  'AUTH_MFA_REQUIRED',
  'AUTH_GRANT_INVALID',
  'AUTH_USER_INVALID',
  'AUTH_BAD_CREDENTIALS',
  'AUTH_ACCESS_DENIED',
]);

/** Errors that say the Cloud Provider itself (app registration, secret, tenant) is misconfigured. */
export const PROVIDER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUTH_SECRET_INVALID',
  'AUTH_SECRET_EXPIRED',
  'AUTH_SECRET_MISSING',
  'AUTH_SECRET_NOT_ALLOWED',
  'AUTH_CERTIFICATE_INVALID',
  'AUTH_CERTIFICATE_EXPIRED',
  'AUTH_ASSERTION_TIME_INVALID',
  'AUTH_APP_NOT_FOUND',
  'AUTH_SINGLE_TENANT_APP',
  'AUTH_TENANT_NOT_FOUND',
  'AUTH_REDIRECT_URI_MISMATCH',
  'AUTH_SCOPE_INVALID',
  'AUTH_PROVIDER_REJECTED',
]);

/** The AADSTS number: `error_codes[0]`, or the one the description starts with. */
export function aadstsCodeOf(body: MicrosoftErrorBody): number | undefined {
  const listed = body.error_codes?.[0];
  if (listed !== undefined) return listed;
  const match = /AADSTS(\d+)/.exec(body.error_description ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The human part of an error description, without the Trace ID / Correlation ID / Timestamp lines. */
export function describeMicrosoftError(body: MicrosoftErrorBody): string {
  const first = (body.error_description ?? '').split(/\r?\n/)[0]?.trim() ?? '';
  return first === '' ? body.error : first;
}

/**
 * Maps an error response of the authorize or token endpoint to a catalogue error. HTTP 5xx and
 * `temporarily_unavailable` are transient; everything else names what a person must do.
 */
export function classifyMicrosoftError(body: MicrosoftErrorBody, httpStatus?: number): PosternError {
  const aadsts = aadstsCodeOf(body);
  let code: ErrorCode =
    (aadsts === undefined ? undefined : BY_AADSTS.get(aadsts)) ?? BY_ERROR[body.error] ?? 'AUTH_PROVIDER_REJECTED';
  if (httpStatus !== undefined && httpStatus >= 500) code = 'AUTH_PROVIDER_UNAVAILABLE';
  if (code === 'AUTH_GRANT_INVALID' && body.suberror === 'basic_action') code = 'AUTH_MFA_REQUIRED';
  return new PosternError(code, {
    details: {
      error: body.error,
      ...(aadsts === undefined ? {} : { aadsts: `AADSTS${aadsts}` }),
      ...(body.suberror === undefined ? {} : { suberror: body.suberror }),
      microsoftMessage: describeMicrosoftError(body),
      ...(body.trace_id === undefined ? {} : { traceId: body.trace_id }),
      ...(body.correlation_id === undefined ? {} : { correlationId: body.correlation_id }),
      ...(httpStatus === undefined ? {} : { httpStatus }),
    },
  });
}
