/**
 * One IMAP connection: reads command frames in order (any number may be pipelined), checks each
 * against the session state, runs it, tells queued mailbox changes at the points IMAP allows, and
 * writes the tagged completion — all with Exchange Online's reply texts.
 *
 * States follow Exchange's: not authenticated; authenticated but not connected (the token was
 * good but the mailbox cannot be opened); authenticated; selected; logout.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-3 (state and flow diagram)
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-5.5 (multiple commands in progress)
 */
import type { Socket } from 'node:net';
import type { ExchangeAccess, ExchangePrincipal } from '../exchange/access.js';
import type { BasicAuthSettings } from '../exchange/basic-auth.js';
import type { ExchangeClock } from '../exchange/exchange-clock.js';
import type { ExchangeFaults } from '../exchange/faults.js';
import type { ImapRenderingSettings } from '../exchange/imap-rendering.js';
import type { MailFolder } from '../exchange/mail-folder.js';
import { MailStoreError, type MailStore } from '../exchange/mail-store.js';
import { ArgumentError } from './arguments.js';
import { findCommand } from './command-registry.js';
import { CommandFramer, parseCommand, type CommandFrame, type ImapCommand } from './parser.js';
import { BYE, CONTINUE, REPLY, completed, greeting, throttled } from './replies.js';
import { ResponseWriter } from './response-writer.js';
import { SelectedFolder } from './selected-folder.js';

export type SessionState = 'not-authenticated' | 'not-connected' | 'authenticated' | 'selected' | 'logout';

/** A command's tagged completion. */
export interface CommandResult {
  readonly status: 'OK' | 'NO' | 'BAD';
  readonly text: string;
}

/** What every session of one server shares. */
export interface ImapServerContext {
  readonly store: MailStore;
  readonly access: ExchangeAccess;
  readonly clock: ExchangeClock;
  readonly faults: ExchangeFaults;
  /** How messages are served: re-rendered MIME, estimated or exact RFC822.SIZE. */
  readonly rendering: ImapRenderingSettings;
  /** Whether passwords are accepted (off: Exchange Online's refusals). */
  readonly basicAuth: BasicAuthSettings;
  readonly backendFqdn: string;
  readonly idleTimeoutMs: number;
  /** Claims a connection slot on a mailbox; false when the per-mailbox cap is reached. */
  attach(session: ImapSession, mailbox: string): boolean;
  detach(session: ImapSession): void;
}

const MAX_QUEUED_FRAMES = 64;
const MAX_INVALID_COMMANDS = 2;

export class ImapSession {
  state: SessionState = 'not-authenticated';
  mailbox: string | undefined;
  principal: ExchangePrincipal | undefined;
  /** When the token behind the session expires (emulator clock, ms); never for a password login. */
  expiresAt = Number.POSITIVE_INFINITY;
  selected: SelectedFolder | undefined;
  readonly writer: ResponseWriter;
  private readonly framer: CommandFramer;
  private readonly queue: CommandFrame[] = [];
  private waiter: ((frame: CommandFrame | undefined) => void) | undefined;
  private closed = false;
  private invalidCommands = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The sign-in's number (ExchangeFaults.nextLoginSerial), 0 before. */
  private loginSerial = 0;
  private pushScheduled = false;
  private idling = false;
  /** Commands run since the sign-in, for the drop-after-login fault. */
  private sinceLogin = 0;

