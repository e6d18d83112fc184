import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { PosternError, isPosternError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { endpointsOf, scopesForResource } from '../../providers/microsoft/authority.js';
import type {
  DeviceCodeStart,
  IdentityClaims,
  MicrosoftIdentity,
  TokenResult,
} from '../../providers/microsoft/identity-client.js';
import { classifyMicrosoftError } from '../../providers/microsoft/token-errors.js';
import {
  hashToken,
  appendEvent,
  consumeOAuthState,
  createOAuthState,
  requireProvider,
  setProviderStatus,
  storeRefreshedTokens,
  upsertGrant,
  type Database,
  type GrantRecord,
  type ProviderRecord,
  type SecretBox,
} from '../../store/index.js';
import { connectionOf } from './provider-service.js';

const STATE_TTL_MS = 10 * 60 * 1000;

/** Who started a sign-in: the admin's session (bound to the callback) or an API/CLI caller. */
/**
 * What binds a sign-in to the browser that started it: the hash of its session id (the same hash
 * the sessions table keeps), or null for a caller without a session (an API token).
 */
export function sessionBindingOf(sessionId: string | undefined): string | null {
  return sessionId === undefined || sessionId === '' ? null : hashToken(sessionId);
}

export interface SignInStarter {
  readonly userId: number | null;
  /** sha256 of the session id, when started from a browser session. */
  readonly sessionHash: string | null;
}

export type CallbackOutcome =
  { ok: true; providerId: number; grant: GrantRecord } | { ok: false; providerId: number | null; error: PosternError };

export interface DeviceFlowStatus {
  readonly flowId: string;
  readonly providerId: number;
  readonly state: 'pending' | 'completed' | 'failed';
  readonly userCode: string;
  readonly verificationUri: string;
  readonly message: string;
  readonly expiresAt: string;
  readonly grant?: GrantRecord;
  readonly error?: PosternError;
}

/**
 * Signing a Cloud Provider in, by each grant type: authorization code with PKCE (the guide's
 * Authenticate button), device code, client credentials and ROPC. Every outcome upserts a grant
 * for the identity that signed in, or records an error with its remedy — never both.
 */
export class SignInService {
  private readonly deviceFlows = new Map<string, DeviceFlowStatus>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly identity: MicrosoftIdentity,
    private readonly logger: Logger,
  ) {}

  /** Starts an authorization code sign-in and returns the URL to send the browser to. */
  async startAuthorization(
    providerId: number,
    starter: SignInStarter,
    options: { loginHint?: string | null } = {},
  ): Promise<URL> {
    const provider = await requireProvider(this.db, providerId);
    if (provider.grantType !== 'authorization_code') {
      throw new PosternError('VALIDATION_FAILED', {
        message: `Cloud Provider "${provider.name}" uses the ${provider.grantType} grant type, not a browser sign-in.`,
        remedy: grantTypeRemedy(provider.grantType),
      });
    }
    const state = oidc.randomState();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    await createOAuthState(this.db, this.box, {
      state,
      providerId,
      codeVerifier,
      nonce,
      userId: starter.userId,
      sessionHash: starter.sessionHash,
      redirectTo: null,
      loginHint: options.loginHint ?? null,
      expiresAt: new Date(this.db.now().getTime() + STATE_TTL_MS),
    });
    return this.identity.authorizationUrl(connectionOf(provider, this.box), {
      state,
      codeVerifier,
      nonce,
      scopes: provider.scopes,
      loginHint: options.loginHint ?? null,
      prompt: 'select_account',
    });
  }

  /**
   * Handles the callback at /api/cloudProviders/oauth2/microsoft/callback: the state must be one
   * this installation issued, unused, younger than 10 minutes, and — when a browser session
   * started it — presented by the same session. Nothing is stored unless everything holds.
   */
  async completeAuthorization(parameters: URLSearchParams, sessionHash: string | null): Promise<CallbackOutcome> {
    const stateValue = parameters.get('state');
    if (stateValue === null || stateValue === '')
      return { ok: false, providerId: null, error: stateError('The sign-in response carries no state.') };
    const consumed = await consumeOAuthState(this.db, this.box, stateValue);
    if (consumed.outcome === 'unknown')
      return {
        ok: false,
        providerId: null,
        error: stateError('The sign-in response does not match any sign-in started here.'),
      };
    if (consumed.outcome !== 'ok') {
      const providerId = consumed.state?.providerId ?? null;
      const reason =
        consumed.outcome === 'used'
          ? 'This sign-in response was already used.'
          : 'The sign-in took longer than 10 minutes.';
      return { ok: false, providerId, error: stateError(reason) };
    }
    const record = consumed.state;
    const providerId = record.providerId;
    if (record.sessionHash !== null && record.sessionHash !== sessionHash) {
      return { ok: false, providerId, error: stateError('The sign-in was started from another browser session.') };
    }
    const provider = await requireProvider(this.db, record.providerId);
    const microsoftError = parameters.get('error');
    if (microsoftError !== null) {
      const error = classifyMicrosoftError({
        error: microsoftError,
        error_description: parameters.get('error_description') ?? undefined,
      });
      await this.recordFailure(provider, error);
      return { ok: false, providerId, error };
    }
    if (!parameters.get('code')) {
      return {
        ok: false,
        providerId,
        error: new PosternError('AUTH_CALLBACK_INVALID', {
          message: 'The sign-in response carries neither a code nor an error.',
        }),
      };
    }
    try {
      const result = await this.identity.redeemCode(connectionOf(provider, this.box), parameters, {
        state: stateValue,
        codeVerifier: consumed.codeVerifier,
        nonce: record.nonce ?? '',
      });
      const grant = await this.storeGrant(provider, result, { interactive: true });
      return { ok: true, providerId, grant };
    } catch (error) {
      const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
      await this.recordFailure(provider, failure);
      return { ok: false, providerId, error: failure };
    }
  }

  /** Starts a device code sign-in; Postern polls in the background until it ends. */
  async startDeviceCode(providerId: number): Promise<DeviceFlowStatus> {
    const provider = await requireProvider(this.db, providerId);
    const conn = connectionOf(provider, this.box);
    const start = await this.identity.startDeviceCode(conn, provider.scopes).catch(async (error: unknown) => {
      if (isPosternError(error)) await this.recordFailure(provider, error);
      throw error;
    });
    const flowId = randomUUID();
    const status: DeviceFlowStatus = {
      flowId,
      providerId,
      state: 'pending',
      userCode: start.userCode,
      verificationUri: start.verificationUri,
      message: start.message,
      expiresAt: new Date(this.db.now().getTime() + start.expiresIn * 1000).toISOString(),
    };
    this.deviceFlows.set(flowId, status);
    void this.pollDevice(provider, start, status);
    return status;
  }

  deviceFlow(flowId: string): DeviceFlowStatus {
    const flow = this.deviceFlows.get(flowId);
    if (flow === undefined)
      throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no device code sign-in ${flowId}.` });
    return flow;
  }

  /** Waits until a device flow ends (for the CLI). */
  async waitForDeviceFlow(flowId: string, pollMs = 500): Promise<DeviceFlowStatus> {
    for (;;) {
      const flow = this.deviceFlow(flowId);
      if (flow.state !== 'pending') return flow;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** ROPC: signs in with the mailbox user's password (public clients only; no MFA). */
  async signInWithPassword(providerId: number, username: string, password: string): Promise<GrantRecord> {
    const provider = await requireProvider(this.db, providerId);
    try {
      const result = await this.identity.password(
        connectionOf(provider, this.box),
        username,
        password,
        provider.scopes,
      );
      return await this.storeGrant(provider, result, { interactive: false, password, username });
    } catch (error) {
      const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
      await this.recordFailure(provider, failure);
      throw failure;
    }
  }

  /** Client credentials: checks that the app obtains a token, and records the app's grant. */
  async signInAsApp(providerId: number): Promise<GrantRecord> {
    const provider = await requireProvider(this.db, providerId);
    const scope = `${endpointsOf(provider).exchange}/.default`;
    try {
      const result = await this.identity.clientCredentials(connectionOf(provider, this.box), scope);
      return await this.storeGrant(provider, result, { interactive: false });
    } catch (error) {
      const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
      await this.recordFailure(provider, failure);
      throw failure;
    }
  }

  private async pollDevice(provider: ProviderRecord, start: DeviceCodeStart, status: DeviceFlowStatus): Promise<void> {
    try {
      const result = await this.identity.pollDeviceCode(connectionOf(provider, this.box), start);
      const grant = await this.storeGrant(provider, result, { interactive: true });
      this.deviceFlows.set(status.flowId, { ...status, state: 'completed', grant });
    } catch (error) {
      const failure = isPosternError(error) ? error : new PosternError('INTERNAL', { cause: error });
      await this.recordFailure(provider, failure).catch(() => undefined);
      this.deviceFlows.set(status.flowId, { ...status, state: 'failed', error: failure });
    }
  }

  private async storeGrant(
    provider: ProviderRecord,
    result: TokenResult,
    options: { interactive: boolean; password?: string; username?: string },
  ): Promise<GrantRecord> {
    const claims: IdentityClaims = result.idTokenClaims ?? {
      objectId: null,
      tenantId: null,
      upn: options.username ?? null,
      email: null,
      name: null,
    };
    const appOnly = result.refreshToken === null && options.password === undefined && result.idTokenClaims === null;
    const endpoints = endpointsOf(provider);
    const grant = await this.db.transaction(async (tx) => {
      const stored = await upsertGrant(tx, this.box, {
        providerId: provider.id,
        upn: appOnly ? null : (claims.upn ?? options.username ?? null),
        email: appOnly ? null : claims.email,
        objectId: appOnly ? `app:${provider.applicationId}` : claims.objectId,
        tenantId: claims.tenantId ?? provider.tenantId,
        displayName: appOnly ? 'Application (client credentials)' : claims.name,
        scopes: result.scopes,
        refreshToken: result.refreshToken,
        ...(options.password === undefined ? {} : { password: options.password }),
        interactive: options.interactive,
      });
      await setProviderStatus(tx, provider.id, 'ok');
      // The token of a sign-in is for the first resource the request named: Exchange, unless the
      // provider asks for Graph scopes only.
      const resource =
        scopesForResource(provider.scopes, 'exchange', endpoints).length > 0 ? endpoints.exchange : endpoints.graph;
      // The refresh token is stored above; this keeps the access token the same way a refresh does.
      await storeRefreshedTokens(tx, this.box, stored.id, {
        refreshToken: null,
        resource,
        accessToken: result.accessToken,
        scopes: result.scopes,
        expiresAt: result.expiresAt,
      });
      await appendEvent(tx, {
        scope: 'provider',
        scopeId: provider.id,
        type: 'grant.authenticated',
        message: `Signed in as ${stored.upn ?? 'the application'}.`,
        data: { grantId: stored.id, upn: stored.upn, scopes: result.scopes },
      });
      return stored;
    });
    this.logger.info({ providerId: provider.id, grantId: grant.id, upn: grant.upn }, 'cloud provider authenticated');
    return grant;
  }

  private async recordFailure(provider: ProviderRecord, error: PosternError): Promise<void> {
    const aadsts = typeof error.details?.aadsts === 'string' ? error.details.aadsts : null;
    if (error.kind === 'needs-admin') {
      await setProviderStatus(this.db, provider.id, 'error', {
        code: error.code,
        message: error.message,
        remedy: error.remedy ?? null,
      });
    }
    await appendEvent(this.db, {
      scope: 'provider',
      scopeId: provider.id,
      type: 'provider.authentication_failed',
      level: 'error',
      message: `Authentication of "${provider.name}" failed: ${error.message}`,
      data: { code: error.code, ...(aadsts === null ? {} : { aadsts }), remedy: error.remedy ?? null },
    });
    this.logger.warn({ providerId: provider.id, code: error.code, aadsts }, 'cloud provider authentication failed');
  }
}

function stateError(message: string): PosternError {
  return new PosternError('AUTH_STATE_INVALID', { message });
}

function grantTypeRemedy(grantType: string): string {
  switch (grantType) {
    case 'device_code':
      return 'Use the device code sign-in of this provider.';
    case 'client_credentials':
      return 'Client credentials need no sign-in: use Authenticate to check that the app obtains a token.';
    default:
      return "Sign in with the mailbox user's username and password.";
  }
}
