/**
 * What an agent should do about a recipient a non-delivery report names, from its enhanced status
 * code (RFC 3463: class.subject.detail) and action.
 *
 * @see https://www.rfc-editor.org/rfc/rfc3463 (enhanced mail system status codes)
 * @see https://learn.microsoft.com/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online
 */

/** Advice in plain words for a reported recipient. */
export function bounceAdvice(report: { readonly action: string; readonly status: string | null }): string {
  const status = report.status ?? '';
  if (report.action === 'delayed' || status.startsWith('4.'))
    return 'Delivery is delayed: the mail system keeps trying by itself, usually for up to two days. Nothing to do yet.';
  if (status.startsWith('5.1.'))
    return "The address does not exist at the recipient's domain. Check it with the customer (a typo is the usual cause), correct it and reply again.";
  if (status === '5.2.2' || status.startsWith('5.2.2'))
    return "The recipient's mailbox is full. Reply again later, or reach the customer another way.";
  if (status.startsWith('5.2.'))
    return "The recipient's mailbox does not accept mail now (disabled or blocked). Reach the customer another way.";
  if (status.startsWith('5.4.'))
    return "The recipient's domain could not be reached (its DNS or mail routing is broken). Check the part of the address after @.";
  if (status.startsWith('5.7.'))
    return "The recipient's mail system refused the message by its policy; the report's words name the rule. The recipient's administrator can lift it.";
  return "The message could not be delivered; the report's words give the reason. Correct the address or the message and reply again.";
}
