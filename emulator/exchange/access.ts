/**
 * What the IMAP and SMTP servers ask of the identity half of the emulator: is this bearer token
 * (or, with basic authentication switched on, this password) good for this mailbox over this
 * protocol, may this identity send as that address, and which mailbox (if any) does an address
 * reach. The servers depend only on this interface; the implementation on top of the directory
 * and token introspection is `createExchangeAccess`.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5, §6 (the rules these decisions encode)
 */
import type { XOAuth2Credentials } from './xoauth2.js';

/**
 * A user name and password (IMAP `LOGIN`, SASL PLAIN, SMTP `AUTH LOGIN`). `authzid` is SASL PLAIN's
 * authorization identity: empty, absent or the login itself, as no proxy authorization exists.
 */
export interface PasswordCredentials {
  readonly user: string;
  readonly password: string;
  readonly authzid?: string;
}

/** Who presented the token: a signed-in user (delegated) or an application (app-only). */
export interface ExchangePrincipal {
  readonly kind: 'user' | 'app';
  /** The user's object id, or the application's client id. */
  readonly id: string;
  readonly tenantId: string;
  /** The UPN or the application id, for logs and reply texts. */
  readonly name: string;
}

/**
 * The outcome of IMAP `AUTHENTICATE XOAUTH2` (and of a password login, which is only ever
 * `refused` or `connected`, with `expiresAt` infinite):
 * - `refused` → `NO AUTHENTICATE failed.`
 * - `not-connected` → `OK AUTHENTICATE completed.`, then every command
 *   `BAD User is authenticated but not connected.` (no FullAccess, IMAP disabled, connection cap)
 * - `connected` → the session opens `mailbox`, until `expiresAt` (emulator clock, ms).
 */
export type ImapAuthorization =
  | { readonly outcome: 'refused'; readonly reason: string }
  | {
      readonly outcome: 'not-connected';
      readonly reason: string;
      readonly principal: ExchangePrincipal;
      readonly expiresAt: number;
    }
  | {
      readonly outcome: 'connected';
      readonly mailbox: string;
      readonly principal: ExchangePrincipal;
      readonly expiresAt: number;
    };

/**
 * The outcome of SMTP `AUTH XOAUTH2` (and of `AUTH PLAIN` / `AUTH LOGIN` with a password, whose
 * `expiresAt` is infinite):
 * - `refused` → `535 5.7.3 Authentication unsuccessful`
 * - `smtp-auth-disabled` → the `535 5.7.139` reply for the tenant or the mailbox
 * - `authenticated` → the session submits as `mailbox`.
 */
export type SmtpAuthorization =
  | { readonly outcome: 'refused'; readonly reason: string }
  | { readonly outcome: 'smtp-auth-disabled'; readonly scope: 'tenant' | 'mailbox' }
  | {
      readonly outcome: 'authenticated';
      readonly mailbox: string;
      readonly principal: ExchangePrincipal;
      readonly expiresAt: number;
    };

/** The identity an SMTP session authenticated as. */
export interface SubmissionIdentity {
  readonly mailbox: string;
  readonly principal: ExchangePrincipal;
}

/**
 * Whether a submission may use a sender address:
 * - `allowed`; `denied` → `554 5.2.252 SendAsDenied`;
 * - `logon-failure` → `430 4.2.0 STOREDRV; mailbox logon failure` (app-only without mailbox permission).
 */
export type SendAsDecision = 'allowed' | 'denied' | 'logon-failure';

export interface ExchangeAccess {
  authorizeImap(credentials: XOAuth2Credentials): Promise<ImapAuthorization>;
  authorizeSmtp(credentials: XOAuth2Credentials): Promise<SmtpAuthorization>;
  /** IMAP `LOGIN` / `AUTHENTICATE PLAIN`, asked only while basic authentication is on for IMAP. */
  authorizeImapPassword(credentials: PasswordCredentials): ImapAuthorization;
  /** SMTP `AUTH PLAIN` / `AUTH LOGIN`, asked only while basic authentication is on for SMTP. */
  authorizeSmtpPassword(credentials: PasswordCredentials): SmtpAuthorization;
  /** May this identity submit with this address in MAIL FROM or From:? */
  checkSendAs(identity: SubmissionIdentity, address: string): SendAsDecision;
  /** The primary address of the emulated mailbox an address (or alias) reaches, if any. */
  resolveMailbox(address: string): string | undefined;
}
