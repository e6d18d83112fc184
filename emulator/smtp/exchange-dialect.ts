/**
 * Exchange's wording for the replies smtp-server produces itself. smtp-server runs the SMTP state
 * machine (STARTTLS, SASL, PIPELINING, DATA); each connection's `send` is wrapped so that what it
 * says comes out as Exchange Online says it: the greeting, the EHLO list before and after TLS,
 * `250 2.1.0 Sender OK`, `354 Start mail input; …` and the rest. Replies the emulator builds itself
 * already carry their enhanced status code and pass through untouched.
 *
 * @see ../../../shared/reference/microsoft-protocols.md §5 (SMTP transcript)
 * @see https://www.rfc-editor.org/rfc/rfc3463 (enhanced status codes)
 */
import { SMTP_REPLY, ehloExtensions } from './replies.js';

export interface DialectContext {
  readonly host: string;
  readonly now: () => number;
  readonly secure: () => boolean;
  readonly clientIp: () => string;
  /** Whether basic authentication is on (EHLO then offers `AUTH PLAIN` too). */
  readonly basicAuth: () => boolean;
}

export interface Reply {
  readonly code: number;
  readonly data: string | string[];
}

const ENHANCED = /^\d\.\d{1,3}\.\d{1,3} /;

/** Translates one reply of smtp-server (code, text, context) into Exchange's. */
export function translateReply(
  code: number,
  data: string | string[] | null | undefined,
  context: string | false | undefined,
  dialect: DialectContext,
): Reply {
  if (Array.isArray(data)) {
    // The only multi-line reply is EHLO's.
    return {
      code,
      data: [
        SMTP_REPLY.hello(dialect.host, dialect.clientIp()),
        ...ehloExtensions(dialect.secure(), dialect.basicAuth()),
      ],
    };
  }
  const text = data ?? '';
  if (ENHANCED.test(text)) return { code, data: text };
  switch (code) {
    case 220:
      return {
        code,
        data: text === 'Ready to start TLS' ? SMTP_REPLY.startTls : SMTP_REPLY.greeting(dialect.host, dialect.now()),
      };
    case 221:
      return { code, data: SMTP_REPLY.closing };
    case 235:
      return { code, data: SMTP_REPLY.authenticated };
    case 250:
      if (context === 'MAIL_FROM_OK') return { code, data: SMTP_REPLY.senderOk };
      if (context === 'RCPT_TO_OK') return { code, data: SMTP_REPLY.recipientOk };
      if (text === 'Flushed') return { code, data: SMTP_REPLY.reset };
      if (text === 'OK') return { code, data: SMTP_REPLY.ok };
      if (context === false && !text.startsWith('2.'))
        return { code, data: SMTP_REPLY.hello(dialect.host, dialect.clientIp()) };
      return { code, data: text };
    case 334:
      return { code, data: text };
    case 354:
      return { code, data: SMTP_REPLY.startMailInput };
    case 452:
      return { code, data: SMTP_REPLY.tooManyRecipients };
    case 500:
      return { code, data: SMTP_REPLY.unrecognizedCommand };
    case 501:
      if (text === 'Error: invalid userdata')
        return { code: 535, data: SMTP_REPLY.authFailed(dialect.host, dialect.now()) };
      return { code, data: SMTP_REPLY.invalidArguments };
    case 503:
      if (/HELO|EHLO/.test(text)) return { code, data: SMTP_REPLY.sendHelloFirst };
      if (/need RCPT/i.test(text)) return { code, data: SMTP_REPLY.needRcpt };
      if (/need MAIL/i.test(text)) return { code, data: SMTP_REPLY.needMail };
      if (/nested MAIL/i.test(text)) return { code, data: SMTP_REPLY.senderAlreadySpecified };
      return { code, data: `5.5.1 ${text.replace(/^Error: /, '')}` };
    case 504:
    case 538:
      return { code: 504, data: SMTP_REPLY.unrecognizedAuthType };
    case 530:
      return { code, data: SMTP_REPLY.notAuthenticated };
    case 552:
      return { code, data: SMTP_REPLY.messageTooBig };
    default:
      return { code, data: text };
  }
}
