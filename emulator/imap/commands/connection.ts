/**
 * Commands of any state: CAPABILITY, NOOP, ID, LOGOUT, and NAMESPACE / CHECK.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.1 (any state)
 * @see https://www.rfc-editor.org/rfc/rfc2971 (ID)
 * @see https://www.rfc-editor.org/rfc/rfc2342 (NAMESPACE)
 */
import type { CommandHandler } from '../command-registry.js';
import {
  BYE,
  CAPABILITIES_AFTER_AUTH,
  CAPABILITIES_BEFORE_AUTH,
  ID_RESPONSE,
  NAMESPACE_RESPONSE,
  completed,
} from '../replies.js';

/** Exchange lists more capabilities once a mailbox is open; it sends no untagged CAPABILITY after AUTHENTICATE. */
export const capabilityCommand: CommandHandler = async (session) => {
  const opened = session.state === 'authenticated' || session.state === 'selected';
  session.writer.line(`* CAPABILITY ${opened ? CAPABILITIES_AFTER_AUTH : CAPABILITIES_BEFORE_AUTH}`);
  return { status: 'OK', text: completed('CAPABILITY') };
};

export const noopCommand: CommandHandler = async () => ({ status: 'OK', text: completed('NOOP') });

export const checkCommand: CommandHandler = async () => ({ status: 'OK', text: completed('CHECK') });

export const idCommand: CommandHandler = async (session) => {
  session.writer.line(ID_RESPONSE);
  return { status: 'OK', text: completed('ID') };
};

export const namespaceCommand: CommandHandler = async (session) => {
  session.writer.line(NAMESPACE_RESPONSE);
  return { status: 'OK', text: completed('NAMESPACE') };
};

export const logoutCommand: CommandHandler = async (session, command) => {
  session.writer.line(BYE.logout);
  session.writer.line(`${command.tag} OK ${completed('LOGOUT')}`);
  await session.close();
  return undefined;
};
