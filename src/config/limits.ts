/**
 * Every fixed limit of Postern in one place. Limits an administrator may change per object (an
 * account's sending rate, for instance) have their defaults here and their values in the store.
 */
export const LIMITS = {
  /** Largest accepted JSON request body, in bytes. */
  httpBodyBytes: 1024 * 1024,
  /**
   * Longest text kept from a received message's header, in UTF-16 units (the raw MIME keeps the
   * whole header): the subject (RFC 5322 §2.1.1's line length), a display name (the same bound
   * as outgoing names, so a reply can reuse it) and an attachment's original file name.
   */
  storedSubjectChars: 998,
  storedNameChars: 256,
  storedFilenameChars: 1000,
  /**
   * Most To/Cc participants of one received message saved as new contacts (the first ones): mail
   * to a whole company must not fill the address book.
   */
  participantContactsPerMessage: 20,
  /** Sign-in attempts allowed per client address per window. */
  loginAttemptsPerWindow: 10,
  loginWindowMs: 60_000,
  /**
   * Sign-in backoff per username, held in the database (every node sees it): this many failures
   * are free; each further one refuses the username for twice as long as the one before, from
   * `loginBackoffBaseMs` up to `loginBackoffMaxMs`. Failures are forgotten after a quiet day, and at
   * the first success.
   */
  loginFreeFailures: 5,
  loginBackoffBaseMs: 2_000,
  loginBackoffMaxMs: 15 * 60 * 1000,
  loginFailureMemoryMs: 24 * 60 * 60 * 1000,
  /** Own password changes (right or wrong) allowed per user per window. */
  passwordChangesPerWindow: 5,
  passwordChangeWindowMs: 15 * 60 * 1000,
  /** Page sizes of list endpoints (and of the store's queries behind them, whatever is asked). */
  pageSizeDefault: 50,
  pageSizeMax: 200,
  /** Conversation search (`q`, see domain/search-query.ts): longest query and most terms. */
  searchQueryMaxChars: 500,
  searchQueryMaxTerms: 32,
  /**
   * Longest reply draft kept on the server, in UTF-16 units. A draft is saved while the agent
   * types, in a JSON body under `httpBodyBytes`: a longer reply can still be sent, unsaved.
   */
  replyDraftChars: 1_000_000,
  /** Longest HTML of a reply draft (the formatted editor's), in UTF-16 units: its text's, doubled for the tags. */
  replyDraftHtmlChars: 2_000_000,
  /** Furthest a conversation can be snoozed, in days. */
  snoozeMaxDays: 366,
  /** Longest internal note, in characters. */
  noteChars: 10_000,
  /**
   * "X is replying": a colleague's draft saved within this long counts as being written. The
   * composer saves while the agent types, so a draft untouched for this long is stale.
   */
  replyingFreshMs: 120_000,
  /**
   * A draft save tells colleagues (the live stream) only when the draft is new or the save is the
   * first of a new period this long: one note per agent and conversation per period, not per keystroke.
   * Well under {@link replyingFreshMs}, so that a viewer is told again before the indicator expires.
   */
  replyingAnnounceMs: 30_000,
  /** Largest page of the event timelines (`GET /api/events`). */
  eventPageSizeMax: 500,
  /** Session cookie lifetime without activity. */
  sessionIdleMs: 12 * 60 * 60 * 1000,
  /** Absolute session lifetime. */
  sessionMaxMs: 7 * 24 * 60 * 60 * 1000,
  /** Minimum length of a user's password. */
  passwordMinLength: 10,
  /**
   * The live stream (`GET /api/stream`): events kept per node for a reconnect to replay (older:
   * `resync`), streams open at once per session or API token (each browser tab holds one), and
   * the heartbeat comment that keeps idle proxies from closing a quiet stream.
   */
  liveReplayEvents: 2_000,
  liveStreamsPerCaller: 8,
  liveHeartbeatMs: 15_000,
  /** Grace period given to in-flight work on shutdown. */
  shutdownGraceMs: 10_000,
} as const;
