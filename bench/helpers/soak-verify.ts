/**
 * The fault soak's end: Postern drains (a bounded wait), then what it holds is compared with the
 * truth outside it — the Message-IDs the emulator delivered into the mailboxes, and the
 * submissions the emulator accepted — and its database is checked.
 *
 * - Mail in: every delivered message stored exactly once in its mailbox's account.
 * - Mail out: every reply the API queued (202) submitted exactly once and recorded `sent`, or not
 *   submitted and recorded `failed` with a reason; every reply asked for answered at last, each
 *   under its Idempotency-Key, so that a request whose answer a `kill -9` cut is neither lost nor
 *   queued twice.
 */
import { z } from 'zod';
import { sleep } from './figures.js';
import type { SoakStore } from './soak-host.js';
import type { PosternUnderSoak } from './soak-postern.js';
import type { SoakWorld } from './soak-world.js';

const DRAIN_POLL_MS = 2000;
const EXAMPLES = 5;

/** A message delivered into a mailbox. */
export interface Delivered {
  readonly mailbox: string;
  readonly messageId: string;
}

/** How a reply asked for ended at the API. */
export type ReplyOutcome =
  | { readonly key: string; readonly kind: 'queued'; readonly id: number; readonly messageId: string }
  | { readonly key: string; readonly kind: 'refused'; readonly reason: string }
  /** No conversation could be listed (Postern or its database down): no reply was asked for. */
  | { readonly key: string; readonly kind: 'not-attempted' }
  /** No definite answer before the end of the drain. */
  | { readonly key: string; readonly kind: 'unresolved' };

/** What the checks found. */
export interface Verdict {
  readonly drainSeconds: number;
  readonly delivered: number;
  readonly stored: number;
  /** Delivered but not stored (examples: mailbox Message-ID). */
  readonly lost: number;
  /** Stored more than once. */
  readonly doubled: number;
  /** Stored but never delivered. */
  readonly unexpected: number;
  readonly examples: readonly string[];
  readonly replies: {
    readonly askedFor: number;
    readonly queued: number;
    readonly refused: number;
    readonly notAttempted: number;
    readonly unresolved: number;
    readonly sentOnce: number;
    readonly failedWithReason: number;
    /** Submitted more than once. */
    readonly doubled: number;
    /** Queued but neither submitted nor failed. */
    readonly lost: number;
    /** Submitted but recorded otherwise than sent, or recorded sent but never submitted. */
    readonly misrecorded: number;
    /** Outgoing messages in the database that no request of the soak queued. */
    readonly untracked: number;
    readonly failureReasons: Readonly<Record<string, number>>;
    readonly refusalReasons: Readonly<Record<string, number>>;
  };
  readonly integrity: readonly string[];
  readonly alive: boolean;
  readonly health: string;
}

const key = (mailbox: string, messageId: string): string => `${mailbox.toLowerCase()} ${messageId}`;

