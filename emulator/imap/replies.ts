/**
 * Exchange Online's IMAP4 reply texts, word for word. A test asserts each one on the wire.
 *
 * Sources: the reference's §5 transcripts (greeting, capabilities, AUTHENTICATE, throttling,
 * "User is authenticated but not connected.", token-expiry BYE) and the reply strings of Exchange's
 * IMAP4 service (command completions, argument and state errors, "Connection closed. 14" after the
 * third invalid command).
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7 (server responses)
 */

/** Capabilities before authentication (reference §5). */
export const CAPABILITIES_BEFORE_AUTH =
  'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+';

/** Capabilities once authenticated: adds MOVE and Exchange's proprietary ones (reference §5). */
export const CAPABILITIES_AFTER_AUTH =
  'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+';

/** The greeting: the backend FQDN in UTF-16LE, base64-encoded, in brackets. */
export function greeting(backendFqdn: string): string {
  return `* OK The Microsoft Exchange IMAP4 service is ready. [${Buffer.from(backendFqdn, 'utf16le').toString('base64')}]`;
}

export const REPLY = {
  authenticateCompleted: 'AUTHENTICATE completed.',
  authenticateFailed: 'AUTHENTICATE failed.',
  authenticateCanceled: 'The AUTH protocol exchange was canceled by the client.',
  loginFailed: 'LOGIN failed.',
  notConnected: 'User is authenticated but not connected.',
  invalidState: 'Command received in Invalid state.',
  commandError: 'Command Error. 12',
  argumentError: 'Command Argument Error. 11',
  argumentCountError: 'Command Argument Error. 12',
  invalidMessageSet: 'The specified message set is invalid.',
  badCharset: '[BADCHARSET (US-ASCII)] The specified charset is not supported.',
  serverUnavailable: 'Server Unavailable. 15',
  accessDenied: 'access denied.',
} as const;

/** `<COMMAND> completed.`, Exchange's text for every successful command. */
export function completed(command: string): string {
  return `${command} completed.`;
}

/** `NO <name> doesn't exist.` for SELECT, STATUS and friends. */
export function doesNotExist(name: string): string {
  return `${name} doesn't exist.`;
}

/**
 * The throttling reply, with its unit as Exchange Online sends it (imapsync's FAQ, imap_tools#135,
 * email-oauth2-proxy#191: `… Suggested Backoff Time: 299961 milliseconds`).
 */
export function throttled(backoffMs: number): string {
  return `Request is throttled. Suggested Backoff Time: ${backoffMs} milliseconds`;
}

export const CONTINUE = {
  moreData: '+ Ready for additional command text.',
  idle: '+ IDLE accepted, awaiting DONE command.',
  sasl: '+ ',
} as const;

export const BYE = {
  logout: '* BYE Microsoft Exchange Server IMAP4 server signing off.',
  tooManyErrors: '* BYE Connection closed. 14',
  tooManyLogins: '* BYE Connection is closed. 14',
  timeout: '* BYE Connection is closed. 13',
  tokenExpired: '* BYE Session invalidated - AccessTokenExpired',
} as const;

/** The SELECT/EXAMINE untagged response texts. */
export const SELECT_TEXT = {
  permanentFlags: 'Permanent flags',
  unseen: 'Is the first unseen message',
  uidValidity: 'UIDVALIDITY value',
  uidNext: 'The next unique identifier value',
} as const;

/** The ID response (RFC 2971) Exchange Online gives. */
export const ID_RESPONSE = '* ID ("name" "Microsoft.Exchange.Imap4.Imap4Server" "version" "15.20")';

/** The NAMESPACE response: one personal namespace, `/` delimiter. */
export const NAMESPACE_RESPONSE = '* NAMESPACE (("" "/")) NIL NIL';
