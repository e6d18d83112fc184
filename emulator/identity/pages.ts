/**
 * The HTML pages of the sign-in experience: credentials, MFA code, consent, device-code entry,
 * the error page for errors that cannot be redirected ("Request Id / Correlation Id / Timestamp /
 * Message: AADSTS…"), and the auto-submitting form of `response_mode=form_post`. Plain forms
 * with stable field names (`loginfmt`, `passwd`, `otc`, `ctx`, `action`) so that tests and
 * scripts can walk them with fetch, no browser needed.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code
 */
import { aadTimestamp, type AadstsError, type RequestIds } from './aadsts.js';

/** Escapes text for HTML content and attribute values. */
function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:Segoe UI,system-ui,sans-serif;background:#f2f2f2;margin:0}main{max-width:440px;margin:48px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600}input[type=email],input[type=password],input[type=text]{width:100%;padding:6px 0;border:0;border-bottom:1px solid #666;margin:8px 0 16px;font-size:15px}
button{padding:6px 24px;margin:16px 8px 0 0;font-size:15px}button.primary{background:#0067b8;color:#fff;border:0}.error{color:#e81123}.banner{font-size:12px;color:#666}
table.debug td{font-size:12px;padding:2px 8px 2px 0;vertical-align:top}</style></head>
<body><main><p class="banner">Postern Microsoft 365 emulator — not Microsoft</p>
${body}
</main></body></html>`;
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

function errorLine(error: string | undefined, code: number | undefined): string {
  if (error === undefined) return '';
  return `<p class="error" id="error" role="alert"${code === undefined ? '' : ` data-aadsts="${code}"`}>${escapeHtml(error)}</p>`;
}

/** The username + password page. */
export function signInPage(input: {
  action: string;
  ctx: string;
  appName: string;
  loginHint?: string;
  error?: string;
  errorCode?: number;
}): string {
  return layout(
    'Sign in to your account',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(input.appName)}</strong></p>
${errorLine(input.error, input.errorCode)}
<form id="credentials" method="post" action="${escapeHtml(input.action)}">
${hidden('ctx', input.ctx)}
<label>Email, phone, or Skype<input type="email" name="loginfmt" value="${escapeHtml(input.loginHint ?? '')}" autocomplete="username"></label>
<label>Password<input type="password" name="passwd" autocomplete="current-password"></label>
<button type="submit" name="action" value="cancel">Back</button>
<button class="primary" type="submit" name="action" value="signin">Sign in</button>
</form>`,
  );
}

/** The MFA code page (the code is the user's `mfaCode` in the directory). */
export function mfaPage(input: { action: string; ctx: string; upn: string; error?: string }): string {
  return layout(
    'Enter code',
    `<h1>Enter code</h1>
<p>${escapeHtml(input.upn)}</p>
<p>Enter the code displayed in the authenticator app on your mobile device.</p>
${errorLine(input.error, input.error === undefined ? undefined : 500121)}
<form id="mfa" method="post" action="${escapeHtml(input.action)}">
${hidden('ctx', input.ctx)}
<label>Code<input type="text" name="otc" inputmode="numeric" autocomplete="one-time-code"></label>
<button type="submit" name="action" value="cancel">Cancel</button>
<button class="primary" type="submit" name="action" value="verify">Verify</button>
</form>`,
  );
}

/** The "Permissions requested" page. */
export function consentPage(input: {
  action: string;
  ctx: string;
  appName: string;
  upn: string;
  permissions: Array<{ scope: string; description: string }>;
  offerOrganization: boolean;
  adminConsent?: boolean;
}): string {
  const items = input.permissions
    .map((p) => `<li data-scope="${escapeHtml(p.scope)}">${escapeHtml(p.description)}</li>`)
    .join('\n');
  const org = input.offerOrganization
    ? `<label><input type="checkbox" name="consent_on_behalf" value="1"> Consent on behalf of your organization</label>`
    : '';
  return layout(
    'Permissions requested',
    `<h1>Permissions requested${input.adminConsent === true ? ' — Accept for your organization' : ''}</h1>
<p>${escapeHtml(input.upn)}</p>
<p><strong>${escapeHtml(input.appName)}</strong> would like to:</p>
<ul id="permissions">
${items}
</ul>
<form id="consent" method="post" action="${escapeHtml(input.action)}">
${hidden('ctx', input.ctx)}
${org}
<button type="submit" name="action" value="cancel">Cancel</button>
<button class="primary" type="submit" name="action" value="accept">Accept</button>
</form>`,
  );
}

/** The device-code entry page (`/devicelogin`). */
export function deviceCodePage(input: { action: string; error?: string }): string {
  return layout(
    'Enter code',
    `<h1>Enter code</h1>
<p>Enter the code displayed on your app or device.</p>
${errorLine(input.error, input.error === undefined ? undefined : 70018)}
<form id="devicecode" method="post" action="${escapeHtml(input.action)}">
<label>Code<input type="text" name="otc" autocomplete="off"></label>
<button class="primary" type="submit" name="action" value="next">Next</button>
</form>`,
  );
}

/** A plain message page (device sign-in done, signed out...). */
export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p id="message">${escapeHtml(message)}</p>`);
}

/** The page of an error that cannot be redirected (unknown app, redirect URI mismatch...). */
export function errorPage(err: AadstsError, ids: RequestIds, at: Date): string {
  const message = `AADSTS${err.code}: ${err.text}`;
  return layout(
    'Sign in to your account',
    `<h1>Sorry, but we’re having trouble signing you in.</h1>
<p class="error" id="error" data-aadsts="${err.code}" data-error="${escapeHtml(err.error)}">${escapeHtml(message)}</p>
<table class="debug" id="debug">
<tr><td>Request Id:</td><td>${escapeHtml(ids.traceId)}</td></tr>
<tr><td>Correlation Id:</td><td>${escapeHtml(ids.correlationId)}</td></tr>
<tr><td>Timestamp:</td><td>${escapeHtml(aadTimestamp(at))}</td></tr>
<tr><td>Message:</td><td>${escapeHtml(message)}</td></tr>
</table>`,
  );
}

/** The auto-submitting page of `response_mode=form_post`. */
export function formPostPage(redirectUri: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => hidden(k, v))
    .join('\n');
  return `<!DOCTYPE html>
<html><head><title>Working...</title></head>
<body onload="document.forms[0].submit()">
<form method="POST" name="hiddenform" action="${escapeHtml(redirectUri)}">
${inputs}
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form></body></html>`;
}
