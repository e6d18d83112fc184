import nodemailer from 'nodemailer';
import { isPosternError } from '../../errors/index.js';
import { requireSmtp } from '../../mail/access/mailbox-route.js';
import {
  SMTP_PROBE_TIMEOUTS,
  smtpConnectionOptions,
  type SmtpEndpoint,
  type SmtpTimeouts,
} from '../../mail/access/smtp-transport.js';
import { loadCa } from '../../mail/access/tls-trust.js';
import { mapSmtpError } from '../../mail/smtp/smtp-errors.js';
import type { Database, EmailAccountRecord } from '../../store/index.js';
import { mailboxRouteOf } from '../accounts/mailbox-connection.js';
import type { AccountCheckContext } from './account-checks.js';
import { failed, ok, skipped, type Check } from './check.js';

/**
 * SMTP AUTH as the delegate (535 5.7.139: SMTP AUTH disabled for the tenant or the mailbox) and,
 * for a shared mailbox, Send As: Exchange checks it only when a message is submitted, so — when
 * asked (`sendTest`) — the doctor submits a short test message from the shared address to the delegate's own mailbox
 * (never to the shared mailbox, whose mail Postern reads).
 *
 * @see https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission
 */
export async function checkSmtp(
  db: Database,
  account: EmailAccountRecord,
  context: AccountCheckContext,
  timeouts: SmtpTimeouts = SMTP_PROBE_TIMEOUTS,
): Promise<Check[]> {
  if (account.providerId === null) return [];
  let endpoint: SmtpEndpoint;
  try {
    const route = await mailboxRouteOf(db, account);
    endpoint = { ...requireSmtp(route), ca: loadCa(route.trust, 'smtp') };
  } catch (error) {
    if (!isPosternError(error)) throw error;
    return [failed('account.smtp', 'SMTP AUTH', error.message, error.remedy, error.code)];
  }
  const { host, port } = endpoint;
  const login = context.grant.upn ?? account.username;
  const transport = nodemailer.createTransport({
    ...smtpConnectionOptions(endpoint, timeouts),
    auth: { type: 'OAuth2', user: login, accessToken: context.token },
  });
  // An app-only sign-in (no user): a refusal names the service principal to register, with its ids.
  const app =
    context.grant.upn === null
      ? { app: { appId: context.claims?.appId ?? null, objectId: context.claims?.objectId ?? null } }
      : {};
  const errorContext = { host, port, login, from: account.emailAddress, ...app };
  const checks: Check[] = [];
  try {
    await transport.verify();
    checks.push(
      ok(
        'account.smtp',
        'SMTP AUTH',
        `Signed in to ${host}:${port} as ${login} with XOAUTH2 ${endpoint.tls === 'implicit' ? 'over implicit TLS' : 'after STARTTLS'}.`,
      ),
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
  if (shared && !context.sendTest) {
    checks.push(
      skipped(
        'account.send-as',
        'Send As',
        `Not tested: Exchange checks that ${login} may send as ${account.emailAddress} only when a message is submitted. "Send a test message" submits one, from ${account.emailAddress} to ${login}.`,
      ),
    );
  } else if (shared) {
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
