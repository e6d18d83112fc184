/**
 * AUTHENTICATE XOAUTH2 (with SASL-IR or after an empty continuation) and the basic forms
 * (AUTHENTICATE PLAIN, LOGIN), which Exchange Online refuses: it has basic authentication switched
 * off. The emulator's basic-authentication switch (`exchange/basic-auth.ts`) makes them take a
 * directory user's password instead, as an on-premises Exchange or another IMAP server would.
 *
 * Outcomes as Exchange answers them (reference §5): a bad token → `NO AUTHENTICATE failed.`;
 * a good token for a mailbox that cannot be opened → `OK AUTHENTICATE completed.` and then
 * `BAD User is authenticated but not connected.` for what follows; a cancelled exchange (`*`) →
 * `NO The AUTH protocol exchange was canceled by the client.` A password login is refused with
 * the same texts (`NO LOGIN failed.`, `NO AUTHENTICATE failed.`) whatever the reason.
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 * @see https://www.rfc-editor.org/rfc/rfc4959 (SASL-IR)
 * @see https://www.rfc-editor.org/rfc/rfc4616 (PLAIN)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.2.3 (LOGIN)
 */
import type { ImapAuthorization } from '../../exchange/access.js';
import { decodeSaslPlain } from '../../exchange/sasl-plain.js';
import { decodeXOAuth2 } from '../../exchange/xoauth2.js';
import { ArgumentError, astring, at, atom, expectCount } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { CONTINUE, REPLY, completed } from '../replies.js';
import type { CommandResult, ImapSession } from '../session.js';

const AUTHENTICATE_TEXTS = { completed: REPLY.authenticateCompleted, failed: REPLY.authenticateFailed } as const;
const LOGIN_TEXTS = { completed: completed('LOGIN'), failed: REPLY.loginFailed } as const;

export const authenticateCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 1, 2);
  const mechanism = atom(at(command.args, 0)).toUpperCase();
  if (mechanism !== 'XOAUTH2' && mechanism !== 'PLAIN') throw new ArgumentError('unsupported mechanism');
  let response: string;
  const initial = command.args[1];
  if (initial !== undefined) {
    response = astring(initial);
  } else {
    session.writer.line(CONTINUE.sasl);
    await session.writer.flush();
    const frame = await session.readFrame();
    if (!frame) return undefined;
    response = (frame.lines[0] ?? '').trim();
  }
  if (response === '*') return { status: 'NO', text: REPLY.authenticateCanceled };
  if (mechanism === 'PLAIN') {
    if (!session.context.basicAuth.imap) return { status: 'NO', text: REPLY.authenticateFailed };
    const credentials = decodeSaslPlain(response);
    if (!credentials) return { status: 'NO', text: REPLY.authenticateFailed };
    return open(session, session.access.authorizeImapPassword(credentials), AUTHENTICATE_TEXTS);
  }
  const credentials = decodeXOAuth2(response);
  if (!credentials) return { status: 'NO', text: REPLY.authenticateFailed };
  return open(session, await session.access.authorizeImap(credentials), AUTHENTICATE_TEXTS);
};

/** LOGIN with a password: refused as Exchange Online does, unless basic authentication is on. */
export const loginCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 2);
  if (!session.context.basicAuth.imap) return { status: 'NO', text: REPLY.loginFailed };
  const user = astring(at(command.args, 0));
  const password = astring(at(command.args, 1));
  return open(session, session.access.authorizeImapPassword({ user, password }), LOGIN_TEXTS);
};

/** Applies an authorization to the session: its new state, and the tagged reply. */
function open(
  session: ImapSession,
  decision: ImapAuthorization,
  texts: { readonly completed: string; readonly failed: string },
): CommandResult {
  if (decision.outcome === 'refused') return { status: 'NO', text: texts.failed };
  session.authenticated({
    mailbox: decision.outcome === 'connected' ? decision.mailbox : undefined,
    principal: decision.principal,
    expiresAt: decision.expiresAt,
  });
  return { status: 'OK', text: texts.completed };
}