/** Settles every reply request and waits until the delivered mail is stored and the outbox idle, or `hardEnd`. */
export async function drain(options: {
  store: SoakStore;
  delivered: readonly Delivered[];
  replies: ReadonlyArray<Promise<ReplyOutcome>>;
  hardEnd: number;
  log: (line: string) => void;
}): Promise<{ outcomes: ReplyOutcome[]; seconds: number }> {
  const started = Date.now();
  const outcomes = await Promise.all(options.replies);
  const wanted = new Set(options.delivered.map((d) => key(d.mailbox, d.messageId)));
  let shown = 0;
  for (;;) {
    let missing = wanted.size;
    let pending = -1;
    try {
      const stored = new Set(
        (await options.store.inbound()).flatMap((s) => (s.messageId === null ? [] : [key(s.mailbox, s.messageId)])),
      );
      missing = [...wanted].filter((k) => !stored.has(k)).length;
      pending = (await options.store.outgoing()).filter((o) => o.state === 'queued' || o.state === 'sending').length;
    } catch (error) {
      options.log(`the database could not be read (${String(error)}); asking again`);
    }
    if (missing === 0 && pending === 0) break;
    if (Date.now() > options.hardEnd) {
      options.log(`drain bound reached: ${missing} messages not stored, ${pending} replies not settled`);
      break;
    }
    if (Date.now() - shown > 15_000) {
      shown = Date.now();
      options.log(`draining: ${missing} messages not stored yet, ${pending} replies queued or sending`);
    }
    await sleep(DRAIN_POLL_MS);
  }
  return { outcomes, seconds: (Date.now() - started) / 1000 };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

const healthAnswer = z.object({ status: z.string() });

/** Compares Postern's database with the emulator's truth and runs the integrity checks. */
export async function verify(options: {
  store: SoakStore;
  world: SoakWorld;
  postern: PosternUnderSoak;
  delivered: readonly Delivered[];
  outcomes: readonly ReplyOutcome[];
  drainSeconds: number;
}): Promise<Verdict> {
  const { store, world, postern, delivered, outcomes } = options;
  const examples: string[] = [];

  const storedCounts = new Map<string, number>();
  const stored = await store.inbound();
  for (const s of stored) {
    const k = key(s.mailbox, s.messageId ?? '(no Message-ID)');
    storedCounts.set(k, (storedCounts.get(k) ?? 0) + 1);
  }
  const deliveredKeys = new Set(delivered.map((d) => key(d.mailbox, d.messageId)));
  let lost = 0;
  let doubled = 0;
  for (const k of deliveredKeys) {
    const count = storedCounts.get(k) ?? 0;
    if (count === 0) {
      lost += 1;
      if (examples.length < EXAMPLES) examples.push(`lost: ${k}`);
    } else if (count > 1) {
      doubled += 1;
      if (examples.length < EXAMPLES) examples.push(`stored ${count} times: ${k}`);
    }
  }
  const unexpected = [...storedCounts.keys()].filter((k) => !deliveredKeys.has(k)).length;

  const submissions = await world.submissions();
  const outgoing = new Map((await store.outgoing()).map((o) => [o.id, o]));
  const queuedOutcomes = outcomes.flatMap((o) => (o.kind === 'queued' ? [o] : []));
  const tracked = new Set(queuedOutcomes.map((o) => o.id));
  let sentOnce = 0;
  let failedWithReason = 0;
  let repliesDoubled = 0;
  let repliesLost = 0;
  let misrecorded = 0;
  const failureReasons: string[] = [];
  for (const reply of queuedOutcomes) {
    const submitted = submissions.get(reply.messageId) ?? 0;
    const row = outgoing.get(reply.id);
    const state = row?.state ?? '(no outbox row)';
    if (submitted > 1) {
      repliesDoubled += 1;
      if (examples.length < EXAMPLES) examples.push(`reply ${reply.key} submitted ${submitted} times (${state})`);
    } else if (submitted === 1 && state === 'sent') {
      sentOnce += 1;
    } else if (submitted === 0 && state === 'failed' && row?.errorCode !== null) {
      failedWithReason += 1;
      failureReasons.push(row?.errorCode ?? '?');
    } else if (submitted === 0 && state !== 'sent') {
      repliesLost += 1;
      if (examples.length < EXAMPLES) examples.push(`reply ${reply.key} never submitted (${state})`);
    } else {
      misrecorded += 1;
      if (examples.length < EXAMPLES)
        examples.push(`reply ${reply.key} submitted ${submitted} time(s), recorded ${state}`);
    }
  }
  const untracked = [...outgoing.keys()].filter((id) => !tracked.has(id)).length;

  let health: string;
  try {
    const answer = await postern.api('GET', '/health');
    const parsed = healthAnswer.safeParse(answer.body);
    health = parsed.success ? parsed.data.status : `HTTP ${answer.status}`;
  } catch (error) {
    health = `no answer: ${String(error)}`;
  }
  return {
    drainSeconds: options.drainSeconds,
    delivered: deliveredKeys.size,
    stored: stored.length,
    lost,
    doubled,
    unexpected,
    examples,
    replies: {
      askedFor: outcomes.filter((o) => o.kind !== 'not-attempted').length,
      queued: queuedOutcomes.length,
      refused: outcomes.filter((o) => o.kind === 'refused').length,
      notAttempted: outcomes.filter((o) => o.kind === 'not-attempted').length,
      unresolved: outcomes.filter((o) => o.kind === 'unresolved').length,
      sentOnce,
      failedWithReason,
      doubled: repliesDoubled,
      lost: repliesLost,
      misrecorded,
      untracked,
      failureReasons: countBy(failureReasons),
      refusalReasons: countBy(outcomes.flatMap((o) => (o.kind === 'refused' ? [o.reason] : []))),
    },
    integrity: await store.integrity(),
    alive: postern.alive,
    health,
  };
}

/** What makes the run fail, one line each. */
export function problemsOf(
  result: Verdict & { readonly engine: string; readonly crashes: readonly unknown[] },
): string[] {
  const r = result.replies;
  const problems: string[] = [];
  const add = (count: number, what: string): void => {
    if (count > 0) problems.push(`${result.engine}: ${count} ${what}`);
  };
  add(result.lost, 'delivered messages not stored (lost)');
  add(result.doubled, 'messages stored more than once');
  add(r.lost, 'queued replies neither sent nor failed');
  add(r.doubled, 'replies submitted more than once');
  add(r.misrecorded, 'replies whose record disagrees with the submissions');
  add(r.unresolved, 'reply requests without a definite answer');
  add(r.untracked, 'outgoing messages nobody queued');
  add(result.crashes.length, 'exits of Postern nobody caused');
  for (const problem of result.integrity) problems.push(`${result.engine}: integrity: ${problem}`);
  if (!result.alive || result.health !== 'ok') problems.push(`${result.engine}: Postern at the end: ${result.health}`);
  return problems;
}
