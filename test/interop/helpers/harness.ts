/**
 * Postern (in-process, its mailbox and outbox workers running), the emulator (identity platform:
 * tokens, and the introspection Dovecot asks), and the real Dovecot and Postfix — one harness for
 * each interop suite, stopped in reverse order.
 */
import type { LightMyRequestResponse } from 'fastify';
import { CONTOSO, startPair, type Pair } from '../../providers/helpers.js';
import { startInteropServers, type InteropServers } from './servers.js';

export { CONTOSO };

export interface InteropHarness {
  pair: Pair;
  servers: InteropServers;
  api(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A customer's password on Dovecot (the test's own client delivers mail with it). */
export const FEEDER_PASSWORD = 'feeder password for the interop suite';

export async function startInteropHarness(passwords: Record<string, string>): Promise<InteropHarness> {
  const pair = await startPair();
  let servers: InteropServers;
  try {
    servers = await startInteropServers({
      introspectionUrl: `${pair.emulator.base}/resource-server/introspect`,
      introspectionCaFile: pair.emulator.handle.caFile,
      passwords,
    });
  } catch (error) {
    await pair.close();
    throw error;
  }
  try {
    await pair.postern.runtime.startRoles(['outboxDispatch', 'mailboxSync'], {
      outboxDispatch: { pollIntervalMs: 50 },
      mailboxSync: { tuning: { backoff: { baseMs: 50, maxMs: 500, needsAdminMinMs: 200 } } },
    });
  } catch (error) {
    await servers.stop();
    await pair.close();
    throw error;
  }
  return {
    pair,
    servers,
    api: (method, url, payload) =>
      pair.postern.app.inject({
        method,
        url,
        headers: { authorization: pair.admin },
        ...(payload === undefined ? {} : { payload }),
      }),
    async close() {
      await pair.close();
      await servers.stop();
    },
  };
}

/** A plain customer message, CRLF line ends. */
export function customerMessage(fields: { to: string; subject: string; messageId: string; text: string }): string {
  return [
    'From: Carla Customer <carla@customer.example>',
    `To: ${fields.to}`,
    `Subject: ${fields.subject}`,
    `Message-ID: ${fields.messageId}`,
    'Date: Wed, 02 Dec 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.text,
    '',
  ].join('\r\n');
}
