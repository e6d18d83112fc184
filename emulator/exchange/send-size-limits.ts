/**
 * Per-mailbox maximum send size (`Set-Mailbox -MaxSendSize`). Exchange Online's SMTP endpoint
 * advertises one organisation-wide `SIZE` in EHLO, yet a mailbox's own MaxSendSize may be lower
 * (an administrator's choice, or a mailbox plan's): a message that passes the advertised SIZE but
 * exceeds the sending mailbox's limit is accepted through DATA and refused after the final dot.
 * Graph's sendMail of the same message is refused with `ErrorMessageSizeExceeded`.
 *
 * The limit checked is the smallest of the mailboxes involved: the one that signed in (SMTP AUTH
 * identity, or the Graph caller's mailbox) and the one sent as (MAIL FROM / From, or Graph's
 * `from`), when the emulator hosts it. None set: no per-mailbox limit (the advertised SIZE only).
 *
 * The SMTP reply: `552 5.3.4 Message size exceeds fixed maximum message size` (the wording of
 * Exchange's size refusals, and the emulator's for the advertised SIZE too); or, with
 * `form: '5.2.0'`, the store driver's wording reported by SMTP AUTH clients of Office 365
 * (`MapiExceptionMaxSubmissionExceeded; Message size exceeds maximum size limit.…`; reply code 554
 * assumed, as for the other STOREDRV submission failures).
 *
 * @see https://learn.microsoft.com/powershell/module/exchange/set-mailbox#-maxsendsize
 * @see https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#message-limits
 */

/** How a submission over the mailbox's limit is refused over SMTP. */
export const MAX_SEND_SIZE_FORMS = ['5.3.4', '5.2.0'] as const;
export type MaxSendSizeForm = (typeof MAX_SEND_SIZE_FORMS)[number];

/** The largest MaxSendSize Exchange Online accepts: 150 MB. */
export const MAX_SEND_SIZE_CEILING = 157_286_400;

/** A limit that a message exceeds. */
export interface SendSizeExceeded {
  readonly mailbox: string;
  readonly limit: number;
  readonly size: number;
}

/** The per-mailbox limits, in bytes, and the wording of the SMTP refusal. */
export class MailboxSendSizeLimits {
  readonly #limits = new Map<string, number>();
  #form: MaxSendSizeForm = '5.3.4';

  /** `Set-Mailbox <mailbox> -MaxSendSize <bytes>`; null returns to no per-mailbox limit. */
  set(mailbox: string, bytes: number | null): void {
    const key = mailbox.toLowerCase();
    if (bytes === null) this.#limits.delete(key);
    else this.#limits.set(key, bytes);
  }

  get form(): MaxSendSizeForm {
    return this.#form;
  }

  set form(form: MaxSendSizeForm) {
    this.#form = form;
  }

  /** The smallest limit among `mailboxes` that `size` bytes exceed, if any. */
  exceeded(mailboxes: ReadonlyArray<string | undefined>, size: number): SendSizeExceeded | undefined {
    let found: SendSizeExceeded | undefined;
    for (const mailbox of mailboxes) {
      if (mailbox === undefined) continue;
      const limit = this.#limits.get(mailbox.toLowerCase());
      if (limit === undefined || size <= limit) continue;
      if (found === undefined || limit < found.limit) found = { mailbox: mailbox.toLowerCase(), limit, size };
    }
    return found;
  }

  /** Every limit set, and the SMTP form. */
  snapshot(): { form: MaxSendSizeForm; mailboxes: Record<string, number> } {
    return { form: this.#form, mailboxes: Object.fromEntries(this.#limits) };
  }

  /** Back to no per-mailbox limits and the 552 5.3.4 wording. */
  clear(): void {
    this.#limits.clear();
    this.#form = '5.3.4';
  }
}
