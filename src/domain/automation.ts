/**
 * Loop prevention: recognise mail that a machine sent — auto-replies and out-of-office notices,
 * delivery reports (bounces), mailing-list and bulk mail — so that no automatic acknowledgement
 * ever answers it and two autoresponders cannot ping-pong.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3834#section-2 (Auto-Submitted) and §2 "when not to respond"
 * @see https://www.rfc-editor.org/rfc/rfc3464 (multipart/report; report-type=delivery-status)
 * @see https://www.rfc-editor.org/rfc/rfc8098 (disposition-notification, read receipts)
 * @see https://www.rfc-editor.org/rfc/rfc2369 (List-Unsubscribe, List-Post…), https://www.rfc-editor.org/rfc/rfc2919 (List-Id)
 * @see https://learn.microsoft.com/openspecs/exchange_server_protocols/ms-oxcmail/ced68690-498a-4567-9d14-5c01f974d8b1 (X-Auto-Response-Suppress)
 */

/** What the detector looks at. Header names are matched regardless of case. */
export interface AutomationInput {
  /** Header name (any case) → its values, decoded to text. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /** The sender's address (From, else Sender), if any. */
  readonly fromAddress: string | null;
  /** The top-level media type, lower-case, e.g. `multipart/report`. */
  readonly contentType: string | null;
  /** The `report-type` parameter of a multipart/report, lower-case. */
  readonly reportType: string | null;
  /** Media types of every part (lower-case), to find `message/delivery-status` nested anywhere. */
  readonly partTypes: readonly string[];
  readonly subject: string | null;
  /** The account's own addresses, to recognise our own mail coming back (X-Loop). */
  readonly ownAddresses?: readonly string[];
}

/** The verdict. Any flag set means: never answer automatically. */
export interface AutomationVerdict {
  /** Sent automatically (RFC 3834 auto-generated / auto-replied, out-of-office, read receipts). */
  readonly autoReply: boolean;
  /** A delivery status notification: the message bounced or was delayed. */
  readonly bounce: boolean;
  /** Mailing-list or bulk mail. */
  readonly list: boolean;
  /** True when an automatic reply must not be sent: any flag above, or a sender that asked for none. */
  readonly suppressAutoReply: boolean;
  /** Why, one short phrase per signal, for the message's details and logs. */
  readonly reasons: readonly string[];
}

const BOUNCE_SENDERS = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|microsoftexchange[0-9a-f]*)@/i;
const AUTO_REPLY_SUBJECTS =
  /^\s*(auto(?:matic)?[- ]?reply|out of (?:the )?office|abwesenheitsnotiz|risposta automatica|réponse automatique|respuesta automática)\s*[:：]/i;
const BOUNCE_SUBJECTS =
  /^\s*(undeliverable|undelivered mail returned to sender|delivery status notification \((?:failure|delay)\)|mail delivery failed|returned mail|unzustellbar|non remis|non recapitabile)\b/i;
const SUPPRESS_VALUES = new Set(['all', 'oof', 'autoreply']);

/**
 * Classifies a message. Each signal alone is enough; the reasons list every one found.
 */
export function detectAutomation(input: AutomationInput): AutomationVerdict {
  const headers = lowerCaseKeys(input.headers);
  const first = (name: string): string | undefined => headers.get(name)?.[0]?.trim();
  const reasons: string[] = [];
  let autoReply = false;
  let bounce = false;
  let list = false;
  let suppress = false;

  const autoSubmitted = first('auto-submitted')?.toLowerCase().split(';')[0]?.trim();
  if (autoSubmitted !== undefined && autoSubmitted !== '' && autoSubmitted !== 'no') {
    autoReply = true;
    reasons.push(`Auto-Submitted: ${autoSubmitted}`);
  }
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder']) {
    const value = first(name);
    if (value !== undefined && !/^(no|false|0)$/i.test(value)) {
      autoReply = true;
      reasons.push(`${name} present`);
    }
  }
  const precedence = first('precedence')?.toLowerCase();
  if (precedence === 'auto_reply') {
    autoReply = true;
    reasons.push('Precedence: auto_reply');
  } else if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list') {
    list = true;
    reasons.push(`Precedence: ${precedence}`);
  }
  for (const name of ['list-id', 'list-unsubscribe', 'list-post', 'list-help']) {
    if (headers.has(name)) {
      list = true;
      reasons.push(`${name} present`);
      break;
    }
  }

  const reportType = input.reportType?.toLowerCase() ?? null;
  if (input.contentType === 'multipart/report' && reportType === 'delivery-status') {
    bounce = true;
    reasons.push('multipart/report; report-type=delivery-status');
  } else if (
    input.partTypes.some((type) => type === 'message/delivery-status' || type === 'message/global-delivery-status')
  ) {
    bounce = true;
    reasons.push('message/delivery-status part');
  }
  if (input.contentType === 'multipart/report' && reportType === 'disposition-notification') {
    autoReply = true;
    reasons.push('read receipt (disposition-notification)');
  }
  if (input.fromAddress !== null && BOUNCE_SENDERS.test(input.fromAddress)) {
    bounce = true;
    reasons.push(`sender ${input.fromAddress}`);
  }
  if (headers.has('x-failed-recipients')) {
    bounce = true;
    reasons.push('X-Failed-Recipients present');
  }

  const subject = input.subject ?? '';
  if (!autoReply && AUTO_REPLY_SUBJECTS.test(subject)) {
    autoReply = true;
    reasons.push('auto-reply subject');
  }
  // A subject alone proves nothing (a customer may write "Undeliverable?"); with a null sender it does.
  if (!bounce && BOUNCE_SUBJECTS.test(subject) && isNullReturnPath(first('return-path'))) {
    bounce = true;
    reasons.push('bounce subject from a null sender');
  }

  const suppressValues = (first('x-auto-response-suppress') ?? '')
    .toLowerCase()
    .split(/[\s,]+/)
    .filter((value) => value !== '');
  if (suppressValues.some((value) => SUPPRESS_VALUES.has(value))) {
    suppress = true;
    reasons.push(`X-Auto-Response-Suppress: ${suppressValues.join(', ')}`);
  }
  if (isNullReturnPath(first('return-path'))) {
    suppress = true;
    reasons.push('null Return-Path');
  }
  const own = new Set((input.ownAddresses ?? []).map((address) => address.toLowerCase()));
  for (const loop of headers.get('x-loop') ?? []) {
    if (own.has(loop.trim().replace(/^<|>$/g, '').toLowerCase())) {
      suppress = true;
      reasons.push('X-Loop names this account');
    }
  }

  return { autoReply, bounce, list, suppressAutoReply: suppress || autoReply || bounce || list, reasons };
}

function isNullReturnPath(value: string | undefined): boolean {
  return value !== undefined && /^<\s*>$/.test(value.trim());
}

function lowerCaseKeys(headers: ReadonlyMap<string, readonly string[]>): Map<string, readonly string[]> {
  const lowered = new Map<string, readonly string[]>();
  for (const [name, values] of headers) {
    const key = name.toLowerCase();
    lowered.set(key, [...(lowered.get(key) ?? []), ...values]);
  }
  return lowered;
}
