/**
 * Webhooks reached inward and echoed back (issue 13, point 6): a webhook URL could name the cloud
 * metadata service, loopback (SSH, a database), the private network or Postern's own API, and up to
 * 300 characters of a failed answer were copied into the delivery log — a loopback service's
 * secrets came back to the administrator. Now, through the real API and the real dispatcher:
 * every such URL is refused at registration with 422 naming the class; a name that resolves to a
 * public address at registration and to loopback at delivery (DNS rebinding) reaches nothing; the
 * delivery log keeps the status and Postern's words, never the receiver's body; redirects are not
 * followed; POSTERN_WEBHOOK_ALLOWED_NETWORKS opts a network in; and Postern's own listener stays
 * refused even then.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../src/cli/runtime.js';
import type { HostResolver, ResolvedAddress } from '../../src/services/webhooks/webhook-target.js';
import { until } from '../helpers/until.js';

const PUBLIC_URL = 'https://postern.example.org';

/** Postern listening on 127.0.0.1 (a real own listener), its webhooks dispatched, names resolved by `resolve`. */
interface Running {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly port: number;
  readonly admin: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

async function startPostern(env: Record<string, string>, resolve: HostResolver): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-ssrf-'));
  const runtime = await openRuntime({
    cwd: dataDir,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_HOST: '127.0.0.1',
      POSTERN_PORT: '0',
      POSTERN_PUBLIC_URL: PUBLIC_URL,
      POSTERN_LOG_LEVEL: 'debug',
      POSTERN_LOG_CONSOLE: 'false',
      ...env,
    },
    resolveHost: resolve,
  });
  try {
    const roles = await runtime.startRoles(['webhooks', 'web'], {
      webhooks: { pollIntervalMs: 20, retry: { baseMs: 600_000 }, timeoutMs: 5000 },
      web: { version: 'test' },
      print: () => undefined,
    });
    if (roles.web?.url === undefined) throw new Error('the web role did not listen');
    const user = await runtime.services.users.create({
      username: 'admin',
      role: 'admin',
      password: 'a long enough password',
    });
    const { token } = await runtime.services.tokens.create(user.id, 'test');
    return {
      runtime,
      app: roles.web.app,
      port: Number(new URL(roles.web.url).port),
      admin: `Bearer ${token}`,
      dataDir,
      close: () => runtime.close(),
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

/** A receiver on 127.0.0.1 that answers with `status`, `body` and `headers`, and records what it got. */
interface Receiver {
  readonly port: number;
  readonly url: string;
  readonly requests: { url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startReceiver(status: number, body = '', headers: Record<string, string> = {}): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const server = http.createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => response.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}/hook`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Names the test resolves itself; a name given two answers gives the first once, then the second. */
function scriptedResolver(): { resolve: HostResolver; answer(name: string, ...answers: string[][]): void } {
  const script = new Map<string, string[][]>();
  return {
    answer(name, ...answers) {
      script.set(name, answers);
    },
    resolve: async (name) => {
      const answers = script.get(name);
      if (answers === undefined || answers.length === 0)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      const current = answers.length > 1 ? (answers.shift() ?? []) : (answers[0] ?? []);
      return current.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
}

async function register(postern: Running, url: string) {
  return postern.app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: { authorization: postern.admin },
    payload: { url, events: ['webhook.ping'] },
  });
}

/** Pings webhook `id` and waits for the first attempt to be recorded. */
async function pingAndWait(
  postern: Running,
  id: number,
): Promise<{ state: string; responseStatus: number | null; lastError: string | null }> {
  const ping = await postern.app.inject({
    method: 'POST',
    url: `/api/webhooks/${id}/ping`,
    headers: { authorization: postern.admin },
  });
  expect(ping.statusCode).toBeLessThan(300);
  const deliveryId: number = ping.json().id;
  postern.runtime.roles.webhooks?.wake();
  return until(`delivery ${deliveryId} attempted`, async () => {
    const page = await postern.app.inject({
      method: 'GET',
      url: `/api/webhooks/${id}/deliveries`,
      headers: { authorization: postern.admin },
    });
    const delivery = page
      .json()
      .items.find(
        (item: { id: number; attempts: number; state: string }) =>
          item.id === deliveryId && item.attempts > 0 && item.state !== 'delivering',
      );
    return delivery === undefined ? undefined : { ...delivery, raw: page.body };
  });
}

describe('without POSTERN_WEBHOOK_ALLOWED_NETWORKS', () => {
  let postern: Running;
  const names = scriptedResolver();

  beforeAll(async () => {
    postern = await startPostern({}, names.resolve);
  });
  afterAll(async () => postern?.close());

  it.each([
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'is link-local'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'is a unique-local IPv6 address'],
    ['http://metadata.google.internal/computeMetadata/v1/?recursive=true', 'is the name of a cloud metadata service'],
    ['http://127.0.0.1:22/', 'is a loopback address'],
    ['http://localhost/', 'names this machine (localhost)'],
    ['http://[::1]/', 'is a loopback address'],
    ['http://0.0.0.0/', 'is the unspecified address'],
    ['http://2130706433/', '127.0.0.1 is a loopback address'],
    ['http://0x7f.1/', '127.0.0.1 is a loopback address'],
    ['http://10.0.0.1/', 'is on a private network'],
    [`${PUBLIC_URL}/api/auth/logout`, "is Postern's own listener"],
  ])('refuses %s at registration (%s)', async (url, words) => {
    const response = await register(postern, url);
    expect(response.statusCode).toBe(422);
    const { error } = response.json();
    expect(error.code).toBe('WEBHOOK_TARGET_REFUSED');
    expect(error.message).toContain(words);
    expect(error.details.fields).toEqual([{ field: 'url', problem: expect.stringContaining(words) }]);
    expect(error.remedy).toMatch(/public address/);
  });

  it('refuses a name that resolves inward, and a change of URL to one, without echoing the query', async () => {
    names.answer('intranet.example.net', ['203.0.113.9', '10.20.30.40']);
    const refused = await register(postern, 'https://intranet.example.net/hook?token=s3cret-token');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.message).toBe(
      'The webhook URL is refused: intranet.example.net resolves to 10.20.30.40, which is on a private network; webhooks are not delivered there.',
    );
    expect(refused.body).not.toContain('s3cret-token');
    const created = await register(postern, 'https://203.0.113.10/hook');
    expect(created.statusCode).toBe(201);
    const changed = await postern.app.inject({
      method: 'PATCH',
      url: `/api/webhooks/${created.json().id}`,
      headers: { authorization: postern.admin },
      payload: { url: 'http://169.254.169.254/' },
    });
    expect(changed.statusCode).toBe(422);
    expect(changed.json().error.code).toBe('WEBHOOK_TARGET_REFUSED');
  });

  it('sends nothing to a name re-pointed at loopback after registration (DNS rebinding)', async () => {
    const inside = await startReceiver(200, 'ok');
    try {
      names.answer('rebind.example.net', ['203.0.113.50'], ['127.0.0.1']);
      const created = await register(postern, `http://rebind.example.net:${inside.port}/hook`);
      expect(created.statusCode).toBe(201);
      const delivery = await pingAndWait(postern, created.json().id);
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: null });
      expect(delivery.lastError).toBe(
        "The receiver's address 127.0.0.1 (rebind.example.net) is a loopback address (this machine); webhooks are not delivered there unless POSTERN_WEBHOOK_ALLOWED_NETWORKS includes it.",
      );
      expect(inside.requests).toHaveLength(0);
    } finally {
      await inside.close();
    }
  });
});

