/**
 * Postern as a benchmark runs it: the real runtime (config, logs, the embedded SQLite database in
 * a fresh data directory, services), a Cloud Provider pointing at the world's emulator as a custom
 * authority, the delegate signed in (ROPC), and Email Accounts created through the account
 * service — the same path as the API and the CLI. `openPosternRuntime` alone for accounts that
 * sign in with a password (no provider).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRuntime, type Runtime } from '../../src/cli/runtime.js';
import { isPosternError } from '../../src/errors/index.js';
import type { EmailAccountRecord } from '../../src/store/index.js';
import type { WorldReady } from './world.js';
import { WORLD_AGENT, WORLD_CLIENT_ID, WORLD_PASSWORD, WORLD_TENANT_ID, queueMailbox } from './world-protocol.js';

/** Postern opened for a benchmark, with a Cloud Provider for the world's tenant. */
export interface PosternSide extends PosternRuntime {
  readonly providerId: number;
}

/** Options of {@link openPostern}. */
export interface OpenPosternOptions {
  /** Default `info`, Postern's default. */
  readonly logLevel?: string;
  /** Extra configuration variables. */
  readonly env?: Record<string, string>;
  /** Called with the fresh data directory before Postern opens it (e.g. to pre-create the database). */
  readonly prepareDataDir?: (dataDir: string) => void;
  /** The Cloud Provider's scopes; default the provider's own (IMAP and SMTP). */
  readonly scopes?: readonly string[];
  /** A data directory to open (created if missing) and keep at close; default a fresh one, removed. */
  readonly dataDir?: string;
}

/** Postern's runtime in a fresh data directory, without a Cloud Provider. */
export interface PosternRuntime {
  readonly runtime: Runtime;
  readonly dataDir: string;
  /** Closes the runtime and removes the data directory. */
  close(): Promise<void>;
}

/** Opens Postern in a fresh data directory (for password accounts, or before a provider is added). */
export async function openPosternRuntime(options: Omit<OpenPosternOptions, 'scopes'> = {}): Promise<PosternRuntime> {
  const kept = options.dataDir !== undefined;
  if (options.dataDir !== undefined) fs.mkdirSync(options.dataDir, { recursive: true });
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'postern-bench-'));
  const remove = (): void => {
    if (!kept) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    options.prepareDataDir?.(dataDir);
    const runtime = await openRuntime({
      cwd: dataDir,
      env: {
        POSTERN_DATA_DIR: dataDir,
        POSTERN_LOG_LEVEL: options.logLevel ?? 'info',
        POSTERN_LOG_CONSOLE: 'false',
        ...options.env,
      },
      quiet: true,
    });
    return {
      runtime,
      dataDir,
      async close() {
        await runtime.close();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}

/** Opens Postern in a fresh data directory and signs the world's delegate in. */
export async function openPostern(world: WorldReady, options: OpenPosternOptions = {}): Promise<PosternSide> {
  const opened = await openPosternRuntime(options);
  const { runtime } = opened;
  try {
    const { provider } = await runtime.services.providers.create({
      name: 'Bench tenant',
      applicationId: WORLD_CLIENT_ID,
      tenantId: WORLD_TENANT_ID,
      cloud: 'custom',
      authorityUrl: world.authority,
      caFile: world.caFile,
      grantType: 'password',
      ...(options.scopes === undefined ? {} : { scopes: [...options.scopes] }),
    });
    try {
      await runtime.services.signIn.signInWithPassword(provider.id, WORLD_AGENT, WORLD_PASSWORD);
    } catch (error) {
      // A keep-alive socket the emulator closed meanwhile fails the (non-idempotent) token POST
      // with "other side closed" when the event loop was too busy to notice: sign in once more.
      if (!isPosternError(error, 'AUTH_PROVIDER_UNAVAILABLE')) throw error;
      await runtime.services.signIn.signInWithPassword(provider.id, WORLD_AGENT, WORLD_PASSWORD);
    }
    return { ...opened, providerId: provider.id };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

/**
 * Creates the Email Accounts of shared mailboxes `queue0001@` … `queue<count>@` through the
 * account service, the delegate as modern authentication email, IMAP at the world's emulator —
 * or, with `transport: 'graph'`, Microsoft Graph at the emulator's origin (the provider must then
 * hold Graph's scopes, `WORLD_GRAPH_SCOPES`). Accounts share one contact list, as a helpdesk's
 * queues do.
 */
export async function createQueueAccounts(
  side: PosternSide,
  world: WorldReady,
  count: number,
  settings: { readonly firstSync?: { kind: 'all' } | { kind: 'new' }; readonly transport?: 'graph' } = {},
): Promise<EmailAccountRecord[]> {
  const list = await side.runtime.services.lists.create({ name: 'Customers' });
  const accounts: EmailAccountRecord[] = [];
  for (let i = 1; i <= count; i += 1) {
    const view = await side.runtime.services.accounts.create({
      name: `Queue ${i}`,
      key: `Q${String(i).padStart(4, '0')}`,
      emailAddress: queueMailbox(i),
      username: queueMailbox(i),
      providerId: side.providerId,
      modernAuthEmail: WORLD_AGENT,
      defaultListId: list.id,
      ...(settings.transport === 'graph'
        ? { transport: 'graph' as const }
        : { imapHost: '127.0.0.1', imapPort: world.imapPort }),
      firstSync: settings.firstSync ?? { kind: 'all' },
    });
    accounts.push(view.account);
  }
  return accounts;
}
