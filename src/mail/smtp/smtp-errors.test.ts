import { describe, expect, it } from 'vitest';
import { enhancedStatusOf, mapSmtpError } from './smtp-errors.js';

const context = { host: 'smtp.office365.com', login: 'andrea@contoso.com', from: 'developers@contoso.com' };

/** A nodemailer-shaped error. */
function smtpError(response: string, command: string, code = 'EENVELOPE'): Error {
  return Object.assign(new Error(`Mail command failed: ${response}`), {
    code,
    response,
    responseCode: Number(response.slice(0, 3)),
    command,
  });
}

describe('mapSmtpError', () => {
  it.each([
    [
      '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SY5P282CA0097.outlook.office365.com]',
      'AUTH XOAUTH2',
      'SMTP_AUTH_DISABLED',
      'needs-admin',
    ],
    [
      '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
      'AUTH XOAUTH2',
      'SMTP_AUTH_DISABLED',
      'needs-admin',
    ],
    [
      '535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com 2024-07-11T11:46:49.042Z 08DCA18218166FB4]',
      'AUTH XOAUTH2',
      'SMTP_AUTH_FAILED',
      'needs-admin',
    ],
    ['530 5.7.57 Client not authenticated to send mail', 'MAIL FROM', 'SMTP_NOT_AUTHENTICATED', 'needs-admin'],
    [
      '554 5.2.252 SendAsDenied; andrea@contoso.com not allowed to send as developers@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=X]',
      'DATA',
      'SMTP_SEND_AS_DENIED',
      'needs-admin',
    ],
    [
      '554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception',
      'DATA',
      'SMTP_QUOTA_EXCEEDED',
      'permanent',
    ],
    [
      '554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded',
      'DATA',
      'SMTP_MAILBOX_FULL',
      'needs-admin',
    ],
    [
      '432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded',
      'MAIL FROM',
      'SMTP_CONCURRENCY_LIMIT',
      'transient',
    ],
    [
      '430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed',
      'DATA',
      'SMTP_MAILBOX_LOGON_FAILED',
      'transient',
    ],
    ['552 5.3.4 Message size exceeds fixed maximum message size', 'DATA', 'SMTP_MESSAGE_TOO_LARGE', 'permanent'],
    [
      '554 5.2.0 MapiExceptionMaxSubmissionExceeded; Message size exceeds maximum size limit.; STOREDRV.Submission.Exception:MessageSubmissionExceededException.MapiExceptionMaxSubmissionExceeded; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot save changes made to an item to store.',
      'DATA',
      'SMTP_MESSAGE_TOO_LARGE',
      'permanent',
    ],
    [
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
      'RCPT TO',
      'SMTP_RECIPIENT_REJECTED',
      'permanent',
    ],
    [
      '550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.',
      'MAIL FROM',
      'SMTP_MESSAGE_REJECTED',
      'permanent',
    ],
    [
      '421 4.3.2 Service not available, closing transmission channel',
      'MAIL FROM',
      'SMTP_TEMPORARY_FAILURE',
      'transient',
    ],
    ['451 4.7.500 Server busy. Please try again later.', 'DATA', 'SMTP_TEMPORARY_FAILURE', 'transient'],
  ])('%s → %s', (response, command, code, kind) => {
    const error = mapSmtpError(
      smtpError(response, command, command.startsWith('AUTH') ? 'EAUTH' : 'EENVELOPE'),
      context,
    );
    expect(error.code).toBe(code);
    expect(error.kind).toBe(kind);
    expect(error.details).toMatchObject({
      response,
      responseCode: Number(response.slice(0, 3)),
      command,
      login: 'andrea@contoso.com',
    });
  });

  it("gives 535 5.7.139 the guide's remedy: enable authenticated SMTP, or use the Graph transport", () => {
    const error = mapSmtpError(
      smtpError(
        '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [X]',
        'AUTH XOAUTH2',
        'EAUTH',
      ),
      context,
    );
    expect(error.message).toContain('disabled for the tenant');
    expect(error.remedy).toContain(
      'SMTP AUTH is disabled for the tenant (or this mailbox): enable authenticated SMTP for the mailbox, or use the Graph transport',
    );
  });

  it('names the delegate and the shared mailbox in the SendAsDenied remedy', () => {
    const error = mapSmtpError(smtpError('554 5.2.252 SendAsDenied; x', 'DATA'), context);
    expect(error.message).toContain('the delegate has no Send As right on the shared mailbox');
    expect(error.remedy).toContain(
      'Add-RecipientPermission developers@contoso.com -Trustee andrea@contoso.com -AccessRights SendAs',
    );
  });

  describe('continuous-error throttling (550 5.2.251–5.2.255 Sender throttled)', () => {
    it.each([
      [
        '550 5.2.251 Sender throttled due to continuous mailbox full errors.',
        'the mailbox is full',
        'Free space in developers@contoso.com',
      ],
      [
        '550 5.2.252 Sender throttled due to continuous send as denied errors.',
        'Send As was denied',
        'Add-RecipientPermission developers@contoso.com -Trustee andrea@contoso.com -AccessRights SendAs',
      ],
      [
        '550 5.2.253 Sender throttled due to continuous invalid license errors.',
        'the mailbox has no valid licence',
        'Assign andrea@contoso.com an Exchange Online licence',
      ],
      [
        '550 5.2.254 Sender throttled due to continuous too many recipients errors.',
        'messages had too many recipients',
        'Send to fewer recipients per message',
      ],
      [
        '550 5.2.255 Sender throttled due to continuous invalid recipients errors.',
        'messages had invalid recipients',
        'Correct or remove the recipient addresses that do not exist',
      ],
    ])('%s → SMTP_SENDER_THROTTLED naming %s, with that remedy', (response, cause, fix) => {
      const error = mapSmtpError(smtpError(response, 'MAIL FROM'), context);
      expect(error.code).toBe('SMTP_SENDER_THROTTLED');
      expect(error.kind).toBe('needs-admin');
      expect(error.message).toContain(`because of continuous errors: ${cause} (${response})`);
      expect(error.remedy).toContain(fix);
      expect(error.remedy).toContain(
        "Postern holds the account's sending meanwhile instead of retrying into the block",
      );
      expect(error.details).toMatchObject({ response, responseCode: 550, enhancedStatus: response.slice(4, 11) });
    });

    it('keeps 554 5.2.252 SendAsDenied as SMTP_SEND_AS_DENIED, and a 5.2.25x without "Sender throttled" out of it', () => {
      const denied = mapSmtpError(
        smtpError(
          '554 5.2.252 SendAsDenied; andrea@contoso.com not allowed to send as developers@contoso.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] [Hostname=X]',
          'DATA',
        ),
        context,
      );
      expect(denied.code).toBe('SMTP_SEND_AS_DENIED');
      expect(mapSmtpError(smtpError('550 5.2.253 Some other refusal', 'MAIL FROM'), context).code).toBe(
        'SMTP_MESSAGE_REJECTED',
      );
    });
  });

  it('tells a certificate problem (needs an administrator) from a dropped connection (retried)', () => {
    const tls = mapSmtpError(
      Object.assign(new Error('Error initiating TLS - self-signed certificate in certificate chain'), {
        code: 'ETLS',
        command: 'STARTTLS',
      }),
      context,
    );
    expect([tls.code, tls.kind]).toEqual(['SMTP_TLS_FAILED', 'needs-admin']);
    const untrusted = mapSmtpError(
      Object.assign(new Error('self-signed certificate'), {
        code: 'ESOCKET',
        originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT',
        command: 'CONN',
      }),
      context,
    );
    expect([untrusted.code, untrusted.kind]).toEqual(['SMTP_TLS_FAILED', 'needs-admin']);
    const refused = mapSmtpError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:587'), {
        code: 'ESOCKET',
        originalCode: 'ECONNREFUSED',
        command: 'CONN',
      }),
      context,
    );
    expect([refused.code, refused.kind]).toEqual(['SMTP_CONNECTION_FAILED', 'transient']);
    const timeout = mapSmtpError(
      Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT', command: 'CONN' }),
      context,
    );
    expect(timeout.code).toBe('SMTP_CONNECTION_FAILED');
    expect(mapSmtpError(new Error('boom'), context).code).toBe('SMTP_CONNECTION_FAILED');
  });

  it('names the endpoint, host and port, and the cause of a network failure', () => {
    const at = { ...context, port: 587 };
    const dns = mapSmtpError(
      Object.assign(new Error('getaddrinfo ENOTFOUND smtp.contoso.invalid'), {
        code: 'EDNS',
        originalCode: 'ENOTFOUND',
        command: 'CONN',
      }),
      at,
    );
    expect(dns.message).toBe(
      'The SMTP server smtp.office365.com:587 could not be reached: its name could not be resolved (DNS ENOTFOUND).',
    );
    expect(dns.details).toMatchObject({ host: 'smtp.office365.com', port: 587 });
    const refused = mapSmtpError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET', originalCode: 'ECONNREFUSED' }),
      at,
    );
    expect(refused.message).toBe(
      'The connection to the SMTP server smtp.office365.com:587 was refused: nothing accepts connections on that port there.',
    );
    const silent = mapSmtpError(
      Object.assign(new Error('Greeting never received'), { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' }),
      at,
    );
    expect(silent.message).toBe(
      'The SMTP server smtp.office365.com:587 did not answer in time (GREETING_TIMEOUT: Greeting never received): the connection hangs somewhere on the way or at the server.',
    );
    expect([dns.kind, refused.kind, silent.kind]).toEqual(['transient', 'transient', 'transient']);
  });

  it("maps an app-only 535 5.7.3 to SMTP_APP_NOT_REGISTERED, its remedy naming the app's ids and both ways to send", () => {
    const reply =
      '535 5.7.3 Authentication unsuccessful [SN2PR00CA0018.namprd00.prod.outlook.com 2024-07-11T11:46:49.042Z 08DCA18218166FB4]';
    const app = { appId: '5e7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a03', objectId: '0b1c2d3e-0000-4000-8000-00000000e001' };
    const error = mapSmtpError(smtpError(reply, 'AUTH XOAUTH2', 'EAUTH'), {
      ...context,
      login: 'developers@contoso.com',
      app,
    });
    expect(error.code).toBe('SMTP_APP_NOT_REGISTERED');
    expect(error.kind).toBe('needs-admin');
    expect(error.message).toContain('app-only SMTP sign-in as developers@contoso.com');
    expect(error.remedy).toContain(`New-ServicePrincipal -AppId ${app.appId} -ObjectId ${app.objectId}`);
    expect(error.remedy).toContain(
      `Add-MailboxPermission -Identity developers@contoso.com -User ${app.objectId} -AccessRights FullAccess`,
    );
    expect(error.remedy).toContain(`New-ManagementRoleAssignment -App ${app.appId} -Role 'Application SMTP.SendAsApp'`);
    // Unknown ids: placeholders, never a wrong id; a delegated sign-in keeps SMTP_AUTH_FAILED.
    const unknown = mapSmtpError(smtpError(reply, 'AUTH XOAUTH2', 'EAUTH'), {
      ...context,
      app: { appId: null, objectId: null },
    });
    expect(unknown.remedy).toContain(
      'New-ServicePrincipal -AppId <application id> -ObjectId <enterprise application object id>',
    );
    expect(mapSmtpError(smtpError(reply, 'AUTH XOAUTH2', 'EAUTH'), context).code).toBe('SMTP_AUTH_FAILED');
    // 5.7.139 stays SMTP AUTH disabled, whoever signs in.
    const disabled = mapSmtpError(
      smtpError('535 5.7.139 Authentication unsuccessful, basic authentication is disabled.', 'AUTH XOAUTH2', 'EAUTH'),
      { ...context, app },
    );
    expect(disabled.code).toBe('SMTP_AUTH_DISABLED');
  });

  it('keeps the original error as cause and out of the JSON', () => {
    const original = smtpError('421 4.3.2 Service not available', 'MAIL FROM');
    const error = mapSmtpError(original, context);
    expect(error.cause).toBe(original);
    expect(JSON.stringify(error)).not.toContain('Mail command failed');
  });
});

describe('enhancedStatusOf', () => {
  it('reads the enhanced status code after the reply code', () => {
    expect(enhancedStatusOf('535 5.7.139 Authentication unsuccessful')).toBe('5.7.139');
    expect(enhancedStatusOf('250-2.0.0 OK')).toBe('2.0.0');
    expect(enhancedStatusOf('421 Service not available')).toBeNull();
    expect(enhancedStatusOf(null)).toBeNull();
  });
});