  constructor(
    readonly socket: Socket,
    readonly context: ImapServerContext,
    /** Resets the connection (TCP RST); a plain destroy when the server cannot reach the TCP socket. */
    private readonly resetTransport: () => void = () => socket.destroy(),
  ) {
    this.writer = new ResponseWriter(socket);
    this.framer = new CommandFramer({
      onFrame: (frame) => this.enqueue(frame),
      onContinuationRequest: () => {
        socket.write(`${CONTINUE.moreData}\r\n`);
      },
    });
    socket.on('data', (chunk: Buffer) => this.framer.feed(chunk));
    socket.on('close', () => this.onClosed());
    socket.on('error', () => this.onClosed());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get store(): MailStore {
    return this.context.store;
  }

  get access(): ExchangeAccess {
    return this.context.access;
  }

  get clock(): ExchangeClock {
    return this.context.clock;
  }

  /** Sends the greeting and starts reading commands. */
  start(): void {
    this.writer.line(greeting(this.context.backendFqdn));
    void this.writer.flush();
    this.resetIdleTimer();
    void this.run();
  }

  /** Waits for the next frame (a command, or a continuation line); undefined once closed. */
  readFrame(): Promise<CommandFrame | undefined> {
    const frame = this.queue.shift();
    if (this.queue.length < MAX_QUEUED_FRAMES / 2 && this.socket.isPaused()) this.socket.resume();
    if (frame) return Promise.resolve(frame);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Ends the session with a BYE line (or none), after flushing what is queued. */
  async close(byeLine?: string): Promise<void> {
    if (this.closed) return;
    if (byeLine !== undefined) this.writer.line(byeLine);
    await this.writer.flush();
    this.state = 'logout';
    this.socket.end();
    this.onClosed();
  }

  /** Drops the connection without a word, as a network fault would. */
  destroy(): void {
    this.socket.destroy();
    this.onClosed();
  }

  /**
   * Resets the connection without a word (TCP RST), as a load balancer or a failing network does:
   * unlike a close, the client's next read fails with ECONNRESET.
   */
  reset(): void {
    this.resetTransport();
    this.onClosed();
  }

  /** Ends the session if its token has expired (reference §4: `* BYE Session invalidated - AccessTokenExpired`). */
  async expireIfDue(): Promise<boolean> {
    if (this.closed || this.state === 'not-authenticated' || this.state === 'logout') return false;
    if (this.clock.now() < this.expiresAt) return false;
    await this.close(BYE.tokenExpired);
    return true;
  }

  /** Opens a folder for SELECT/EXAMINE, replacing any previous selection. */
  select(folder: MailFolder, readOnly: boolean): SelectedFolder {
    this.deselect();
    this.selected = new SelectedFolder(folder, readOnly, this);
    this.state = 'selected';
    return this.selected;
  }

  deselect(): void {
    this.selected?.close();
    this.selected = undefined;
    if (this.state === 'selected') this.state = 'authenticated';
  }

  /** Becomes authenticated on a mailbox (or "not connected"). */
  authenticated(outcome: { mailbox?: string; principal: ExchangePrincipal; expiresAt: number }): void {
    this.principal = outcome.principal;
    this.expiresAt = outcome.expiresAt;
    this.sinceLogin = -1;
    this.loginSerial = this.context.faults.nextLoginSerial();
    if (outcome.mailbox !== undefined && this.context.attach(this, outcome.mailbox)) {
      this.mailbox = outcome.mailbox;
      this.state = 'authenticated';
    } else {
      this.state = 'not-connected';
    }
  }

  /**
   * IDLE: pushes changes as they happen until the client sends DONE.
   * @see https://www.rfc-editor.org/rfc/rfc2177
   */
  async idle(): Promise<CommandResult | undefined> {
    this.writer.line(CONTINUE.idle);
    this.idling = true;
    if (!this.idleSilenced()) this.pushUpdates();
    await this.writer.flush();
    this.selected?.setChangeListener(() => this.schedulePush());
    try {
      for (;;) {
        const frame = await this.readFrame();
        if (!frame) return undefined;
        this.resetIdleTimer();
        if (frame.lines.length === 1 && /^done$/i.test((frame.lines[0] ?? '').trim()))
          return { status: 'OK', text: completed('IDLE') };
        // Anything but DONE is a command sent in the wrong state; the IDLE goes on.
        const parsed = parseCommand(frame);
        if (await this.refuse(parsed.tag ?? '*', REPLY.invalidState)) return undefined;
      }
    } finally {
      this.idling = false;
      this.selected?.setChangeListener(undefined);
    }
  }

  /** A silenced session (fault) answers DONE as usual but announces nothing while idle. */
  private idleSilenced(): boolean {
    return this.context.faults.isIdleSilenced(this.mailbox, this.loginSerial);
  }

  private schedulePush(): void {
    if (this.pushScheduled || this.idleSilenced()) return;
    this.pushScheduled = true;
    setImmediate(() => {
      this.pushScheduled = false;
      if (!this.idling || this.closed) return;
      this.pushUpdates();
      void this.writer.flush();
    });
  }

  private pushUpdates(): void {
    if (!this.selected) return;
    for (const line of this.selected.drain(true)) this.writer.line(line);
  }

  private enqueue(frame: CommandFrame): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(frame);
      return;
    }
    this.queue.push(frame);
    if (this.queue.length >= MAX_QUEUED_FRAMES) this.socket.pause();
  }

