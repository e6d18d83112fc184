/**
 * The properties of Graph's message resource the emulator serves: which exist (for `$select`,
 * `$filter`, `$orderby` and PATCH bodies), in Graph's order, and which a response carries when the
 * request names none (`uniqueBody` and `internetMessageHeaders` only when selected).
 *
 * @see https://learn.microsoft.com/graph/api/resources/message (properties)
 */

/** Every message property, in the order Graph writes them. */
const MESSAGE_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'uniqueBody',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
  'internetMessageHeaders',
] as const;

/** A message property name, canonical spelling. */
export type MessageProperty = (typeof MESSAGE_PROPERTIES)[number];

/** What a message carries without `$select`. */
export const DEFAULT_PROPERTIES: readonly MessageProperty[] = MESSAGE_PROPERTIES.filter(
  (p) => p !== 'uniqueBody' && p !== 'internetMessageHeaders',
);

const BY_LOWER = new Map<string, MessageProperty>(MESSAGE_PROPERTIES.map((p) => [p.toLowerCase(), p]));

/** The canonical spelling of a message property (Graph matches names case-insensitively), or undefined. */
export function canonicalProperty(name: string): MessageProperty | undefined {
  return BY_LOWER.get(name.trim().toLowerCase());
}
