/**
 * The device authorization grant: `POST /{tenant}/oauth2/v2.0/devicecode` returns
 * `{ device_code, user_code, verification_uri, expires_in, interval, message }` (no
 * `verification_uri_complete`, as Microsoft); the user enters the code on `/devicelogin`, signs
 * in and consents; the client's poll on the token endpoint then gets the tokens.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
 */
import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FaultInjector } from '../control/faults.js';
import { aadsts } from './aadsts.js';
import { findClient, checkAppTenant } from './client-auth.js';
import type { DeviceCodeRecord, IdentityContext, LoginTransaction } from './context.js';
import { applyFault } from './fault-replies.js';
import { baseUrlOf, noteOutcome, paramsOf, requestIdsOf, setNoStore, withAadErrors } from './http-support.js';
import { beginLogin, type LoginOutcomes } from './login-flow.js';
import { deviceCodePage, messagePage } from './pages.js';
import { parseRequestedScopes, requireSingleResource } from './scopes.js';
import { resolveTenantSegment } from './tenant-segment.js';
import { randomText } from './tokens.js';

const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < 9; i += 1) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)] ?? 'A';
  return code;
}

/** Normalises what a person typed: case, spaces and dashes do not matter. */
function normalizeUserCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/** Completion and cancellation of a device-login transaction. */
export function deviceOutcomes(ctx: IdentityContext): LoginOutcomes {
  const finish = (tx: LoginTransaction): DeviceCodeRecord | undefined =>
    tx.deviceCode === undefined ? undefined : ctx.state.deviceCodes.get(tx.deviceCode);
  return {
    complete(_request, reply, tx, user) {
      const record = finish(tx);
      const appName = ctx.directory.findApp(tx.appId)?.displayName ?? tx.appId;
      if (record === undefined || record.status !== 'pending' || record.expiresAtMs <= ctx.clock.nowMs()) {
        return reply
          .code(400)
          .type('text/html; charset=utf-8')
          .send(messagePage('Code expired', 'That code has expired. Go back to your device and start again.'));
      }
      record.status = 'approved';
      record.userId = user.id;
      record.authTimeMs = tx.authTimeMs ?? ctx.clock.nowMs();
      record.amr = tx.amr ?? ['pwd'];
      return reply
        .type('text/html; charset=utf-8')
        .send(
          messagePage(
            appName,
            `You have signed in to the ${appName} application on your device. You may now close this window.`,
          ),
        );
    },
    cancel(_request, reply, tx) {
      const record = finish(tx);
      if (record !== undefined && record.status === 'pending') record.status = 'declined';
      return reply
        .type('text/html; charset=utf-8')
        .send(
          messagePage(
            'Sign-in canceled',
            'You have declined to sign in to the application on your device. You may now close this window.',
          ),
        );
    },
  };
}

async function handleDeviceCode(
  request: FastifyRequest<{ Params: { tenant: string } }>,
  reply: FastifyReply,
  deps: { ctx: IdentityContext; faults: FaultInjector },
): Promise<unknown> {
  const { ctx } = deps;
  const params = paramsOf(request);
  noteOutcome(request, {
    endpoint: 'devicecode',
    tenant: request.params.tenant,
    clientId: params.client_id?.toLowerCase(),
  });
  if (await applyFault(deps.faults, 'devicecode', request, reply, ctx.clock)) return reply;
  return withAadErrors(request, reply, ctx.clock, () => {
    const segment = resolveTenantSegment(ctx.directory, request.params.tenant);
    const app = findClient(ctx, segment, params, request);
    checkAppTenant(ctx, app, segment);
    const scopeRaw = params.scope;
    if (scopeRaw === undefined || scopeRaw.trim().length === 0) throw aadsts(900144, { parameter: 'scope' });
    const scopes = parseRequestedScopes(
      scopeRaw,
      'delegated',
      segment.kind === 'tenant' ? segment.tenant.id : segment.segment,
    );
    requireSingleResource(scopes, 'devicecode');
    ctx.state.prune(ctx.clock.nowMs(), ctx.config.authCodeLifetimeSeconds * 1000);
    let userCode = newUserCode();
    while (ctx.state.userCodes.has(userCode)) userCode = newUserCode();
    const record: DeviceCodeRecord = {
      deviceCode: `DAQABIQEAAAB${randomText(96)}`,
      userCode,
      appId: app.appId,
      tenantId: segment.kind === 'tenant' ? segment.tenant.id : null,
      scopes,
      expiresAtMs: ctx.clock.nowMs() + ctx.config.deviceCodeExpiresInSeconds * 1000,
      intervalSeconds: ctx.config.deviceCodeIntervalSeconds,
      status: 'pending',
    };
    ctx.state.deviceCodes.set(record.deviceCode, record);
    ctx.state.userCodes.set(userCode, record.deviceCode);
    const verificationUri = `${baseUrlOf(request)}/devicelogin`;
    setNoStore(reply, requestIdsOf(request));
    return reply.type('application/json; charset=utf-8').send({
      user_code: userCode,
      device_code: record.deviceCode,
      verification_uri: verificationUri,
      expires_in: ctx.config.deviceCodeExpiresInSeconds,
      interval: ctx.config.deviceCodeIntervalSeconds,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    });
  });
}

/** Registers `/devicecode` and the `/devicelogin` pages. */
export function registerDeviceFlowRoutes(
  app: FastifyInstance,
  deps: { ctx: IdentityContext; faults: FaultInjector },
): void {
  const { ctx } = deps;
  const entryAction = '/common/oauth2/deviceauth';
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/devicecode', (request, reply) =>
    handleDeviceCode(request, reply, deps),
  );
  app.get('/devicelogin', (request, reply) => {
    noteOutcome(request, { endpoint: 'devicelogin' });
    return reply.type('text/html; charset=utf-8').send(deviceCodePage({ action: entryAction }));
  });
  app.post('/common/oauth2/deviceauth', (request, reply) => {
    const params = paramsOf(request);
    noteOutcome(request, { endpoint: 'devicelogin' });
    const deviceCode = ctx.state.userCodes.get(normalizeUserCode(params.otc ?? ''));
    const record = deviceCode === undefined ? undefined : ctx.state.deviceCodes.get(deviceCode);
    if (record === undefined || record.status !== 'pending' || record.expiresAtMs <= ctx.clock.nowMs()) {
      noteOutcome(request, { error: 'bad_verification_code', aadsts: 70018 });
      return reply
        .type('text/html; charset=utf-8')
        .send(deviceCodePage({ action: entryAction, error: "That code didn't work. Check the code and try again." }));
    }
    noteOutcome(request, { clientId: record.appId });
    const tx: LoginTransaction = {
      id: randomText(24),
      kind: 'device',
      tenantSegment: record.tenantId ?? 'organizations',
      tenantId: record.tenantId,
      appId: record.appId,
      step: 'credentials',
      loginHint: undefined,
      deviceCode: record.deviceCode,
      expiresAtMs: Math.min(record.expiresAtMs, ctx.clock.nowMs() + ctx.config.loginTransactionSeconds * 1000),
    };
    return beginLogin(request, reply, ctx, tx, deviceOutcomes(ctx));
  });
}
