/**
 * A session's view of its selected folder. The view keeps the message list as the client last
 * learned it, so message sequence numbers stay stable between the untagged EXISTS / EXPUNGE
 * responses that move them; changes made by other sessions (or by mail delivery) are queued and
 * told at the points where IMAP allows: after any command, immediately during IDLE, and without
 * EXPUNGE while a non-UID FETCH, STORE or SEARCH is in progress.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-7.4.1 (EXPUNGE timing)
 * @see https://www.rfc-editor.org/rfc/rfc2177 (IDLE)
 */
import type { FolderChange, MailFolder } from '../exchange/mail-folder.js';
import type { StoredMessage } from '../exchange/stored-message.js';
import { inSequenceSet, type SequenceRange } from './sequence-set.js';

export class SelectedFolder {
  private view: StoredMessage[];
  private readonly addedQueue: StoredMessage[] = [];
  private readonly expungedQueue = new Set<number>();
  private readonly flagQueue = new Map<number, StoredMessage>();
  private readonly unwatch: () => void;
  private onChange: (() => void) | undefined;
  removed = false;

  constructor(
    readonly folder: MailFolder,
    readonly readOnly: boolean,
    private readonly owner: object,
  ) {
    this.view = [...folder.messages];
    this.unwatch = folder.watch((change) => this.enqueue(change));
  }

  get exists(): number {
    return this.view.length;
  }

  get messages(): readonly StoredMessage[] {
    return this.view;
  }

  /** Called when a change arrives (the session uses it to push updates during IDLE). */
  setChangeListener(listener: (() => void) | undefined): void {
    this.onChange = listener;
  }

  get hasPending(): boolean {
    return this.addedQueue.length > 0 || this.expungedQueue.size > 0 || this.flagQueue.size > 0 || this.removed;
  }

  close(): void {
    this.unwatch();
    this.onChange = undefined;
  }

  /** The sequence number of a UID in the view, or 0. */
  sequenceOf(uid: number): number {
    let low = 0;
    let high = this.view.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const candidate = this.view[mid]?.uid ?? 0;
      if (candidate === uid) return mid + 1;
      if (candidate < uid) low = mid + 1;
      else high = mid - 1;
    }
    return 0;
  }

  /** Messages of a sequence set, with their sequence numbers, ascending. */
  resolve(ranges: readonly SequenceRange[], byUid: boolean): Array<{ seq: number; message: StoredMessage }> {
    const out: Array<{ seq: number; message: StoredMessage }> = [];
    const maxUid = this.view.at(-1)?.uid ?? 0;
    const max = byUid ? maxUid : this.view.length;
    if (!byUid && ranges.every((r) => r.from !== Infinity && r.to !== Infinity && r.to <= this.view.length)) {
      // Fast path for plain sequence ranges.
      const seen = new Set<number>();
      for (const range of ranges) for (let seq = range.from; seq <= range.to; seq += 1) seen.add(seq);
      for (const seq of [...seen].sort((a, b) => a - b)) {
        const message = this.view[seq - 1];
        if (message) out.push({ seq, message });
      }
      return out;
    }
    this.view.forEach((message, index) => {
      if (inSequenceSet(ranges, byUid ? message.uid : index + 1, max)) out.push({ seq: index + 1, message });
    });
    return out;
  }

  /** Whether a non-UID sequence set names numbers beyond the view (Exchange: invalid message set). */
  outOfRange(ranges: readonly SequenceRange[]): boolean {
    if (this.view.length === 0) return true;
    return ranges.some(
      (r) => (r.from !== Infinity && r.from > this.view.length) || (r.to !== Infinity && r.to > this.view.length),
    );
  }

  /** Removes UIDs the session itself expunged; returns their sequence numbers as to be announced. */
  removeOwn(uids: readonly number[]): number[] {
    const doomed = new Set(uids);
    const sequences: number[] = [];
    let removedBefore = 0;
    const kept: StoredMessage[] = [];
    this.view.forEach((message, index) => {
      if (doomed.has(message.uid)) {
        sequences.push(index + 1 - removedBefore);
        removedBefore += 1;
        return;
      }
      kept.push(message);
    });
    this.view = kept;
    return sequences;
  }

  /** Adds messages the session itself appended or copied into this folder (so EXISTS is told). */
  noteOwnAppend(messages: readonly StoredMessage[]): void {
    for (const message of messages) this.addedQueue.push(message);
  }

  /**
   * Applies queued changes to the view and returns the untagged lines that tell them:
   * EXPUNGEs (unless `allowExpunge` is false), EXISTS, and FETCH FLAGS.
   */
  drain(allowExpunge: boolean): string[] {
    const lines: string[] = [];
    if (allowExpunge && this.expungedQueue.size > 0) {
      for (const seq of this.removeOwn([...this.expungedQueue])) lines.push(`* ${seq} EXPUNGE`);
      for (const uid of this.expungedQueue) this.flagQueue.delete(uid);
      this.expungedQueue.clear();
    }
    if (this.addedQueue.length > 0) {
      const lastUid = this.view.at(-1)?.uid ?? 0;
      const fresh = this.addedQueue.filter((m) => m.uid > lastUid).sort((a, b) => a.uid - b.uid);
      this.addedQueue.length = 0;
      if (fresh.length > 0) {
        for (const message of fresh) this.view.push(message);
        lines.push(`* ${this.view.length} EXISTS`);
      }
    }
    for (const [uid, message] of this.flagQueue) {
      const seq = this.sequenceOf(uid);
      if (seq > 0) lines.push(`* ${seq} FETCH (FLAGS (${[...message.flags].join(' ')}))`);
    }
    this.flagQueue.clear();
    return lines;
  }

  private enqueue(change: FolderChange): void {
    if (change.kind === 'removed') {
      this.removed = true;
    } else if (change.origin === this.owner) {
      return;
    } else if (change.kind === 'append') {
      this.addedQueue.push(...change.messages);
    } else if (change.kind === 'expunge') {
      for (const uid of change.uids) this.expungedQueue.add(uid);
    } else {
      for (const message of change.messages) this.flagQueue.set(message.uid, message);
    }
    this.onChange?.();
  }
}
