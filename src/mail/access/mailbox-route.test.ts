import { describe, expect, it } from 'vitest';
import { isPosternError } from '../../errors/index.js';
import { createImapClient } from './imap-client.js';
import { requireGraph, requireImap, requireSmtp, resolveMailboxRoute, type AccessAccount } from './mailbox-route.js';
import { smtpConnectionOptions } from './smtp-transport.js';
import { loadCa } from './tls-trust.js';

const microsoft: AccessAccount = {
  key: 'DEV',
  username: 'developers@contoso.com',
  modernAuth: true,
  imapHost: null,
  imapPort: null,
  smtpHost: null,
  smtpPort: null,
};
const otherServer: AccessAccount = {
  ...microsoft,
  key: 'OTH',
  username: 'support',
  modernAuth: false,
  imapHost: 'imap.example.org',
  smtpHost: 'smtp.example.org',
};
const cloud = {
  imapHost: 'outlook.office365.com',
  smtpHost: 'smtp.office365.com',
  graphApi: 'https://graph.microsoft.com/v1.0',
  caFile: '/etc/ca.pem',
};

describe('resolveMailboxRoute', () => {
  it("takes a Microsoft 365 account's hosts, ports and trust from its cloud and signs in with XOAUTH2 as the mailbox", () => {
    const route = resolveMailboxRoute(microsoft, cloud);
    expect(route).toMatchObject({
      imap: { host: 'outlook.office365.com', port: 993, tls: 'implicit' },
      smtp: { host: 'smtp.office365.com', port: 587, tls: 'starttls' },
      graph: { apiBase: 'https://graph.microsoft.com/v1.0', mailbox: 'developers@contoso.com' },
      trust: { caFile: '/etc/ca.pem' },
      signIn: 'xoauth2',
      user: 'developers@contoso.com',
    });
  });

  it("lets the account's own hosts and ports win, implicit TLS on 465", () => {
    const route = resolveMailboxRoute({ ...microsoft, imapHost: '127.0.0.1', imapPort: 9993, smtpPort: 465 }, cloud);
    expect(route.imap).toEqual({ host: '127.0.0.1', port: 9993, tls: 'implicit' });
    expect(route.smtp).toEqual({ host: 'smtp.office365.com', port: 465, tls: 'implicit' });
  });

  it('gives an account without Modern Authentication its own servers, the system CAs and a password, whatever provider is left on it', () => {
    const route = resolveMailboxRoute(otherServer, cloud);
    expect(route).toMatchObject({
      imap: { host: 'imap.example.org', port: 993 },
      smtp: { host: 'smtp.example.org', port: 587 },
      graph: null,
      trust: { caFile: null },
      signIn: 'password',
      user: 'support',
    });
  });

  it('names what is missing: an IMAP host, a Cloud Provider, an SMTP host', () => {
    const noImap = resolveMailboxRoute({ ...otherServer, imapHost: null, smtpHost: null }, null);
    expect(() => requireImap(noImap)).toThrow(/has no IMAP host/);
    expect(() => requireSmtp(noImap)).toThrow(/has no SMTP host/);
    expect(() => requireGraph(noImap)).toThrow(/Microsoft Graph reaches only Microsoft 365 mailboxes/);
    const noCloud = resolveMailboxRoute(microsoft, null);
    for (const require of [requireImap, requireGraph]) {
      try {
        require(noCloud);
        expect.unreachable();
      } catch (error) {
        expect(isPosternError(error, 'VALIDATION_FAILED') && error.remedy).toBe(
          'Choose a Cloud Provider for the account.',
        );
      }
    }
  });
});

describe('the connection factories', () => {
  it('always attach a listener for imapflow’s error event, so that a dropped session cannot end the process', () => {
    const seen: unknown[] = [];
    const client = createImapClient({ host: '127.0.0.1', port: 1, auth: { user: 'a', pass: 'b' } });
    expect(client.listenerCount('error')).toBe(1);
    expect(() =>
      client.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })),
    ).not.toThrow();
    const told = createImapClient({
      host: '127.0.0.1',
      port: 1,
      auth: { user: 'a', accessToken: 't' },
      onError: (error) => seen.push(error),
    });
    told.emit('error', new Error('gone'));
    expect(seen).toHaveLength(1);
  });

  it('make SMTP require STARTTLS except on 465, with a timeout for every step', () => {
    const starttls = smtpConnectionOptions(
      { host: 'smtp.office365.com', port: 587 },
      {
        connectionMs: 1,
        greetingMs: 2,
        socketMs: 3,
      },
    );
    expect(starttls).toMatchObject({
      secure: false,
      requireTLS: true,
      connectionTimeout: 1,
      greetingTimeout: 2,
      socketTimeout: 3,
    });
    expect(starttls.tls).toEqual({ minVersion: 'TLSv1.2' });
    expect(
      smtpConnectionOptions({ host: 'h', port: 465 }, { connectionMs: 1, greetingMs: 1, socketMs: 1 }),
    ).toMatchObject({
      secure: true,
      requireTLS: false,
    });
  });
});

describe("the account's own CAs", () => {
  it('are trusted besides the provider CA file, for an account with or without Modern Authentication', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(resolveMailboxRoute({ ...otherServer, tlsCaPem: pem }, cloud).trust).toEqual({ caFile: null, caPem: pem });
    expect(resolveMailboxRoute({ ...microsoft, tlsCaPem: pem }, cloud).trust).toEqual({
      caFile: '/etc/ca.pem',
      caPem: pem,
    });
    expect(loadCa({ caFile: null, caPem: pem }, 'imap')).toBe(pem);
    expect(loadCa({ caFile: null, caPem: null }, 'smtp')).toBeNull();
  });
});
