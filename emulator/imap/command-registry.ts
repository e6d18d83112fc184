/**
 * The commands the emulated Exchange IMAP service accepts, the session states each is allowed in,
 * and which of them hold back untagged EXPUNGE responses (non-UID FETCH, STORE, SEARCH).
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6 (client commands by state)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-6.4.8 (UID)
 */
import { atom } from './arguments.js';
import { appendCommand } from './commands/append.js';
import { authenticateCommand, loginCommand } from './commands/authenticate.js';
import {
  capabilityCommand,
  checkCommand,
  idCommand,
  logoutCommand,
  namespaceCommand,
  noopCommand,
} from './commands/connection.js';
import { copyCommand, moveCommand } from './commands/copy-move.js';
import { expungeCommand } from './commands/expunge.js';
import { fetchCommand } from './commands/fetch.js';
import {
  createCommand,
  deleteCommand,
  listCommand,
  renameCommand,
  statusCommand,
  subscribeCommand,
} from './commands/folders.js';
import { idleCommand } from './commands/idle.js';
import { searchCommand } from './commands/search.js';
import { closeCommand, selectCommand, unselectCommand } from './commands/select.js';
import { storeCommand } from './commands/store.js';
import type { ImapCommand } from './parser.js';
import type { CommandResult, ImapSession, SessionState } from './session.js';

export type CommandHandler = (
  session: ImapSession,
  command: ImapCommand,
  options: { readonly uid: boolean },
) => Promise<CommandResult | undefined>;

export interface CommandSpec {
  readonly states: readonly SessionState[];
  readonly handler: CommandHandler;
  /** Untagged EXPUNGE must wait while this (non-UID) command runs (RFC 3501 §7.4.1). */
  readonly holdsExpunge?: boolean;
  /** Not subject to throttling or delay faults. */
  readonly exempt?: boolean;
}

const ANY: readonly SessionState[] = ['not-authenticated', 'not-connected', 'authenticated', 'selected'];
const NOT_AUTHENTICATED: readonly SessionState[] = ['not-authenticated', 'not-connected'];
const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
const SELECTED: readonly SessionState[] = ['selected'];

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  CAPABILITY: { states: ANY, handler: capabilityCommand, exempt: true },
  NOOP: { states: ANY, handler: noopCommand },
  LOGOUT: { states: ANY, handler: logoutCommand, exempt: true },
  ID: { states: ANY, handler: idCommand },
  AUTHENTICATE: { states: NOT_AUTHENTICATED, handler: authenticateCommand },
  LOGIN: { states: NOT_AUTHENTICATED, handler: loginCommand },
  NAMESPACE: { states: AUTHENTICATED, handler: namespaceCommand },
  LIST: { states: AUTHENTICATED, handler: listCommand },
  LSUB: { states: AUTHENTICATED, handler: listCommand },
  STATUS: { states: AUTHENTICATED, handler: statusCommand },
  SELECT: { states: AUTHENTICATED, handler: selectCommand },
  EXAMINE: { states: AUTHENTICATED, handler: selectCommand },
  CREATE: { states: AUTHENTICATED, handler: createCommand },
  DELETE: { states: AUTHENTICATED, handler: deleteCommand },
  RENAME: { states: AUTHENTICATED, handler: renameCommand },
  SUBSCRIBE: { states: AUTHENTICATED, handler: subscribeCommand },
  UNSUBSCRIBE: { states: AUTHENTICATED, handler: subscribeCommand },
  APPEND: { states: AUTHENTICATED, handler: appendCommand },
  IDLE: { states: AUTHENTICATED, handler: idleCommand },
  CHECK: { states: SELECTED, handler: checkCommand },
  CLOSE: { states: SELECTED, handler: closeCommand },
  UNSELECT: { states: SELECTED, handler: unselectCommand },
  EXPUNGE: { states: SELECTED, handler: expungeCommand },
  SEARCH: { states: SELECTED, handler: searchCommand, holdsExpunge: true },
  FETCH: { states: SELECTED, handler: fetchCommand, holdsExpunge: true },
  STORE: { states: SELECTED, handler: storeCommand, holdsExpunge: true },
  COPY: { states: SELECTED, handler: copyCommand },
  MOVE: { states: SELECTED, handler: moveCommand },
};

const UID_COMMANDS = new Set(['FETCH', 'SEARCH', 'STORE', 'COPY', 'MOVE', 'EXPUNGE']);

/** Looks a command up; `UID <command>` resolves to the command with `uid` set. */
export function findCommand(
  command: ImapCommand,
): { spec: CommandSpec; command: ImapCommand; uid: boolean } | undefined {
  if (command.name !== 'UID') {
    const spec = COMMANDS[command.name];
    return spec ? { spec, command, uid: false } : undefined;
  }
  const first = command.args[0];
  if (first?.type !== 'atom') return undefined;
  const name = atom(first).toUpperCase();
  const spec = COMMANDS[name];
  if (!spec || !UID_COMMANDS.has(name)) return undefined;
  return {
    spec: { ...spec, states: SELECTED },
    command: { tag: command.tag, name, args: command.args.slice(1) },
    uid: true,
  };
}
