/**
 * The fault soak's randomness and its emulator faults. Every choice comes from one seeded
 * generator, so that a run is told by its seed (the order of faults and messages; their timing
 * against Postern's own still varies). Each injected fault is recorded with its time.
 */
import type { SoakWorld } from './soak-world.js';

/** The kinds of fault the soak injects. */
export const FAULT_KINDS = [
  'imap-drop',
  'imap-drop-after-login',
  'imap-throttle',
  'imap-not-connected',
  'smtp-4xx',
  'disk-full',
  'database-restart',
  'postern-sigkill',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The faults of the host, one at a time; the emulator's come on top of them. */
export type HostFaultKind = Extract<FaultKind, 'disk-full' | 'database-restart' | 'postern-sigkill'>;

/** An injected fault. */
export interface FaultRecord {
  readonly kind: FaultKind;
  /** Seconds since the phase began. */
  readonly at: number;
  readonly detail: string;
  /** What Postern showed meanwhile (its `/health` answers), for the host's faults. */
  effect?: string;
}

/** A generator of numbers in [0, 1) from a 32-bit seed (mulberry32). */
export interface Random {
  (): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const random = Object.assign(next, {
    between: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('nothing to pick from');
      return item;
    },
  });
  return random;
}

/** `items` in a seeded order (Fisher–Yates). */
function shuffle<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i];
    const b = out[j];
    if (a === undefined || b === undefined) continue;
    out[i] = b;
    out[j] = a;
  }
  return out;
}

/** A deck of the host faults that apply: each comes once before any comes again, in a seeded order. */
export function hostFaultDeck(kinds: readonly HostFaultKind[], random: Random): () => HostFaultKind {
  let deck: HostFaultKind[] = [];
  return () => {
    if (deck.length === 0) deck = shuffle(kinds, random);
    const next = deck.shift();
    if (next === undefined) throw new Error('no host fault applies');
    return next;
  };
}

/** How long a mailbox stays without the delegate's FullAccess. */
const NOT_CONNECTED_MS = 15_000;

/**
 * Exchange's misbehaviour, one fault at a time on the emulator, chosen at random: every IMAP
 * session cut (all mailboxes or one), sessions reset right after the sign-in, IMAP commands
 * throttled (`NO`/`BAD Request is throttled`, sometimes with a BYE), a mailbox "authenticated but
 * not connected" for 15 s, SMTP transactions answered 421 or 451.
 */
export class EmulatorFaults {
  /** Mailboxes whose FullAccess is away, and when it comes back. */
  private readonly revoked = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly world: SoakWorld,
    private readonly random: Random,
    private readonly record: (kind: FaultKind, detail: string) => FaultRecord,
  ) {}

  /** Injects one fault. */
  async injectOne(): Promise<void> {
    const { random, world } = this;
    const roll = random();
    const mailbox = random.pick(world.mailboxes);
    if (roll < 0.25) {
      const all = random() < 0.4;
      const answer = await world.control('POST', '/exchange/faults/imap/drop', all ? {} : { mailbox });
      this.record('imap-drop', `${all ? 'every mailbox' : mailbox}: ${JSON.stringify(answer)}`);
    } else if (roll < 0.4) {
      const count = random.between(1, 5);
      await world.control('POST', '/exchange/faults/imap/drop-after-login', { count });
      this.record('imap-drop-after-login', `next ${count} sessions reset after the sign-in`);
    } else if (roll < 0.65) {
      const count = random.between(1, 10);
      const status = random() < 0.5 ? 'NO' : 'BAD';
      const bye = random() < 0.3;
      const backoffMs = random.between(500, 8000);
      await world.control('POST', '/exchange/faults/imap/throttle', { count, status, bye, backoffMs });
      this.record(
        'imap-throttle',
        `next ${count} commands answered ${status} Request is throttled (backoff ${backoffMs} ms)${bye ? ' then BYE' : ''}`,
      );
    } else if (roll < 0.75) {
      if (this.revoked.has(mailbox)) return;
      await world.revokeFullAccess(mailbox);
      this.revoked.set(
        mailbox,
        setTimeout(() => void this.restore(mailbox), NOT_CONNECTED_MS),
      );
      this.record('imap-not-connected', `${mailbox}: FullAccess away for ${NOT_CONNECTED_MS / 1000} s`);
    } else {
      const count = random.between(1, 5);
      const code = random() < 0.5 ? 421 : 451;
      await world.control('POST', '/exchange/faults/smtp', { count, code });
      this.record('smtp-4xx', `next ${count} SMTP transactions answered ${code}`);
    }
  }

  /** Ends every emulator fault: scripted ones cleared, FullAccess given back. */
  async stop(): Promise<void> {
    for (const mailbox of [...this.revoked.keys()]) await this.restore(mailbox);
    await this.world.clearFaults();
  }

  private async restore(mailbox: string): Promise<void> {
    const timer = this.revoked.get(mailbox);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.revoked.delete(mailbox);
    await this.world.grantFullAccess(mailbox);
  }
}
