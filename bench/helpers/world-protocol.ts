/**
 * What a Postern benchmark and its "world" process say to each other. The world process
 * (`world-process.ts`) runs the Microsoft 365 emulator — identity platform and Exchange — and the
 * outside senders that mail Postern's mailboxes through the emulator's SMTP submission server.
 * It is a process of its own so that Postern's memory and CPU are measured apart from it.
 *
 * The generated tenant: one delegate (`agent@bench.example`) with FullAccess to N shared
 * mailboxes (`queue0001@bench.example` …), M outside senders with their own mailboxes
 * (`sender001@bench.example` …), and a public client allowed to use ROPC with admin consent —
 * the guide's shared-mailbox set-up, once per mailbox. The client holds Exchange's IMAP and SMTP
 * permissions and Microsoft Graph's mail permissions (own and shared mailboxes), so that accounts
 * of either transport can be signed in.
 */
import type { SeedInput } from '../../emulator/directory/schema.js';

/** The tenant's ids and the delegate's password (the emulator runs on loopback only). */
export const WORLD_TENANT_ID = 'b0000000-0000-4000-8000-0000000be1d0';
export const WORLD_CLIENT_ID = 'b0000000-0000-4000-8000-0000000c11e7';
export const WORLD_PASSWORD = 'Bench#2025!';
export const WORLD_AGENT = 'agent@bench.example';
/** Scopes of the delegate's grants minted for the token benchmark (Exchange, with a refresh token). */
export const WORLD_EXCHANGE_SCOPES =
  'https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access';
/** Scopes a sender asks for to submit mail. */
export const WORLD_SMTP_SCOPES = 'https://outlook.office.com/SMTP.Send offline_access';

const GRAPH = 'https://graph.microsoft.com';
/** Microsoft Graph's delegated mail permissions of the world's client (admin consent granted). */
const GRAPH_PERMISSIONS = ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'].map(
  (name) => `${GRAPH}/${name}`,
);
/** A Cloud Provider's scopes for accounts of transport `graph`: Graph's mail permissions and sign-in. */
export const WORLD_GRAPH_SCOPES: readonly string[] = [
  ...GRAPH_PERMISSIONS,
  'openid',
  'profile',
  'email',
  'offline_access',
];
/** Scopes a bare Graph reader asks for to read a shared mailbox. */
export const WORLD_GRAPH_READ_SCOPES = `${GRAPH}/Mail.ReadWrite.Shared offline_access`;

/** Shape of the generated tenant. */
export interface WorldSpec {
  /** Shared mailboxes Postern reads. */
  readonly mailboxes: number;
  /** Outside senders (SMTP submission; Exchange allows each 30 messages a minute). */
  readonly senders: number;
}

/** A request from the benchmark to the world process. */
export type WorldRequest =
  /**
   * Appends `count` messages to the mailbox's Inbox: the ingest benchmark's mixed corpus, small
   * plain-text ones, or large ones of `bytes` each (the memory benchmark's).
   */
  | {
      readonly type: 'populate';
      readonly mailbox: string;
      readonly corpus: 'ingest' | 'small' | 'large';
      readonly count: number;
      readonly bytes?: number;
    }
  | {
      readonly type: 'send';
      readonly id: number;
      readonly sender: number;
      readonly to: string;
      readonly messageId: string;
    }
  | { readonly type: 'stats' }
  /** Microsoft Graph's answers so far and the sends it accepted (the counts are then reset). */
  | { readonly type: 'graph-report' }
  /**
   * Signs the delegate in `count` times (ROPC, Exchange scopes with offline_access), each a grant
   * of its own: one refresh-token chain per sign-in.
   */
  | { readonly type: 'mint-refresh-tokens'; readonly count: number }
  /** Forgets the counted refresh redemptions and token-request times. */
  | { readonly type: 'identity-reset' }
  /** The refresh redemptions per chain and the arrival times of token requests since the reset. */
  | { readonly type: 'identity-report' }
  | { readonly type: 'stop' };