describe('with 127.0.0.1 in POSTERN_WEBHOOK_ALLOWED_NETWORKS', () => {
  let postern: Running;
  const names = scriptedResolver();

  beforeAll(async () => {
    postern = await startPostern({ POSTERN_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' }, names.resolve);
  });
  afterAll(async () => postern?.close());

  it('delivers to a loopback receiver', async () => {
    const receiver = await startReceiver(204);
    try {
      const created = await register(postern, receiver.url);
      expect(created.statusCode).toBe(201);
      const delivery = await pingAndWait(postern, created.json().id);
      expect(delivery).toMatchObject({ state: 'delivered', responseStatus: 204 });
      expect(receiver.requests[0]?.headers['postern-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    } finally {
      await receiver.close();
    }
  });

  it("keeps the status of a failed answer, never the receiver's body", async () => {
    const leaky = await startReceiver(500, 'internal error; config: aws_secret_access_key=XYZ region=eu-west-1');
    try {
      const created = await register(postern, leaky.url);
      const delivery = await pingAndWait(postern, created.json().id);
      expect(leaky.requests).toHaveLength(1);
      expect(delivery).toMatchObject({
        state: 'pending',
        responseStatus: 500,
        lastError: 'The receiver answered HTTP 500.',
      });
      const log = await postern.app.inject({
        method: 'GET',
        url: `/api/webhooks/${created.json().id}/deliveries`,
        headers: { authorization: postern.admin },
      });
      expect(log.body).not.toContain('aws_secret_access_key');
      expect(log.body).not.toContain('XYZ');
      const logDir = postern.runtime.config.logDir;
      const logs = fs
        .readdirSync(logDir)
        .map((name) => fs.readFileSync(path.join(logDir, name), 'utf8'))
        .join('\n');
      expect(logs).toContain('webhook delivery failed');
      expect(logs).not.toContain('aws_secret_access_key');
    } finally {
      await leaky.close();
    }
  });

  it('does not follow a redirect', async () => {
    const target = await startReceiver(200, 'ok');
    const redirecting = await startReceiver(302, '', { location: `${target.url}/elsewhere` });
    try {
      const created = await register(postern, redirecting.url);
      const delivery = await pingAndWait(postern, created.json().id);
      expect(delivery).toMatchObject({ state: 'pending', responseStatus: 302 });
      expect(delivery.lastError).toContain('redirects are not followed');
      expect(delivery.lastError).not.toContain('elsewhere');
      expect(redirecting.requests).toHaveLength(1);
      expect(target.requests).toHaveLength(0);
    } finally {
      await redirecting.close();
      await target.close();
    }
  });

  it("refuses Postern's own listener, at registration and when a name is re-pointed at it", async () => {
    const refused = await register(postern, `http://127.0.0.1:${postern.port}/api/auth/logout`);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.message).toBe(
      `The webhook URL is refused: 127.0.0.1:${postern.port} is Postern's own listener; webhooks are not delivered there.`,
    );

    const seen: string[] = [];
    const onRequest = (request: http.IncomingMessage): void => void seen.push(request.url ?? '');
    postern.app.server.on('request', onRequest);
    try {
      names.answer('self.example.net', ['203.0.113.60'], ['127.0.0.1']);
      const created = await register(postern, `http://self.example.net:${postern.port}/api/auth/logout`);
      expect(created.statusCode).toBe(201);
      const delivery = await pingAndWait(postern, created.json().id);
      expect(delivery.lastError).toBe(
        `The receiver's address 127.0.0.1:${postern.port} (self.example.net) is Postern's own listener; webhooks are never delivered to Postern itself.`,
      );
      expect(seen.filter((url) => url.startsWith('/api/auth/logout'))).toEqual([]);
    } finally {
      postern.app.server.off('request', onRequest);
    }
  });
});
