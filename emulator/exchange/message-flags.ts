/**
 * Message flags as Exchange Online keeps them: the IMAP system flags plus `$MDNSent`, and nothing
 * else — its PERMANENTFLAGS carry no `\*`, so keywords cannot be stored and a STORE naming one is
 * refused with `BAD Command Argument Error. 11`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3501#section-2.3.2
 */

/** The flags of Exchange's `FLAGS` and `PERMANENTFLAGS` responses, in Exchange's order. */
export const EXCHANGE_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$MDNSent'] as const;

export type MessageFlag = (typeof EXCHANGE_FLAGS)[number];

const CANONICAL = new Map<string, MessageFlag>(EXCHANGE_FLAGS.map((flag) => [flag.toLowerCase(), flag]));

/** The canonical spelling of a flag Exchange stores, or undefined for any other flag or keyword. */
export function canonicalFlag(flag: string): MessageFlag | undefined {
  return CANONICAL.get(flag.toLowerCase());
}
