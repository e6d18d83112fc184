/**
 * What the outbox benchmark's two processes say to each other: the emulator (Exchange with its
 * submission limits) in one, Postern's dispatcher under measurement in the other.
 */

export type OutboxBenchRequest = { type: 'sent' } | { type: 'stats' } | { type: 'stop' };

export type OutboxBenchReply =
  | { type: 'ready'; caFile: string; base: string; smtpPort: number }
  /** Every accepted submission: the authenticated mailbox, when it was accepted, its Message-ID. */
  | { type: 'sent'; records: Array<[mailbox: string, acceptedAtMs: number, messageId: string]> }
  | { type: 'stats'; rss: number; cpuMs: number };
