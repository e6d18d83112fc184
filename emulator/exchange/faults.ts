/**
 * Fault injection for the Exchange half of the emulator, driven by the control API: IMAP throttling
 * replies and response delays, connections reset right after a sign-in, a FETCH that silently
 * leaves a message out, and SMTP transactions answered with 421/4xx. Drops now and every N seconds are done by the IMAP server itself (it holds
 * the sockets). Each scripted fault counts down, and `pending()` tells what a test left unconsumed.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5 (`NO Request is throttled. Suggested Backoff Time: N`)
 */

export interface ImapThrottleFault {
  remaining: number;
  readonly backoffMs: number;
  /** The tagged status: Exchange answers `NO` or `BAD`. */
  readonly status: 'NO' | 'BAD';
  /** Followed by `* BYE Connection closed. 14` and the end of the connection, as Exchange often does. */
  readonly bye: boolean;
  /** Only sessions of this mailbox (any session when absent). */
  readonly mailbox?: string;
}

export interface ImapDropAfterLoginFault {
  remaining: number;
  /** Only sessions of this mailbox (any session when absent). */
  readonly mailbox?: string;
  /** Reset at this command (upper case) once signed in; at the first command after the sign-in when absent. */
  readonly command?: string;
}

/**
 * Exchange sometimes answers `UID FETCH n (BODY.PEEK[])` with only `OK FETCH completed.`: no FETCH
 * response for a message that is in the folder (reported by MailKit's and offlineimap's users).
 */
export interface ImapOmitFetchFault {
  remaining: number;
  /** The UID left out of body fetches. */
  readonly uid: number;
  /** Only sessions of this mailbox (any session when absent). */
  readonly mailbox?: string;
}

export interface SmtpFailureFault {
  remaining: number;
  readonly code: number;
  readonly text: string;
}

export class ExchangeFaults {
  private imapThrottle: ImapThrottleFault | undefined;
  private imapDropAfterLogin: ImapDropAfterLoginFault | undefined;
  private imapOmitFetch: ImapOmitFetchFault | undefined;
  private smtpFailure: SmtpFailureFault | undefined;
  /** Added before every IMAP command is processed. */
  imapDelayMs = 0;
  /** Added before every SMTP reply to the final dot. */
  smtpDelayMs = 0;

  throttleImap(fault: {
    count: number;
    backoffMs: number;
    mailbox?: string;
    status?: 'NO' | 'BAD';
    bye?: boolean;
  }): void {
    this.imapThrottle = {
      remaining: fault.count,
      backoffMs: fault.backoffMs,
      status: fault.status ?? 'NO',
      bye: fault.bye ?? false,
      mailbox: fault.mailbox?.toLowerCase(),
    };
  }

  /** How to answer, if this command of this mailbox is to be throttled. */
  takeImapThrottle(
    mailbox: string | undefined,
  ): { readonly backoffMs: number; readonly status: 'NO' | 'BAD'; readonly bye: boolean } | undefined {
    const fault = this.imapThrottle;
    if (!fault || fault.remaining <= 0) return undefined;
    if (fault.mailbox !== undefined && fault.mailbox !== mailbox?.toLowerCase()) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.imapThrottle = undefined;
    return { backoffMs: fault.backoffMs, status: fault.status, bye: fault.bye };
  }

  dropImapAfterLogin(fault: { count: number; mailbox?: string; command?: string }): void {
    this.imapDropAfterLogin = {
      remaining: fault.count,
      mailbox: fault.mailbox?.toLowerCase(),
      command: fault.command?.toUpperCase(),
    };
  }

  /**
   * Whether a signed-in session is to be reset instead of running `command`: its first command
   * after the sign-in (`sinceLogin` 0), or the scripted command whenever it comes.
   */
  takeImapDropAfterLogin(mailbox: string | undefined, command: string, sinceLogin: number): boolean {
    const fault = this.imapDropAfterLogin;
    if (!fault || fault.remaining <= 0) return false;
    if (fault.mailbox !== undefined && fault.mailbox !== mailbox?.toLowerCase()) return false;
    if (fault.command === undefined ? sinceLogin !== 0 : fault.command !== command.toUpperCase()) return false;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.imapDropAfterLogin = undefined;
    return true;
  }

  omitImapFetch(fault: { count: number; uid: number; mailbox?: string }): void {
    this.imapOmitFetch = { remaining: fault.count, uid: fault.uid, mailbox: fault.mailbox?.toLowerCase() };
  }

  /** Whether this body fetch of message `uid` is to be left out of the FETCH responses. */
  takeImapOmitFetch(mailbox: string | undefined, uid: number): boolean {
    const fault = this.imapOmitFetch;
    if (!fault || fault.remaining <= 0 || fault.uid !== uid) return false;
    if (fault.mailbox !== undefined && fault.mailbox !== mailbox?.toLowerCase()) return false;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.imapOmitFetch = undefined;
    return true;
  }

  failSmtp(fault: { count: number; code: number; text: string }): void {
    this.smtpFailure = { remaining: fault.count, code: fault.code, text: fault.text };
  }

  /** The reply for this SMTP transaction, if it is to fail. */
  takeSmtpFailure(): { code: number; text: string } | undefined {
    const fault = this.smtpFailure;
    if (!fault || fault.remaining <= 0) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.smtpFailure = undefined;
    return { code: fault.code, text: fault.text };
  }

  /** Faults scripted but not yet consumed. */
  pending(): { imapThrottle: number; imapDropAfterLogin: number; imapOmitFetch: number; smtpFailures: number } {
    return {
      imapThrottle: this.imapThrottle?.remaining ?? 0,
      imapDropAfterLogin: this.imapDropAfterLogin?.remaining ?? 0,
      imapOmitFetch: this.imapOmitFetch?.remaining ?? 0,
      smtpFailures: this.smtpFailure?.remaining ?? 0,
    };
  }

  clear(): void {
    this.imapThrottle = undefined;
    this.imapDropAfterLogin = undefined;
    this.imapOmitFetch = undefined;
    this.smtpFailure = undefined;
    this.imapDelayMs = 0;
    this.smtpDelayMs = 0;
  }
}
