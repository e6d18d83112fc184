import nodemailer from 'nodemailer';
import { mapSmtpError } from '../../mail/smtp/smtp-errors.js';
import { endpointsOf } from '../../providers/microsoft/authority.js';
import { requireProvider, type Database, type EmailAccountRecord } from '../../store/index.js';
import type { AccountCheckContext } from './account-checks.js';
import { failed, ok, type Check } from './check.js';

const SUBMISSION_PORT = 587;

/**
 * SMTP AUTH as the delegate (535 5.7.139: SMTP AUTH disabled for the tenant or the mailbox) and,
 * for a shared mailbox, Send As: Exchange checks it only when a message is submitted, so the
 * doctor submits a short test message from the shared address to the delegate's own mailbox
 * (never to the shared mailbox, whose mail Postern reads).
 *
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 */
export async function checkSmtp(
  db: Database,
  account: EmailAccountRecord,
  context: AccountCheckContext,
): Promise<Check[]> {
  if (account.providerId === null) return [];
  const provider = await requireProvider(db, account.providerId);
  const host = account.smtpHost ?? endpointsOf(provider).smtpHost;
  const port = account.smtpPort ?? SUBMISSION_PORT;
  const login = context.grant.upn ?? account.username;
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: false,
    requireTLS: true,
    ...(context.endpoint.tls.ca === undefined ? {} : { tls: { ca: context.endpoint.tls.ca } }),
    auth: { type: 'OAuth2', user: login, accessToken: context.token },
    connectionTimeout: 20_000,
    greetingTimeout: 20_000,
    socketTimeout: 30_000,
  });
  const errorContext = { host, login, from: account.emailAddress };
  const checks: Check[] = [];
  try {
    await transport.verify();
    checks.push(
      ok('account.smtp', 'SMTP AUTH', `Signed in to ${host}:${port} as ${login} with XOAUTH2 after STARTTLS.`),
    );
  } catch (error) {
    const mapped = mapSmtpError(error, errorContext);
    transport.close();
    return [
      failed(
        'account.smtp',
        'SMTP AUTH',
        `${mapped.message}${typeof mapped.details?.response === 'string' ? ` Exchange said: ${mapped.details.response}` : ''}`,
        mapped.remedy,
        mapped.code,
      ),
    ];
  }
  const shared = login.toLowerCase() !== account.emailAddress.toLowerCase();
  if (shared) {
    try {
      await transport.sendMail({
        envelope: { from: account.emailAddress, to: [login] },
        from: account.emailAddress,
        to: login,
        subject: `Postern check: ${login} can send as ${account.emailAddress}`,
        text: `Postern's doctor submitted this message to check that ${login} may send as ${account.emailAddress}. Nothing needs to be done.`,
        headers: {
          'Auto-Submitted': 'auto-generated',
          'X-Auto-Response-Suppress': 'All',
          'X-Postern-Probe': 'send-as',
        },
      });
      checks.push(
        ok(
          'account.send-as',
          'Send As',
          `Exchange accepted a test message from ${account.emailAddress} submitted by ${login} (sent to ${login}).`,
        ),
      );
    } catch (error) {
      const mapped = mapSmtpError(error, errorContext);
      checks.push(failed('account.send-as', 'Send As', mapped.message, mapped.remedy, mapped.code));
    }
  }
  transport.close();
  return checks;
}
