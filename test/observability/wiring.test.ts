/**
 * The observability parts as composed by the composition root: `postern start` (in-process)
 * serves /metrics to administrators and on POSTERN_METRICS_LISTEN without a token (every series
 * labelled with the node id that `GET /api/system/nodes` shows), the events and webhooks routes
 * are in the API and its OpenAPI document, the worker role dispatches webhooks, and every part
 * stops with the server.
 *
 * Until the composition root registers them (services/index.ts, http/app.ts, cli/commands/start.ts)
 * these tests skip themselves; afterwards they must pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/cli/commands/start.js';
import { parsePrometheus, sampleValue, startReceiver, until, type Receiver } from './helpers.js';

let server: RunningServer;
let receiver: Receiver;
let token: string;
let printed: string[] = [];

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-wiring-'));
  printed = [];
  server = await startServer({
    cwd: dataDir,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_PORT: '0',
      POSTERN_LOG_CONSOLE: 'false',
      POSTERN_METRICS_LISTEN: '127.0.0.1:0',
      POSTERN_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1',
      POSTERN_LOG_LEVEL: 'debug',
    },
    print: (line) => printed.push(line),
  });
  const admin = await server.runtime.services.users.create({
    username: 'wiring-admin',
    role: 'admin',
    password: 'a long enough password',
  });
  token = (await server.runtime.services.tokens.create(admin.id, 'scraper')).token;
  receiver = await startReceiver();
});
afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

describe('postern start with the observability parts', () => {
  it("serves /metrics to administrators and on the separate listener, every series labelled with this node's id", async () => {
    const denied = await fetch(`${server.url}/metrics`);
    expect(denied.status).toBe(401);
    const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(scraped.status).toBe(200);
    const { samples } = parsePrometheus(await scraped.text());
    expect(sampleValue(samples, 'postern_database_up')).toBe(1);
    // Every series names this node, as the nodes' list shows it: several nodes' scrapes add up.
    const nodes = (await (
      await fetch(`${server.url}/api/system/nodes`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { items: Array<{ id: string; self: boolean }> };
    const self = nodes.items.find((node) => node.self)?.id;
    expect(self).toMatch(/\S/);
    expect(samples.filter((sample) => sample.labels.node !== self).map((sample) => sample.name)).toEqual([]);
    const line = printed.find((text) => text.startsWith('Prometheus metrics on '));
    const listener = /(http:\/\/\S+\/metrics)/.exec(line ?? '')?.[1];
    if (listener === undefined) throw new Error(`no metrics listener printed: ${printed.join(' | ')}`);
    const open = await fetch(listener);
    expect(open.status).toBe(200);
    const separate = parsePrometheus(await open.text());
    expect(separate.types.get('postern_http_request_duration_seconds')).toBe('histogram');
    expect(separate.samples.filter((sample) => sample.labels.node !== self).map((sample) => sample.name)).toEqual([]);
  });

  it('has the events and webhooks routes in the API and its OpenAPI document', async () => {
    const docs = await (await fetch(`${server.url}/api/docs`)).text();
    for (const route of ['/api/events', '/api/webhooks', '/api/webhooks/{id}/deliveries', '/metrics'])
      expect(docs).toContain(route);
    expect(docs).toContain('Postern-Signature');
  });

  it('dispatches webhooks from the worker role', async () => {
    const created = await fetch(`${server.url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['webhook.ping'] }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const ping = await fetch(`${server.url}/api/webhooks/${id}/ping`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ping.status).toBe(202);
    const got = await until('the ping', () => receiver.requests[0]);
    expect(got.headers['user-agent']).toMatch(/^Postern\//);
  });
});