/** A reply or report from the world process. */
export type WorldReply =
  | {
      readonly type: 'ready';
      readonly caFile: string;
      readonly caPem: string;
      readonly authority: string;
      readonly imapPort: number;
      readonly smtpPort: number;
    }
  | { readonly type: 'populated'; readonly count: number; readonly bytes: number }
  /**
   * A submission's times (ms since the epoch, high resolution): the SMTP client started it, the
   * emulator put it in the recipient's Inbox, the client read the `250` reply.
   */
  | {
      readonly type: 'sent';
      readonly id: number;
      readonly submittedAt: number;
      readonly deliveredAt: number;
      readonly acceptedAt: number;
    }
  | { readonly type: 'send-failed'; readonly id: number; readonly error: string }
  | {
      readonly type: 'stats';
      readonly rss: number;
      readonly heapUsed: number;
      readonly cpuMs: number;
      readonly imapConnections: number;
    }
  | {
      readonly type: 'graph-report';
      /** Answers of `/v1.0/…` by status since the last report (e.g. `{ "200": 4000, "429": 3 }`). */
      readonly statuses: Record<string, number>;
      /** `sendMail` calls answered 202 since the last report. */
      readonly sendMailAccepted: number;
      /** The emulator's sent log (its last 10,000), Graph sends only: mailbox, when accepted (ms since the epoch), Message-ID. */
      readonly sent: ReadonlyArray<readonly [mailbox: string, acceptedAt: number, messageId: string]>;
    }
  | { readonly type: 'minted'; readonly refreshTokens: readonly string[] }
  | { readonly type: 'identity-reset' }
  | {
      readonly type: 'identity-report';
      /** `GET /_emulator/refresh-redemptions`. */
      readonly redemptions: {
        readonly chains: number;
        readonly redemptions: number;
        readonly repeatedChains: number;
        readonly extraRedemptions: number;
        readonly maxPerChain: number;
      };
      /** When each token request arrived (ms since the epoch, high resolution), in order. */
      readonly tokenArrivals: readonly number[];
    };

/** `queue0001@bench.example` … */
export function queueMailbox(index: number): string {
  return `queue${String(index).padStart(4, '0')}@bench.example`;
}

/** `sender001@bench.example` … */
export function senderMailbox(index: number): string {
  return `sender${String(index).padStart(3, '0')}@bench.example`;
}

/** The seed of the generated tenant. */
export function worldSeed(spec: WorldSpec): SeedInput {
  const user = (
    n: number,
    upn: string,
    name: string,
  ): { id: string; userPrincipalName: string; displayName: string; password: string } => ({
    id: `b1000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    userPrincipalName: upn,
    displayName: name,
    password: WORLD_PASSWORD,
  });
  return {
    tenants: [
      {
        id: WORLD_TENANT_ID,
        displayName: 'Bench',
        domains: ['bench.onmicrosoft.com', 'bench.example'],
        users: [
          user(1, WORLD_AGENT, 'Bench agent'),
          ...Array.from({ length: spec.senders }, (_, i) => user(100_000 + i, senderMailbox(i + 1), `Sender ${i + 1}`)),
        ],
        mailboxes: Array.from({ length: spec.mailboxes }, (_, i) => ({
          address: queueMailbox(i + 1),
          displayName: `Queue ${i + 1}`,
          fullAccess: [WORLD_AGENT],
          sendAs: [WORLD_AGENT],
        })),
        apps: [
          {
            appId: WORLD_CLIENT_ID,
            displayName: 'Postern bench',
            redirectUris: { publicClient: ['http://localhost'] },
            allowPublicClient: true,
            permissions: {
              delegated: [
                'https://outlook.office.com/IMAP.AccessAsUser.All',
                'https://outlook.office.com/SMTP.Send',
                ...GRAPH_PERMISSIONS,
                'offline_access',
                'openid',
                'profile',
                'email',
              ],
            },
            adminConsentGranted: true,
          },
        ],
      },
    ],
  };
}
