/**
 * Control routes for running the emulator: the clock, fault injection, the redacted request
 * log, signing-key rotation and token introspection over HTTP.
 */
import type { FastifyInstance } from 'fastify';
import type { ControlDeps } from './control-api.js';
import {
  clockMoveSchema,
  faultClearQuerySchema,
  introspectSchema,
  requestQuerySchema,
  rotateKeysSchema,
} from './schemas.js';

const DAY_MS = 86_400_000;

/** Registers clock, faults, requests, keys and introspection routes in the control scope. */
export function registerOperationsRoutes(scope: FastifyInstance, deps: ControlDeps): void {
  const { clock, faults, requestLog, identity } = deps;

  scope.get('/health', async () => ({ ok: true, now: clock.now(), offsetMs: clock.offsetMs }));

  scope.get('/clock', async () => ({ now: clock.now(), offsetMs: clock.offsetMs }));
  scope.post('/clock', async (request) => {
    const body = clockMoveSchema.parse(request.body);
    let change;
    if (body.advanceMs !== undefined) change = clock.advance(body.advanceMs);
    else if (body.advanceSeconds !== undefined) change = clock.advance(Math.round(body.advanceSeconds * 1000));
    else if (body.advanceDays !== undefined) change = clock.advance(Math.round(body.advanceDays * DAY_MS));
    else if (body.set !== undefined) change = clock.set(body.set);
    else change = clock.reset();
    return { now: change.now, offsetMs: change.offsetMs, deltaMs: change.deltaMs };
  });

  scope.get('/faults', async () => faults.list());
  scope.post('/faults', async (request, reply) => reply.code(201).send(faults.add(request.body)));
  scope.delete('/faults', async (request) => ({
    cleared: faults.clear(faultClearQuerySchema.parse(request.query).target),
  }));

  scope.get('/requests', async (request) => {
    const q = requestQuerySchema.parse(request.query);
    return requestLog.list({
      ...(q.endpoint === undefined ? {} : { endpoint: q.endpoint }),
      ...(q.grantType === undefined ? {} : { grantType: q.grantType }),
      ...(q.clientId === undefined ? {} : { clientId: q.clientId }),
      ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
      ...(q.sinceSeq === undefined ? {} : { sinceSeq: q.sinceSeq }),
    });
  });
  scope.delete('/requests', async () => ({ cleared: requestLog.clear() }));

  // Refresh-token redemptions per chain (per sign-in): a chain redeemed twice is a duplicate refresh.
  scope.get('/refresh-redemptions', async () => identity.context.state.refreshRedemptions.summary());
  scope.delete('/refresh-redemptions', async () => ({
    cleared: identity.context.state.refreshRedemptions.clear(),
  }));

  scope.post('/keys/rotate', async (request) => {
    const body = rotateKeysSchema.parse(request.body ?? {});
    const key = await identity.keys.rotate({ retainPrevious: body.retainPrevious, now: clock.now() });
    return { kid: key.kid, published: identity.keys.all.map((k) => k.kid) };
  });

  scope.post('/introspect', async (request) =>
    identity.introspectAccessToken(introspectSchema.parse(request.body).token),
  );
}
