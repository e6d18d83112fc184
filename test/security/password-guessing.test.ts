/**
 * Password guessing (issue 13, Medium 3 and Low): `/api/auth/password` had no rate limit (12 wrong
 * current passwords → 12 × 401), and the sign-in limit was per address and in memory, so an
 * attacker with many addresses, or a cluster of several nodes, multiplied the guesses against one
 * username. Now the password change is rate-limited, and a username that failed too often is
 * refused for a growing delay, kept in the database so that every node sees it.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { startTestPostern, type TestPostern } from '../helpers/postern.js';

let postern: TestPostern;
/** A second node: another HTTP application (its own in-memory limits) over the same database. */
let otherNode: FastifyInstance;
let now = new Date('2026-01-05T10:00:00Z');
let address = 0;
const PASSWORD = 'Correct-Horse-Battery-7';

beforeAll(async () => {
  postern = await startTestPostern({}, { clock: () => now });
  otherNode = await buildApp({
    config: postern.runtime.config,
    logger: postern.runtime.log.logger,
    services: postern.runtime.services,
    version: 'test',
  });
  await otherNode.ready();
  for (const username of ['victim', 'target', 'changer']) {
    await postern.runtime.services.users.create({ username, role: 'agent', password: PASSWORD });
  }
});
afterAll(async () => {
  await otherNode.close();
  await postern.close();
});

/** Each attempt from a new address, so that the per-address limit never applies. */
function login(app: FastifyInstance, username: string, password: string): Promise<LightMyRequestResponse> {
  address += 1;
  return app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    remoteAddress: `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`,
  });
}

const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

function retryAfterOf(response: LightMyRequestResponse): number {
  expect(response.statusCode).toBe(429);
  expect(response.json().error.code).toBe('AUTH_RATE_LIMITED');
  const seconds = Number(response.headers['retry-after']);
  expect(seconds).toBeGreaterThan(0);
  return seconds;
}

describe('sign-in backoff per username', () => {
  it('refuses a username after five failures from as many addresses, on every node, even with the right password', async () => {
    for (let i = 0; i < 5; i += 1)
      expect((await login(postern.app, 'victim', 'wrong password!!')).statusCode).toBe(401);
    const refused = await login(postern.app, 'victim', PASSWORD);
    retryAfterOf(refused);
    expect(refused.cookies).toEqual([]);
    retryAfterOf(await login(otherNode, 'VICTIM', PASSWORD));
  });

  it('lets one attempt through when the delay has passed, and grows the delay after another failure', async () => {
    const first = retryAfterOf(await login(postern.app, 'victim', 'wrong password!!'));
    advance(first * 1000);
    expect((await login(otherNode, 'victim', 'wrong password!!')).statusCode).toBe(401);
    const second = retryAfterOf(await login(postern.app, 'victim', PASSWORD));
    expect(second).toBeGreaterThan(first);
    advance(second * 1000);
    expect((await login(postern.app, 'victim', PASSWORD)).statusCode).toBe(200);
  });

  it('starts afresh after a success', async () => {
    for (let i = 0; i < 4; i += 1)
      expect((await login(postern.app, 'victim', 'wrong password!!')).statusCode).toBe(401);
    expect((await login(postern.app, 'victim', PASSWORD)).statusCode).toBe(200);
    // Without the reset this sixth attempt would be refused: the fifth locked the username.
    expect((await login(postern.app, 'victim', 'wrong password!!')).statusCode).toBe(401);
  });

  describe('an unknown username', () => {
    // Five failures each, in the setup: ten password checks (scrypt) take a while on a busy machine.
    beforeAll(async () => {
      for (let i = 0; i < 5; i += 1) {
        expect((await login(postern.app, 'nobody-here', 'wrong password!!')).statusCode).toBe(401);
        expect((await login(postern.app, 'target', 'wrong password!!')).statusCode).toBe(401);
      }
    });

    it('is refused as a known one, so the refusal tells nothing about who exists', async () => {
      const unknown = await login(postern.app, 'nobody-here', 'wrong password!!');
      const known = await login(postern.app, 'target', 'wrong password!!');
      retryAfterOf(unknown);
      expect(unknown.json()).toEqual(known.json());
      expect(unknown.headers['retry-after']).toBe(known.headers['retry-after']);
    });
  });
});

describe('password change', () => {
  it('answers 429 before twelve wrong current passwords are all checked', async () => {
    const signedIn = await login(postern.app, 'changer', PASSWORD);
    const cookies = Object.fromEntries(signedIn.cookies.map((c) => [c.name, c.value]));
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const response = await postern.app.inject({
        method: 'POST',
        url: '/api/auth/password',
        cookies,
        headers: { 'x-csrf-token': cookies.postern_csrf ?? '' },
        payload: { currentPassword: `guess number ${i}`, newPassword: 'another long password' },
        remoteAddress: '10.200.0.1',
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) retryAfterOf(response);
    }
    expect(statuses[0]).toBe(401);
    expect(statuses).toContain(429);
    expect(statuses.at(-1)).toBe(429);
  });
});
