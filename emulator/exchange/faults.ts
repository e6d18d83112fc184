/**
 * Fault injection for the Exchange half of the emulator, driven by the control API: IMAP throttling
 * replies and response delays, connections reset right after a sign-in, a FETCH that silently
 * leaves a message out, SMTP transactions answered with 421/4xx, and mailboxes throttled from
 * SMTP AUTH submission after continuous errors (`550 5.2.251`–`5.2.255`, for a time on the
 * emulator's clock). Drops now and every N seconds are done by the IMAP server itself (it holds
 * the sockets). Each scripted fault counts down, and `pending()` tells what a test left unconsumed.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5 (`NO Request is throttled. Suggested Backoff Time: N`)
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/continuous-error-throttling-smtp-auth-submissions
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

/** The five causes of Exchange Online's continuous-error throttling of SMTP AUTH submissions. */
export const SENDER_THROTTLE_KINDS = [
  'mailbox-full',
  'send-as',
  'license',
  'too-many-recipients',
  'invalid-recipients',
] as const;
export type SenderThrottleKind = (typeof SENDER_THROTTLE_KINDS)[number];

/**
 * A mailbox throttled from submitting over SMTP AUTH after continuous errors of one kind
 * (`550 5.2.251`–`5.2.255 Sender throttled …`), until `until` on the emulator's clock.
 */
export interface SenderThrottleFault {
  readonly mailbox: string;
  readonly kind: SenderThrottleKind;
  readonly until: number;
  /** Submissions refused so far. */
  refused: number;
}

/** The wordings of a Send As denial (see ExchangeFaults.sendAsDenialForm). */
export const SEND_AS_DENIAL_FORMS = ['5.2.252', '5.7.60', '5.2.0'] as const;
export type SendAsDenialForm = (typeof SEND_AS_DENIAL_FORMS)[number];

export class ExchangeFaults {
  /** Throttled mailboxes (lower case): continuous-error throttling of SMTP AUTH submissions. */
  private readonly senderThrottles = new Map<string, SenderThrottleFault>();
  /** Throttle a mailbox by itself after this many Send As denials in a row (off when absent). */
  private sendAsThrottle: { readonly after: number; readonly seconds: number } | undefined;
  /** Send As denials in a row per mailbox (lower case), for `sendAsThrottle`. */
  private readonly sendAsDenials = new Map<string, number>();
  private imapThrottle: ImapThrottleFault | undefined;
  private imapDropAfterLogin: ImapDropAfterLoginFault | undefined;
  private imapOmitFetch: ImapOmitFetchFault | undefined;
  private smtpFailure: SmtpFailureFault | undefined;
  private loginSerial = 0;
  /** Per mailbox (lower case): sessions signed in before this number have a silent IDLE. */
  private readonly idleSilencedBefore = new Map<string, number>();
  /**
   * How a Send As denial is worded: `5.2.252` (today's usual `554 5.2.252 SendAsDenied`),
   * `5.7.60` (`550 5.7.60 … Client does not have permissions to send as this sender`) or `5.2.0`
   * (`554 5.2.0 STOREDRV… SendAsDeniedException`). Exchange answers each in the field.
   */
  sendAsDenialForm: SendAsDenialForm = '5.2.252';
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

  /** Numbers a sign-in, so that a fault can affect only the sessions open when it was set. */
  nextLoginSerial(): number {
    this.loginSerial += 1;
    return this.loginSerial;
  }

  /**
   * IDLE stops announcing anything on the mailbox's sessions open now, without a BYE (seen from
   * Exchange Online: a session that keeps answering commands but pushes no more EXISTS). Sessions
   * signed in later are not affected.
   */
  silenceIdle(mailbox: string): void {
    this.idleSilencedBefore.set(mailbox.toLowerCase(), this.loginSerial + 1);
  }

  /** Whether IDLE is silent on a session of `mailbox` that signed in as number `serial`. */
  isIdleSilenced(mailbox: string | undefined, serial: number): boolean {
    const before = this.idleSilencedBefore.get(mailbox?.toLowerCase() ?? '');
    return before !== undefined && serial < before;
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

  /** Throttles a mailbox's SMTP AUTH submissions for this cause until `until` (emulator clock, ms). */
  throttleSender(fault: { mailbox: string; kind: SenderThrottleKind; until: number }): SenderThrottleFault {
    const throttle = { mailbox: fault.mailbox.toLowerCase(), kind: fault.kind, until: fault.until, refused: 0 };
    this.senderThrottles.set(throttle.mailbox, throttle);
    return throttle;
  }

  /** The cause, if this mailbox's submissions are throttled at `now`; counts the refusal. */
  takeSenderThrottle(mailbox: string, now: number): SenderThrottleKind | undefined {
    const fault = this.senderThrottles.get(mailbox.toLowerCase());
    if (fault === undefined || fault.until <= now) return undefined;
    fault.refused += 1;
    return fault.kind;
  }

  /**
   * Throttles a mailbox by itself (kind `send-as`, for `seconds`) once it has had `after` Send As
   * denials in a row, as Exchange does after continuous errors; `null` turns it off.
   */
  throttleAfterSendAsDenials(rule: { after: number; seconds: number } | null): void {
    this.sendAsThrottle = rule ?? undefined;
    this.sendAsDenials.clear();
  }

  /** The automatic rule, if on. */
  get sendAsThrottleRule(): { readonly after: number; readonly seconds: number } | null {
    return this.sendAsThrottle ?? null;
  }

  /** Counts a submission's Send As outcome; a denial that completes the run throttles the mailbox. */
  noteSendAs(mailbox: string, denied: boolean, now: number): void {
    const key = mailbox.toLowerCase();
    if (!denied || this.sendAsThrottle === undefined) {
      this.sendAsDenials.delete(key);
      return;
    }
    const count = (this.sendAsDenials.get(key) ?? 0) + 1;
    if (count < this.sendAsThrottle.after) {
      this.sendAsDenials.set(key, count);
      return;
    }
    this.sendAsDenials.delete(key);
    this.throttleSender({ mailbox: key, kind: 'send-as', until: now + this.sendAsThrottle.seconds * 1000 });
  }

  /** The throttles set, with the refusals each has answered (ended ones included until cleared). */
  senderThrottleStates(): { mailbox: string; kind: SenderThrottleKind; until: string; refused: number }[] {
    return [...this.senderThrottles.values()].map((t) => ({
      mailbox: t.mailbox,
      kind: t.kind,
      until: new Date(t.until).toISOString(),
      refused: t.refused,
    }));
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
    this.senderThrottles.clear();
    this.sendAsThrottle = undefined;
    this.sendAsDenials.clear();
    this.sendAsDenialForm = '5.2.252';
    this.idleSilencedBefore.clear();
    this.imapDelayMs = 0;
    this.smtpDelayMs = 0;
  }
}
