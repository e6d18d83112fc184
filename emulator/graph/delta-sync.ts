/**
 * Delta query state for message folders. A round starts from nothing (every message is "created")
 * or from a delta token (the folder's state at the end of the previous round): the changes are
 * computed once, at the start of the round, against a snapshot `id → version` of the folder, and
 * served page by page behind `$skiptoken`s; the last page carries a `$deltatoken` naming that
 * snapshot. A message that left the folder (deleted, or moved: its id changes) is reported as
 * `@removed` with reason `deleted`; a message whose flags changed is "updated".
 *
 * Tokens are kept in memory in a bounded cache, as Exchange keeps sync states: when it overflows
 * the oldest go, and a request with a forgotten token is answered `410 SyncStateNotFound`.
 *
 * @see https://learn.microsoft.com/graph/delta-query-messages
 * @see https://learn.microsoft.com/graph/api/message-delta
 */
import { randomBytes } from 'node:crypto';
import { graphErrors } from './graph-errors.js';
import type { DeltaQuery } from './odata-query.js';

/** One change to report. */
export interface DeltaEntry {
  readonly id: string;
  readonly kind: 'created' | 'updated' | 'deleted';
}

/** The folder state a delta token names: message id → version. */
export type FolderSnapshot = ReadonlyMap<string, string>;

/** A round of delta pages in progress. */
export interface DeltaRound {
  readonly mailbox: string;
  readonly folderId: string;
  readonly query: DeltaQuery;
  readonly entries: readonly DeltaEntry[];
  /** The folder state the round's final delta token will name. */
  readonly snapshot: FolderSnapshot;
}

interface SyncState {
  readonly mailbox: string;
  readonly folderId: string;
  readonly query: DeltaQuery;
  readonly snapshot: FolderSnapshot;
}

/**
 * The changes between two states of a folder, in presentation order: removals first, then
 * creations and updates in the folder's order (`order`). Filtered by `changeType` when given.
 */
export function diffSnapshots(
  previous: FolderSnapshot | undefined,
  current: FolderSnapshot,
  order: readonly string[],
  changeType: DeltaQuery['changeType'],
): DeltaEntry[] {
  const entries: DeltaEntry[] = [];
  if (previous !== undefined)
    for (const id of previous.keys()) if (!current.has(id)) entries.push({ id, kind: 'deleted' });
  for (const id of order) {
    const before = previous?.get(id);
    if (before === undefined) entries.push({ id, kind: 'created' });
    else if (before !== current.get(id)) entries.push({ id, kind: 'updated' });
  }
  return changeType === undefined ? entries : entries.filter((e) => e.kind === changeType);
}

/** Delta rounds and sync states, by opaque token, in a bounded cache (oldest dropped first). */
export class DeltaStates {
  private readonly rounds = new Map<string, DeltaRound>();
  private readonly syncStates = new Map<string, SyncState>();

  constructor(readonly capacity = 5_000) {}

  /** Starts a round: the changes since `since` (a delta token), or the whole folder. */
  startRound(input: {
    mailbox: string;
    folderId: string;
    query: DeltaQuery;
    current: FolderSnapshot;
    order: readonly string[];
    since?: SyncState;
  }): DeltaRound {
    const entries = diffSnapshots(input.since?.snapshot, input.current, input.order, input.query.changeType);
    return { mailbox: input.mailbox, folderId: input.folderId, query: input.query, entries, snapshot: input.current };
  }

  /** Stores a round in progress; returns the `$skiptoken` of its page starting at `offset`. */
  saveRound(round: DeltaRound, offset: number): string {
    const token = newToken();
    this.remember(this.rounds, token, round);
    return `${token}.${offset}`;
  }

  /** The round and offset a `$skiptoken` names; `410 SyncStateNotFound` when forgotten. */
  resumeRound(skipToken: string, mailbox: string, folderId: string): { round: DeltaRound; offset: number } {
    const match = /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(skipToken);
    const round = match?.[1] === undefined ? undefined : this.rounds.get(match[1]);
    if (round === undefined || match?.[2] === undefined || round.mailbox !== mailbox || round.folderId !== folderId)
      throw graphErrors.syncStateNotFound();
    return { round, offset: Number(match[2]) };
  }

  /** Stores the state at the end of a round; returns its `$deltatoken`. */
  saveSyncState(round: DeltaRound): string {
    const token = newToken();
    this.remember(this.syncStates, token, {
      mailbox: round.mailbox,
      folderId: round.folderId,
      query: round.query,
      snapshot: round.snapshot,
    });
    return token;
  }

  /** The sync state a `$deltatoken` names; `410 SyncStateNotFound` when forgotten. */
  syncState(deltaToken: string, mailbox: string, folderId: string): SyncState {
    const state = this.syncStates.get(deltaToken);
    if (state === undefined || state.mailbox !== mailbox || state.folderId !== folderId)
      throw graphErrors.syncStateNotFound();
    return state;
  }

  /** Forgets every token (the next request with one gets 410). Returns how many were dropped. */
  clear(): number {
    const count = this.rounds.size + this.syncStates.size;
    this.rounds.clear();
    this.syncStates.clear();
    return count;
  }

  get size(): number {
    return this.rounds.size + this.syncStates.size;
  }

  private remember<T>(map: Map<string, T>, token: string, value: T): void {
    map.set(token, value);
    while (map.size > this.capacity) {
      const oldest = map.keys().next();
      if (oldest.done === true) break;
      map.delete(oldest.value);
    }
  }
}

function newToken(): string {
  return randomBytes(18).toString('base64url');
}
