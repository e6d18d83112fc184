/**
 * One webhook POST over node:http/node:https, with the target guard at the connection itself: the
 * `lookup` the socket uses resolves the name, checks every address it gets, and fails the
 * connection if any is refused, so that the address checked is the address connected — a name
 * re-pointed after registration (DNS rebinding) reaches nothing. An IP-literal host, which the
 * socket does not look up, is checked before connecting; once connected, the peer's address is
 * checked again. No connection is reused (each attempt looks up and checks afresh) and no redirect
 * is followed.
 *
 * Only the status comes back: the receiver's body is drained unread and its headers are not kept,
 * since a service reached by mistake could answer with its own secrets.
 *
 * @see ./webhook-target.ts
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { urlPort, WebhookTargetRefused, type WebhookTargetGuard } from './webhook-target.js';

/** A POST to send. */
export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The receiver must answer (status line and headers) within this long. */
  readonly timeoutMs: number;
}

/** The receiver did not answer in time. */
export class WebhookTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'WebhookTimeout';
  }
}

/** A `lookup` for the socket that refuses the connection when any address is refused. */
function guardedLookup(guard: WebhookTargetGuard, port: number): LookupFunction {
  return (hostname, options, callback) => {
    guard.resolve(hostname).then(
      (addresses) => {
        const refusal = guard.checkResolved(addresses, port, hostname);
        if (refusal !== undefined) {
          callback(new WebhookTargetRefused(refusal), '', 0);
          return;
        }
        const usable = addresses.filter((entry) => !options.family || entry.family === options.family);
        const first = usable[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
          return;
        }
        if (options.all)
          callback(
            null,
            usable.map((entry) => ({ address: entry.address, family: entry.family })),
          );
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), '', 0),
    );
  };
}

/**
 * POSTs `request` and resolves with the receiver's status.
 *
 * @throws WebhookTargetRefused when the guard refuses the host or an address
 * @throws WebhookTimeout when the receiver does not answer in time
 * @throws the socket's error when the receiver cannot be reached
 */
export function postWebhook(guard: WebhookTargetGuard, request: WebhookRequest): Promise<number> {
  const url = new URL(request.url);
  const port = urlPort(url);
  const refusal = guard.checkUrl(url);
  if (refusal !== undefined) return Promise.reject(new WebhookTargetRefused(refusal));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const outgoing = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(guard, port),
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
    });
    const timer = setTimeout(() => outgoing.destroy(new WebhookTimeout(request.timeoutMs)), request.timeoutMs);
    outgoing.on('socket', (socket) => {
      socket.once('connect', () => {
        const remote = socket.remoteAddress;
        const connected = remote === undefined ? undefined : guard.checkAddress(remote, port, url.hostname);
        if (connected !== undefined) outgoing.destroy(new WebhookTargetRefused(connected));
      });
    });
    outgoing.on('response', (response) => {
      const status = response.statusCode ?? 0;
      // The body is not wanted: stop reading it and close the connection.
      response.on('error', () => undefined);
      response.destroy();
      finish(() => resolve(status));
    });
    outgoing.on('error', (error) => finish(() => reject(error)));
    outgoing.end(request.body);
  });
}
