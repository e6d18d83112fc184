/**
 * Pure decisions of a folder sync: where to start (resume after the checkpoint, a first sync
 * within the account's window, or a full resync after a UIDVALIDITY change) and how to split the
 * new messages into fetch batches, with oversize messages handled apart but in UID order, so
 * that the checkpoint only ever moves over messages that are done.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.1.1 (UIDVALIDITY: a change invalidates every UID)
 * @see https://www.rfc-editor.org/rfc/rfc4549#section-4.1 (client resynchronisation)
 */

/** What to import when a folder is synced for the first time (or resynced). */
export type FirstSync =
  { readonly kind: 'days'; readonly days: number } | { readonly kind: 'all' } | { readonly kind: 'new' };

/** A folder checkpoint as the sync reads it. */
export interface CheckpointView {
  readonly uidValidity: number | null;
  readonly lastUid: number;
  readonly updatedAt: string;
}

/** Where a folder sync starts. */
export type StartDecision =
  | { readonly kind: 'resume'; readonly lastUid: number }
  | {
      readonly kind: 'reset';
      readonly reason: 'first-sync' | 'uidvalidity-changed';
      /** Import messages that arrived on or after this day; null with `fromNow` false: everything. */
      readonly since: Date | null;
      /** Import nothing that is already there: only mail arriving from now on. */
      readonly fromNow: boolean;
    };

const DAY_MS = 86_400_000;

/**
 * Decides where to start. A first sync follows the account's window; a UIDVALIDITY change
 * resyncs — idempotently, since stored messages are recognised by Message-ID — over the same
 * window, or, for "new mail only", since the day before the checkpoint last moved.
 */
export function decideStart(
  checkpoint: CheckpointView | undefined,
  uidValidity: number,
  firstSync: FirstSync,
  now: Date,
): StartDecision {
  if (checkpoint !== undefined && checkpoint.uidValidity === uidValidity)
    return { kind: 'resume', lastUid: checkpoint.lastUid };
  const first = checkpoint === undefined || checkpoint.uidValidity === null;
  const reason = first ? 'first-sync' : 'uidvalidity-changed';
  switch (firstSync.kind) {
    case 'all':
      return { kind: 'reset', reason, since: null, fromNow: false };
    case 'days':
      return {
        kind: 'reset',
        reason,
        since: new Date(now.getTime() - Math.max(1, firstSync.days) * DAY_MS),
        fromNow: false,
      };
    case 'new': {
      if (first || checkpoint === undefined) return { kind: 'reset', reason, since: null, fromNow: true };
      const lastMoved = Date.parse(checkpoint.updatedAt);
      const since = Number.isNaN(lastMoved) ? now.getTime() - DAY_MS : lastMoved - DAY_MS;
      return { kind: 'reset', reason, since: new Date(since), fromNow: false };
    }
  }
}

/**
 * The checkpoint a reset starts from: just below the first UID to import.
 *
 * @param matchingUids UIDs a `SEARCH SINCE` returned (for a windowed reset), else undefined.
 */
export function resetLastUid(
  decision: Extract<StartDecision, { kind: 'reset' }>,
  uidNext: number,
  matchingUids: readonly number[] | undefined,
): number {
  if (decision.fromNow) return Math.max(0, uidNext - 1);
  if (decision.since === null) return 0;
  if (matchingUids === undefined || matchingUids.length === 0) return Math.max(0, uidNext - 1);
  return Math.max(0, Math.min(...matchingUids) - 1);
}

/**
 * How far over the account's limit a reported RFC822.SIZE may be and the message still be
 * downloaded — bounded to the limit plus one byte, so its real size is checked. Exchange reports
 * an estimate unless `ImapEnableExactRFC822Size` is on: a message estimated a little over the
 * limit may fit, and routing it aside would be a false alarm; one estimated far over is not
 * downloaded at all.
 *
 * @see https://learn.microsoft.com/powershell/module/exchange/set-imapsettings#-enableexactrfc822size
 */
export const SIZE_ESTIMATE_TOLERANCE = 0.1;

/** Whether a reported size is far enough over the limit to route the message aside unread. */
export function clearlyOversize(size: number, maxMessageBytes: number): boolean {
  return size > maxMessageBytes + Math.ceil(maxMessageBytes * SIZE_ESTIMATE_TOLERANCE);
}

/** A message to fetch: its UID and RFC822.SIZE (an estimate on Exchange). */
export interface Candidate {
  readonly uid: number;
  readonly size: number;
}

/** One step of a sync, in UID order. */
export type SyncStep =
  | { readonly kind: 'fetch'; readonly uids: readonly number[] }
  | { readonly kind: 'oversize'; readonly candidate: Candidate };

/** Bounds of a fetch batch. */
export interface BatchLimits {
  readonly maxMessageBytes: number;
  readonly batchCount: number;
  readonly batchBytes: number;
}

/**
 * Splits candidates above `lastUid` into steps in ascending UID order: batches of whole messages
 * bounded by count and bytes, and one step per message reported clearly larger than the account's
 * limit (see {@link clearlyOversize}; the others' real sizes are checked as they arrive).
 */
export function planSteps(candidates: readonly Candidate[], lastUid: number, limits: BatchLimits): SyncStep[] {
  const sorted = [...candidates].filter((candidate) => candidate.uid > lastUid).sort((a, b) => a.uid - b.uid);
  const steps: SyncStep[] = [];
  let batch: number[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (batch.length > 0) steps.push({ kind: 'fetch', uids: batch });
    batch = [];
    bytes = 0;
  };
  for (const candidate of sorted) {
    if (clearlyOversize(candidate.size, limits.maxMessageBytes)) {
      flush();
      steps.push({ kind: 'oversize', candidate });
      continue;
    }
    if (batch.length > 0 && (batch.length >= limits.batchCount || bytes + candidate.size > limits.batchBytes)) flush();
    batch.push(candidate.uid);
    bytes += candidate.size;
  }
  flush();
  return steps;
}

/** An IMAP sequence set for UIDs: `1:3,7,9:10`. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  let start: number | undefined;
  let previous: number | undefined;
  for (const uid of sorted) {
    if (start !== undefined && previous !== undefined && uid === previous + 1) {
      previous = uid;
      continue;
    }
    if (start !== undefined && previous !== undefined)
      ranges.push(start === previous ? `${start}` : `${start}:${previous}`);
    start = uid;
    previous = uid;
  }
  if (start !== undefined && previous !== undefined)
    ranges.push(start === previous ? `${start}` : `${start}:${previous}`);
  return ranges.join(',');
}
