/**
 * IDLE: untagged EXISTS / EXPUNGE / FETCH are pushed as soon as the selected folder changes from
 * any side (another session, delivery, the control API), until DONE.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2177
 */
import type { CommandHandler } from '../command-registry.js';
import { expectCount } from '../arguments.js';

export const idleCommand: CommandHandler = async (session, command) => {
  expectCount(command.args, 0);
  return session.idle();
};
