/**
 * The AADSTS errors the emulator produces, with Microsoft's OAuth `error` value, HTTP status and
 * message text, and the error body in Microsoft's exact shape:
 * `{ error, error_description: "AADSTS…: text\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …",
 *    error_codes, timestamp, trace_id, correlation_id, error_uri }` (+ `suberror`).
 *
 * Texts follow Microsoft's messages as observed. Where Microsoft documents only the OAuth error
 * (device-flow `authorization_declined`), the emulator reuses the
 * nearest documented code with an `error`/text override (see `device-flow.ts`).
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#error-response-1
 */
import { randomUUID } from 'node:crypto';

/** OAuth `error` values Microsoft uses. */
export type OAuthErrorValue =
  | 'invalid_request'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_resource'
  | 'invalid_scope'
  | 'interaction_required'
  | 'login_required'
  | 'consent_required'
  | 'access_denied'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'authorization_pending'
  | 'authorization_declined'
  | 'bad_verification_code'
  | 'expired_token'
  | 'slow_down';

interface Definition {
  error: OAuthErrorValue;
  text: string;
  status?: number;
  suberror?: string;
}

/** The catalogue; `{name}` placeholders are filled from the params. */
const AADSTS = {
  50000: {
    error: 'server_error',
    status: 500,
    text: 'There was an error issuing a token or an issue with our sign-in service.',
  },
  50011: {
    error: 'invalid_request',
    text: "The redirect URI '{redirectUri}' specified in the request does not match the redirect URIs configured for the application '{appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
  },
  50020: {
    error: 'invalid_request',
    text: "User account '{EUII Hidden}' from identity provider 'https://sts.windows.net/{userTenant}/' does not exist in tenant '{tenant}' and cannot access the application '{appId}'({appName}) in that tenant.",
  },
  50034: {
    error: 'invalid_grant',
    text: 'The user account {EUII Hidden} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory.',
  },
  50057: { error: 'invalid_grant', text: 'The user account is disabled.' },
  50058: { error: 'login_required', text: 'A silent sign-in request was sent but no user is signed in.' },
  50076: {
    error: 'invalid_grant',
    suberror: 'basic_action',
    text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resourceAppId}'.",
  },
  50126: { error: 'invalid_grant', text: 'Error validating credentials due to invalid username or password.' },
  50133: { error: 'invalid_grant', text: 'Session is invalid due to expiration or recent password change.' },
  50173: {
    error: 'invalid_grant',
    text: "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issuedAt}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{validFrom}'.",
  },
  50196: {
    error: 'invalid_request',
    text: 'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.',
  },
  50194: {
    error: 'invalid_request',
    text: "Application '{appId}'({appName}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.",
  },
  54005: {
    error: 'invalid_grant',
    text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  },
  65001: {
    error: 'invalid_grant',
    suberror: 'consent_required',
    text: "The user or administrator has not consented to use the application with ID '{appId}' named '{appName}'. Send an interactive authorization request for this user and resource.",
  },
  65004: { error: 'access_denied', text: 'User declined to consent to access the app.' },
  70000: { error: 'invalid_grant', text: 'Provided grant is invalid or malformed.' },
  70003: { error: 'unsupported_grant_type', text: "The app requested an unsupported grant type '{grantType}'." },
  70008: {
    error: 'invalid_grant',
    text: 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  70011: {
    error: 'invalid_scope',
    text: "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid.",
  },
  70016: {
    error: 'authorization_pending',
    text: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  },
  70018: {
    error: 'bad_verification_code',
    text: 'Invalid verification code due to User typing in wrong user code for device code flow.',
  },
  70019: { error: 'expired_token', text: 'Verification code expired.' },
  70043: {
    error: 'invalid_grant',
    suberror: 'token_expired',
    text: 'The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on {issuedAt} and the maximum allowed lifetime for this request is {maxAge}.',
  },
  90002: {
    error: 'invalid_request',
    text: "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
  },
  90033: { error: 'temporarily_unavailable', status: 503, text: 'A transient error has occurred. Please try again.' },
  90094: {
    error: 'consent_required',
    text: 'Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin.',
  },
  500011: {
    error: 'invalid_resource',
    text: 'The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.',
  },
  500112: {
    error: 'invalid_grant',
    text: "The reply address '{redirectUri}' does not match the reply address '{expected}' provided when requesting Authorization code.",
  },
  501481: {
    error: 'invalid_grant',
    text: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
  },
  700016: {
    error: 'unauthorized_client',
    text: "Application with identifier '{appId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  28000: {
    error: 'invalid_scope',
    text: 'Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.',
  },
  28003: {
    error: 'invalid_scope',
    text: 'Provided value for the input parameter scope cannot be empty when requesting an access token using the provided authorization code. Please specify a valid scope.',
  },
  700022: {
    error: 'invalid_scope',
    text: 'The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid.',
  },
  700025: {
    error: 'invalid_client',
    status: 401,
    text: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
  },
  700027: {
    error: 'invalid_client',
    status: 401,
    text: "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{thumbprint}'{found}, Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{appId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/{appId}'].",
  },
  700021: {
    error: 'invalid_client',
    status: 401,
    text: "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
  },
  700023: {
    error: 'invalid_client',
    status: 401,
    text: 'Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .',
  },
  700024: {
    error: 'invalid_client',
    status: 401,
    text: 'Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .',
  },
  50027: {
    error: 'invalid_request',
    text: 'JWT token is invalid or malformed.',
  },
  700054: {
    error: 'unsupported_response_type',
    text: "response_type '{responseType}' is not enabled for the application.",
  },
  700082: {
    error: 'invalid_grant',
    text: 'The refresh token has expired due to inactivity. The token was issued on {issuedAt} and was inactive for 90.00:00:00.',
  },
  700084: {
    error: 'invalid_grant',
    text: 'The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of 1.00:00:00, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on {issuedAt}.',
  },
  900144: { error: 'invalid_request', text: "The request body must contain the following parameter: '{parameter}'." },
  900971: { error: 'invalid_request', text: 'No reply address provided.' },
  1002012: {
    error: 'invalid_scope',
    text: 'The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
  },
  7000215: {
    error: 'invalid_client',
    status: 401,
    text: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{appId}'.",
  },
  7000218: {
    error: 'invalid_client',
    status: 401,
    text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  7000222: {
    error: 'invalid_client',
    status: 401,
    text: "The provided client secret keys for app '{appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
  },
  9001023: {
    error: 'invalid_request',
    text: "The grant type '{grantType}' is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
  },
  9002313: { error: 'invalid_grant', text: 'Invalid request. Request is malformed or invalid.' },
  9002325: {
    error: 'invalid_request',
    text: 'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
  },
  9002327: {
    error: 'invalid_request',
    text: "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
  },
} as const satisfies Record<number, Definition>;

/** A code in the catalogue. */
export type AadstsCode = keyof typeof AADSTS;

/** Per-use changes to a catalogue entry. */
export interface AadstsOverrides {
  error?: OAuthErrorValue;
  status?: number;
  text?: string;
}

/** An identity-platform error carrying its AADSTS code. */
export class AadstsError extends Error {
  readonly code: AadstsCode;
  readonly error: OAuthErrorValue;
  readonly status: number;
  readonly suberror: string | undefined;
  /** The text after `AADSTS{code}: `. */
  readonly text: string;

  constructor(code: AadstsCode, params: Record<string, string> = {}, overrides: AadstsOverrides = {}) {
    const def: Definition = AADSTS[code];
    const text = (overrides.text ?? def.text).replace(
      /\{([^{}]+)\}/g,
      (whole, name: string) => params[name] ?? (name === 'EUII Hidden' ? whole : `{${name}}`),
    );
    super(`AADSTS${code}: ${text}`);
    this.name = 'AadstsError';
    this.code = code;
    this.error = overrides.error ?? def.error;
    this.status = overrides.status ?? def.status ?? (this.error === 'invalid_client' ? 401 : 400);
    this.suberror = def.suberror;
    this.text = text;
  }
}

/** Shorthand: `throw aadsts(700016, { appId, tenant })`. */
export function aadsts(
  code: AadstsCode,
  params: Record<string, string> = {},
  overrides: AadstsOverrides = {},
): AadstsError {
  return new AadstsError(code, params, overrides);
}

/** Microsoft's timestamp format in error bodies: `2022-04-05 06:21:12Z`. */
export function aadTimestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Microsoft's date format inside messages: `2022-01-03T09:39:41Z`. */
export function aadIsoSeconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** The JSON error body. */
export interface AadErrorBody {
  error: OAuthErrorValue;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

/** Trace and correlation ids of one request (the correlation id echoes `client-request-id`). */
export interface RequestIds {
  traceId: string;
  correlationId: string;
}

/** New ids; `clientRequestId` (the `client-request-id` header) becomes the correlation id. */
export function newRequestIds(clientRequestId?: string): RequestIds {
  const valid = clientRequestId !== undefined && /^[0-9a-f-]{36}$/i.test(clientRequestId);
  return { traceId: randomUUID(), correlationId: valid ? clientRequestId.toLowerCase() : randomUUID() };
}

/** The description with Microsoft's trailer lines. */
export function framedDescription(err: AadstsError, ids: RequestIds, at: Date): string {
  return `AADSTS${err.code}: ${err.text}\r\nTrace ID: ${ids.traceId}\r\nCorrelation ID: ${ids.correlationId}\r\nTimestamp: ${aadTimestamp(at)}`;
}

/** The token-endpoint error body, exactly in Microsoft's shape. */
export function errorBody(err: AadstsError, ids: RequestIds, at: Date): AadErrorBody {
  return {
    error: err.error,
    error_description: framedDescription(err, ids, at),
    error_codes: [err.code],
    timestamp: aadTimestamp(at),
    trace_id: ids.traceId,
    correlation_id: ids.correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.code}`,
    ...(err.suberror === undefined ? {} : { suberror: err.suberror }),
  };
}
