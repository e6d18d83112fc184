/**
 * Issue 16, network faults toward webhook receivers: the receiver's name does not resolve (a
 * `.invalid` name, failed at once by the test setup as DNS would), its port refuses connections,
 * or it is a black hole (accepts the connection, never answers: only the delivery timeout,
 * shortened here, ends the wait). Each time the process keeps running, the delivery stays pending
 * and is tried again later — never dropped — its log names the receiver's host:port and the cause
 * (never the URL's path or its secret query), the webhook counts the failures, and once the
 * receiver answers the event is delivered exactly once.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

const SECRET_QUERY = 'token=s3cr3t-in-the-query';

let postern: TestPostern;
let admin: string;
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
let answering: http.Server;
const received: string[] = [];

/** A port nobody listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  postern = await startTestPostern({ POSTERN_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' });
  admin = (await postern.bearer('admin')).authorization;
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  answering = http.createServer((request, response) => {
    received.push(String(request.headers['postern-delivery']));
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => answering.listen(0, '127.0.0.1', resolve));
  // Half a second for an answer (production: 10 s), retries from 200 ms on: the test meets a
  // black hole and the backoff quickly.
  const roles = await postern.runtime.startRoles(['webhooks'], {
    webhooks: { pollIntervalMs: 20, timeoutMs: 500, retry: { baseMs: 200, maxDelayMs: 2_000 } },
  });
  if (roles.webhooks === undefined) throw new Error('the webhook dispatcher did not start');
}, 60_000);
afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
  answering?.closeAllConnections();
  await new Promise<void>((resolve) => answering?.close(() => resolve()));
  await postern?.close();
});

interface Delivery {
  id: number;
  state: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

async function api<T>(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, status = 200): Promise<T> {
  const response = await postern.app.inject({
    method,
    url,
    headers: { authorization: admin },
    ...(payload === undefined ? {} : { payload }),
  });
  expect(response.statusCode, response.body).toBe(status);
  return response.json<T>();
}

describe('a webhook receiver out of reach', () => {
  const cases = [
    {
      name: 'a name that does not resolve',
      key: 'dns',
      endpoint: async () => ({ host: 'hooks.customer.invalid', port: 8080 }),
      says: /The receiver hooks\.customer\.invalid:8080 could not be reached: its name could not be resolved \(DNS ENOTFOUND\)/,
    },
    {
      name: 'nobody listening (connection refused)',
      key: 'refused',
      endpoint: async () => ({ host: '127.0.0.1', port: await closedPort() }),
      says: /The connection to the receiver 127\.0\.0\.1:\d+ was refused/,
    },
    {
      name: 'a black hole (the receiver never answers)',
      key: 'hole',
      endpoint: async () => ({ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port }),
      says: /The receiver 127\.0\.0\.1:\d+ did not answer within 500 ms/,
    },
  ];

  for (const fault of cases) {
    it(
      `${fault.name}: the delivery waits for a retry naming the endpoint; it is delivered once reachable`,
      { timeout: 60_000 },
      async () => {
        const endpoint = await fault.endpoint();
        const hook = await api<{ id: number }>(
          'POST',
          '/api/webhooks',
          { url: `http://${endpoint.host}:${endpoint.port}/hooks/${fault.key}?${SECRET_QUERY}`, events: ['*'] },
          201,
        );
        const ping = await api<{ id: number }>('POST', `/api/webhooks/${hook.id}/ping`, undefined, 202);

        // Tried, failed, tried again: still pending, never dropped, the cause named each time.
        const failing = await until(
          'two failed attempts',
          async () => {
            const page = await api<{ items: Delivery[] }>('GET', `/api/webhooks/${hook.id}/deliveries`);
            const delivery = page.items.find((item) => item.id === ping.id);
            return delivery !== undefined && delivery.attempts >= 2 && delivery.state === 'pending'
              ? delivery
              : undefined;
          },
          30_000,
        );
        expect(failing.nextAttemptAt).not.toBeNull();
        expect(failing.lastError).toMatch(fault.says);
        expect(failing.lastError).toContain(`${endpoint.host}:${endpoint.port}`);
        expect(failing.lastError).not.toContain('s3cr3t');
        expect(failing.lastError).not.toContain(`/hooks/${fault.key}`);

        const webhook = await api<{ failureCount: number; lastFailureAt: string | null; active: boolean }>(
          'GET',
          `/api/webhooks/${hook.id}`,
        );
        expect(webhook.failureCount).toBeGreaterThanOrEqual(2);
        expect(webhook.lastFailureAt).not.toBeNull();
        expect(webhook.active).toBe(true);

        // The process is alive and serving.
        const health = await postern.app.inject({ method: 'GET', url: '/health' });
        expect(health.statusCode).toBe(200);

        // The receiver is back: the pending delivery arrives, once.
        const { port } = answering.address() as net.AddressInfo;
        await api('PATCH', `/api/webhooks/${hook.id}`, { url: `http://127.0.0.1:${port}/hooks/${fault.key}` });
        const delivered = await until(
          'the ping delivered',
          async () => {
            const page = await api<{ items: Delivery[] }>('GET', `/api/webhooks/${hook.id}/deliveries`);
            const delivery = page.items.find((item) => item.id === ping.id);
            return delivery?.state === 'delivered' ? delivery : undefined;
          },
          30_000,
        );
        expect(delivered.lastError).toBeNull();
        expect(received.filter((id) => id === String(ping.id))).toHaveLength(1);
      },
    );
  }
});