  private async run(): Promise<void> {
    for (;;) {
      const frame = await this.readFrame();
      if (!frame || this.closed) return;
      this.resetIdleTimer();
      try {
        await this.handleFrame(frame);
      } catch {
        this.destroy();
        return;
      }
      if (this.closed) return;
    }
  }

  private async handleFrame(frame: CommandFrame): Promise<void> {
    if (frame.error) {
      await this.refuse('*', frame.error === 'literal-too-large' ? REPLY.argumentError : REPLY.commandError);
      return;
    }
    const parsed = parseCommand(frame);
    if (parsed.tag === undefined) {
      await this.refuse('*', REPLY.commandError);
      return;
    }
    if (parsed.syntaxError !== undefined) {
      await this.refuse(parsed.tag, REPLY.argumentError);
      return;
    }
    if (!parsed.command) {
      await this.refuse(parsed.tag, REPLY.commandError);
      return;
    }
    await this.execute(parsed.command);
  }

  private async execute(command: ImapCommand): Promise<void> {
    const { tag } = command;
    if (await this.expireIfDue()) return;
    const found = findCommand(command);
    if (!found) {
      await this.refuse(tag, REPLY.commandError);
      return;
    }
    if (!found.spec.states.includes(this.state)) {
      await this.refuse(tag, this.state === 'not-connected' ? REPLY.notConnected : REPLY.invalidState);
      return;
    }
    if (this.state === 'authenticated' || this.state === 'selected') {
      this.sinceLogin += 1;
      if (this.context.faults.takeImapDropAfterLogin(this.mailbox, found.command.name, this.sinceLogin)) {
        this.reset();
        return;
      }
    }
    if (!found.spec.exempt) {
      const throttle = this.context.faults.takeImapThrottle(this.mailbox);
      if (throttle !== undefined) {
        await this.complete(tag, { status: throttle.status, text: throttled(throttle.backoffMs) });
        if (throttle.bye) await this.close(BYE.tooManyErrors);
        return;
      }
      if (this.context.faults.imapDelayMs > 0) await sleep(this.context.faults.imapDelayMs);
    }
    if (this.selected?.removed) {
      // Another session deleted the selected folder: Exchange's text for what follows.
      this.deselect();
      if (!found.spec.states.includes(this.state)) {
        await this.complete(tag, { status: 'NO', text: 'Mailbox has been deleted or moved.' });
        return;
      }
    }
    // New messages are told before the command runs (EXISTS may come at any time), so that a
    // UID command can name a message delivered since the last response.
    if (this.selected && this.state === 'selected')
      for (const line of this.selected.drain(false)) this.writer.line(line);
    let result: CommandResult | undefined;
    try {
      result = await found.spec.handler(this, found.command, { uid: found.uid });
    } catch (error) {
      if (error instanceof ArgumentError) {
        const text =
          error.kind === 'message-set'
            ? REPLY.invalidMessageSet
            : error.kind === 'count'
              ? REPLY.argumentCountError
              : REPLY.argumentError;
        await this.refuse(tag, text);
        return;
      }
      if (error instanceof MailStoreError) result = { status: 'NO', text: error.message };
      else result = { status: 'NO', text: REPLY.serverUnavailable };
    }
    if (result === undefined || this.closed) return;
    if (result.status === 'BAD') {
      await this.refuse(tag, result.text);
      return;
    }
    if (this.selected && this.state === 'selected') {
      for (const line of this.selected.drain(!found.spec.holdsExpunge || found.uid)) this.writer.line(line);
    }
    await this.complete(tag, result);
  }

  /** A tagged BAD; the third invalid command of a session ends it, as Exchange does. */
  private async refuse(tag: string, text: string): Promise<boolean> {
    this.invalidCommands += 1;
    this.writer.line(`${tag} BAD ${text}`);
    if (this.invalidCommands > MAX_INVALID_COMMANDS) {
      await this.close(BYE.tooManyErrors);
      return true;
    }
    await this.writer.flush();
    return false;
  }

  private async complete(tag: string, result: CommandResult): Promise<void> {
    this.writer.line(`${tag} ${result.status} ${result.text}`);
    await this.writer.flush();
  }

  private resetIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.closed) return;
    this.idleTimer = setTimeout(() => void this.close(BYE.timeout), this.context.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.state = 'logout';
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.deselect();
    this.context.detach(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
