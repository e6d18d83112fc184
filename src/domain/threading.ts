/**
 * Threading: which conversation (Interaction) an inbound message belongs to.
 *
 * Order of evidence, strongest first:
 * 1. In-Reply-To naming a message Postern knows on the same account (sent or received);
 * 2. References, most recent first (the last id is the direct parent, the first the root);
 * 3. an interaction token in the subject (see `subject.ts`), issued by the same account;
 * 4. otherwise a new interaction.
 *
 * Headers are compared only with messages of the same account: a customer writing to two of our
 * mailboxes opens two conversations, each answered from its own address.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4 (In-Reply-To, References)
 * @see https://www.jwz.org/doc/threading.html (why References beats subject matching)
 */

/** The threading keys of one message (ids canonical as `message-id.ts` writes them). */
export interface ThreadKeys {
  readonly inReplyTo: readonly string[];
  readonly references: readonly string[];
  /** Tokens found in the subject, in stored form (`#P123-7KQX`). */
  readonly subjectTokens: readonly string[];
}

/** What the store found for those keys on the same account. */
export interface ThreadMatches {
  /** Known Message-ID → the interaction its message belongs to. */
  readonly byMessageId: ReadonlyMap<string, number>;
  /** Subject token → the interaction that owns it. */
  readonly byToken: ReadonlyMap<string, number>;
}

/** The decision. */
export type ThreadDecision =
  | {
      readonly kind: 'reply';
      readonly interactionId: number;
      readonly via: 'in-reply-to' | 'references';
      readonly messageId: string;
    }
  | { readonly kind: 'token'; readonly interactionId: number; readonly token: string }
  | { readonly kind: 'new' };

/** The Message-IDs to look up, in the order of {@link decideThread}'s preference. */
export function threadLookupIds(keys: ThreadKeys): string[] {
  return [...new Set([...keys.inReplyTo, ...[...keys.references].reverse()])];
}

/** Picks the interaction, or a new one; see the module comment for the order. */
export function decideThread(keys: ThreadKeys, matches: ThreadMatches): ThreadDecision {
  for (const messageId of keys.inReplyTo) {
    const interactionId = matches.byMessageId.get(messageId);
    if (interactionId !== undefined) return { kind: 'reply', interactionId, via: 'in-reply-to', messageId };
  }
  for (const messageId of [...keys.references].reverse()) {
    const interactionId = matches.byMessageId.get(messageId);
    if (interactionId !== undefined) return { kind: 'reply', interactionId, via: 'references', messageId };
  }
  for (const token of keys.subjectTokens) {
    const interactionId = matches.byToken.get(token);
    if (interactionId !== undefined) return { kind: 'token', interactionId, token };
  }
  return { kind: 'new' };
}
