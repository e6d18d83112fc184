/**
 * AUTHENTICATE XOAUTH2 (with SASL-IR or after an empty continuation) and the refused basic forms
 * (AUTHENTICATE PLAIN, LOGIN): Exchange Online has basic authentication switched off.
 *
 * Outcomes as Exchange answers them (reference §5): a bad token → `NO AUTHENTICATE failed.`;
 * a good token for a mailbox that cannot be opened → `OK AUTHENTICATE completed.` and then
 * `BAD User is authenticated but not connected.` for what follows; a cancelled exchange (`*`) →
 * `NO The AUTH protocol exchange was canceled by the client.`
 *
 * @see https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
 * @see https://www.rfc-editor.org/rfc/rfc4959 (SASL-IR)
 */
import { decodeXOAuth2 } from '../../exchange/xoauth2.js';
import { ArgumentError, astring, at, atom, expectCount } from '../arguments.js';
import type { CommandHandler } from '../command-registry.js';
import { CONTINUE, REPLY } from '../replies.js';

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
  if (mechanism === 'PLAIN') return { status: 'NO', text: REPLY.authenticateFailed };
  const credentials = decodeXOAuth2(response);
  if (!credentials) return { status: 'NO', text: REPLY.authenticateFailed };
  const decision = await session.access.authorizeImap(credentials);
  if (decision.outcome === 'refused') return { status: 'NO', text: REPLY.authenticateFailed };
  session.authenticated({
    mailbox: decision.outcome === 'connected' ? decision.mailbox : undefined,
    principal: decision.principal,
    expiresAt: decision.expiresAt,
  });
  return { status: 'OK', text: REPLY.authenticateCompleted };
};

/** LOGIN with a password: basic authentication is disabled in Exchange Online. */
export const loginCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 2);
  return { status: 'NO', text: REPLY.loginFailed };
};
