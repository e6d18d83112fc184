/**
 * A non-delivery report that arrives in the mailbox is tied to the outgoing message it reports on:
 * the message learns, per recipient, what the report said (shown to the agent beside the message),
 * and its timeline gets `message.bounced` (or `message.delayed`) with the advice. The report itself
 * stays a message of the conversation, marked as a bounce.
 */
import { bounceAdvice } from '../../domain/bounce-advice.js';
import { readDeliveryStatus, reportedMessageId } from '../../mail/mime/delivery-status.js';
import type { ParsedMessage } from '../../mail/mime/parse-message.js';
import { appendEvent, findOutgoingMessage, recordMessageBounces, type Database } from '../../store/index.js';

/** Ties a stored report to the account's outgoing message it is about, when Postern sent that message. */
export async function attachBounceReport(
  tx: Database,
  account: { readonly id: number },
  report: { readonly rowId: number; readonly parsed: ParsedMessage; readonly receivedAt: Date },
): Promise<void> {
  const part = report.parsed.attachments.find((attachment) => attachment.contentType === 'message/delivery-status');
  if (part === undefined) return;
  const recipients = readDeliveryStatus(part.content).filter(
    (recipient) => recipient.action === 'failed' || recipient.action === 'delayed',
  );
  if (recipients.length === 0) return;
  const originalId = reportedMessageId(report.parsed.inReplyTo, report.parsed.attachments);
  if (originalId === undefined) return;
  const outgoing = await findOutgoingMessage(tx, account.id, originalId);
  if (outgoing === undefined) return;
  const at = report.receivedAt.toISOString();
  await recordMessageBounces(
    tx,
    outgoing,
    recipients.map((recipient) => ({ ...recipient, at, reportId: report.rowId })),
  );
  const failed = recipients.filter((recipient) => recipient.action === 'failed');
  const named = failed.length > 0 ? failed : recipients;
  const describe = (r: (typeof recipients)[number]): string =>
    `${r.address}${r.diagnostic === null ? (r.status === null ? '' : ` (${r.status})`) : ` (${r.diagnostic})`}`;
  await appendEvent(tx, {
    scope: 'message',
    scopeId: outgoing,
    type: failed.length > 0 ? 'message.bounced' : 'message.delayed',
    level: failed.length > 0 ? 'error' : 'warn',
    message:
      failed.length > 0
        ? `Not delivered to ${named.map(describe).join('; ')}.`
        : `Delivery delayed to ${named.map(describe).join('; ')}.`,
    data: {
      reportMessageId: report.rowId,
      recipients: recipients.map((r) => ({ ...r, advice: bounceAdvice(r) })),
      remedy: bounceAdvice(named[0] ?? { action: 'failed', status: null }),
    },
  });
}
