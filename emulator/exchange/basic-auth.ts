/**
 * The emulator's basic-authentication switch: whether IMAP and SMTP accept a directory user's
 * password (IMAP `LOGIN` / `AUTHENTICATE PLAIN`, SMTP `AUTH PLAIN` / `AUTH LOGIN`).
 *
 * Exchange Online has basic authentication switched off for IMAP and SMTP, so both default to
 * off and the emulator then refuses passwords exactly as Exchange Online does. Turned on (control
 * API `PUT /_emulator/exchange/settings/basic-auth`), the emulator stands in for a server that
 * takes passwords: an on-premises Exchange, or any IMAP/SMTP server.
 *
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online
 */

/** Which protocols accept passwords. */
export interface BasicAuthState {
  readonly imap: boolean;
  readonly smtp: boolean;
}

/** The live switch the IMAP and SMTP servers read at each authentication attempt. */
export class BasicAuthSettings {
  private state: BasicAuthState;

  constructor(initial: Partial<BasicAuthState> = {}) {
    this.state = { imap: initial.imap ?? false, smtp: initial.smtp ?? false };
  }

  get imap(): boolean {
    return this.state.imap;
  }

  get smtp(): boolean {
    return this.state.smtp;
  }

  /** Changes the protocols named in `patch`; returns the resulting settings. */
  update(patch: Partial<BasicAuthState>): BasicAuthState {
    this.state = { imap: patch.imap ?? this.state.imap, smtp: patch.smtp ?? this.state.smtp };
    return this.snapshot();
  }

  snapshot(): BasicAuthState {
    return { imap: this.state.imap, smtp: this.state.smtp };
  }
}
