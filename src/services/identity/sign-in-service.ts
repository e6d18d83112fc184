import { EventEmitter } from 'node:events';
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
  randomToken,
  appendEvent,
  claimSignInTicket,
  consumeOAuthState,
  createOAuthState,
  createSignInTicket,
  findSignInTicket,
  findUserById,
  requireProvider,
  setProviderStatus,
  storeRefreshedTokens,
  toDbTime,
  upsertGrant,
  type Database,
  type GrantRecord,
  type ProviderRecord,
  type SecretBox,
} from '../../store/index.js';
import { connectionOf } from './provider-service.js';

const STATE_TTL_MS = 10 * 60 * 1000;
/** How long a one-time console link to a sign-in stays valid. */
export const SIGN_IN_LINK_TTL_MS = 10 * 60 * 1000;
/** Sign-in tickets carry a prefix that the log redaction recognises (src/log/redact.ts). */
const TICKET_PREFIX = 'psi_';

/** The console route that opens a one-time sign-in link (see {@link SignInService.issueSignInLink}). */
export const SIGN_IN_LINK_ROUTE = '/api/cloudProviders/:id/signIn';

/** {@link SIGN_IN_LINK_ROUTE} for one provider. */
export function signInLinkPath(providerId: number): string {
  return SIGN_IN_LINK_ROUTE.replace(':id', String(providerId));
}

/**
 * What binds a sign-in to the browser that started it: the hash of its session id (the same hash
 * the sessions table keeps), or null for a caller without a session (an API token).
 */
export function sessionBindingOf(sessionId: string | undefined): string | null {
  return sessionId === undefined || sessionId === '' ? null : hashToken(sessionId);
}

/** The browser that starts (or opens a link to) a sign-in: its user and the sha256 of its session id. */
export interface SignInStarter {
  readonly userId: number;
  readonly sessionHash: string;
}

/** A one-time console link to a sign-in, for a caller without a browser session. */
export interface SignInLink {
  readonly url: string;
  readonly expiresAt: Date;
  /** The console user who must open it. */
  readonly username: string;
  /** The sentence to show with the link (the API's message, the CLI's line). */
  readonly instructions: string;
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
  /** A grant stored by a sign-in (its provider's id), for the nodes' change feed. */
  readonly changes = new EventEmitter<{ grant: [number] }>();
  private readonly deviceFlows = new Map<string, DeviceFlowStatus>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly identity: MicrosoftIdentity,
    private readonly logger: Logger,
    private readonly publicUrl: string,
  ) {}

  /**
   * Starts an authorization code sign-in from a browser session and returns the URL to send that
   * browser to; the state is bound to the session, so no other browser can complete it.
   */
  async startAuthorization(
    providerId: number,
    starter: SignInStarter,
    options: { loginHint?: string | null } = {},
  ): Promise<URL> {
    const provider = await this.requireBrowserProvider(providerId);
    return this.recordingFailure(provider, () => this.authorize(this.db, provider, starter, options.loginHint ?? null));
  }

  /**
   * For a caller without a browser session (an API token, the CLI): instead of an authorize URL
   * that any browser could complete, a one-time link into the console, valid 10 minutes, that
   * only `userId`'s browser session can open ({@link openSignInLink}). The ticket is stored as
   * its sha256.
   */
  async issueSignInLink(
    providerId: number,
    userId: number,
    options: { loginHint?: string | null } = {},
  ): Promise<SignInLink> {
    const provider = await this.requireBrowserProvider(providerId);
    const user = await findUserById(this.db, userId);
    if (user === undefined || user.disabled || user.role !== 'admin') {
      throw new PosternError('VALIDATION_FAILED', {
        message: 'A sign-in link can only be made for an enabled administrator: they open it in the console.',
        remedy: 'Name an administrator who can sign in to the console (postern users list).',
      });
    }
    const ticket = `${TICKET_PREFIX}${randomToken(32)}`;
    const expiresAt = new Date(this.db.now().getTime() + SIGN_IN_LINK_TTL_MS);
    await createSignInTicket(this.db, {
      ticket,
      providerId: provider.id,
      userId,
      loginHint: options.loginHint ?? null,
      expiresAt,
    });
    const url = new URL(`${this.publicUrl}${signInLinkPath(provider.id)}`);
    url.searchParams.set('ticket', ticket);
    const instructions = `Open this link in a browser where you are signed in to the Postern console as "${user.username}", within 10 minutes; it works once, and only for that user.`;
    return { url: url.href, expiresAt, username: user.username, instructions };
  }

  /**
   * Opens a one-time sign-in link in the browser session of `opener`: the ticket must be one
   * issued here for this provider, unused, in time, and for this very user. Only then is it spent,
   * once (a conditional update), and an OAuth state bound to this session created in the same
   * transaction. A refused opening (another user) leaves the ticket usable.
   *
   * @throws PosternError AUTH_SIGN_IN_LINK_INVALID (unknown, other provider, used, expired) or
   *   AUTH_FORBIDDEN (another user's link).
   */
  async openSignInLink(providerId: number, ticket: string, opener: SignInStarter): Promise<URL> {
    const found = ticket === '' ? undefined : await findSignInTicket(this.db, ticket);
    if (found === undefined || found.providerId !== providerId)
      throw linkError('This sign-in link does not match any sign-in started here.');
    if (found.usedAt !== null) throw linkError('This sign-in link was already used.');
    if (found.expiresAt <= toDbTime(this.db.now())) throw linkError('This sign-in link is older than 10 minutes.');
    if (found.userId !== opener.userId) {
      throw new PosternError('AUTH_FORBIDDEN', {
        message: 'This sign-in link was made for another console user.',
        remedy:
          'Sign out, sign in to the console as the user whose API token (or the user the CLI named) started the sign-in, and open the link again.',
      });
    }
    const provider = await this.requireBrowserProvider(providerId);
    return this.recordingFailure(provider, () =>
      this.db.transaction(async (tx) => {
        if (!(await claimSignInTicket(tx, found.id))) throw linkError('This sign-in link was already used.');
        return this.authorize(tx, provider, opener, found.loginHint);
      }),
    );
  }

  /**
   * Runs the start of a sign-in; a refusal of Microsoft's (an unknown tenant answers the
   * discovery with AADSTS90002) goes to the provider's status and timeline before it is thrown.
   */
  private async recordingFailure<T>(provider: ProviderRecord, start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      if (isPosternError(error) && error.code.startsWith('AUTH_') && error.code !== 'AUTH_SIGN_IN_LINK_INVALID')
        await this.recordFailure(provider, error);
      throw error;
    }
  }

  private async requireBrowserProvider(providerId: number): Promise<ProviderRecord> {
    const provider = await requireProvider(this.db, providerId);
    if (provider.grantType !== 'authorization_code') {
      throw new PosternError('VALIDATION_FAILED', {
        message: `Cloud Provider "${provider.name}" uses the ${provider.grantType} grant type, not a browser sign-in.`,
        remedy: grantTypeRemedy(provider.grantType),
      });
    }
    return provider;
  }

  private async authorize(
    db: Database,
    provider: ProviderRecord,
    starter: SignInStarter,
    loginHint: string | null,
  ): Promise<URL> {
    const providerId = provider.id;
    const state = oidc.randomState();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    // The URL first: it needs the authority's discovery, which fails on a wrong tenant or cloud,
    // and then no state is left behind.
    const url = await this.identity.authorizationUrl(connectionOf(provider, this.box), {
      state,
      codeVerifier,
      nonce,
      scopes: provider.scopes,
      loginHint,
      prompt: 'select_account',
    });
    await createOAuthState(db, this.box, {
      state,
      providerId,
      codeVerifier,
      nonce,
      userId: starter.userId,
      sessionHash: starter.sessionHash,
      redirectTo: null,
      loginHint,
      expiresAt: new Date(db.now().getTime() + STATE_TTL_MS),
    });
    return url;
  }

  /**
   * Handles the callback at /api/cloudProviders/oauth2/microsoft/callback: the state must be one
   * this installation issued, unused, younger than 10 minutes, and presented by the browser
   * session that started it. It is spent only when all of that holds, so a callback from another
   * browser (or none) is refused and the right browser can still finish. Nothing is stored
   * unless everything holds.
   */
  async completeAuthorization(parameters: URLSearchParams, sessionHash: string | null): Promise<CallbackOutcome> {
    const stateValue = parameters.get('state');
    if (stateValue === null || stateValue === '')
      return { ok: false, providerId: null, error: stateError('The sign-in response carries no state.') };
    const consumed = await consumeOAuthState(this.db, this.box, stateValue, sessionHash);
    switch (consumed.outcome) {
      case 'unknown':
        return {
          ok: false,
          providerId: null,
          error: stateError('The sign-in response does not match any sign-in started here.'),
        };
      case 'used':
        return {
          ok: false,
          providerId: consumed.state.providerId,
          error: stateError('This sign-in response was already used.'),
        };
      case 'expired':
        return {
          ok: false,
          providerId: consumed.state.providerId,
          error: stateError('The sign-in took longer than 10 minutes.'),
        };
      case 'other-session': {
        const error = otherSessionError(this.publicUrl, sessionHash !== null);
        await this.recordFailure(await requireProvider(this.db, consumed.state.providerId), error);
        return { ok: false, providerId: consumed.state.providerId, error };
      }
      case 'ok':
        break;
    }
    const record = consumed.state;
    const providerId = record.providerId;
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
        'interactive',
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
      const result = await this.identity.clientCredentials(connectionOf(provider, this.box), scope, 'interactive');
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
    this.changes.emit('grant', provider.id);
    return grant;
  }

  private async recordFailure(provider: ProviderRecord, error: PosternError): Promise<void> {
    const aadsts = typeof error.details?.aadsts === 'string' ? error.details.aadsts : null;
    const microsoftMessage =
      typeof error.details?.microsoftMessage === 'string' ? error.details.microsoftMessage : null;
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
      data: {
        code: error.code,
        ...(aadsts === null ? {} : { aadsts }),
        ...(microsoftMessage === null ? {} : { microsoftMessage }),
        remedy: error.remedy ?? null,
      },
    });
    this.logger.warn({ providerId: provider.id, code: error.code, aadsts }, 'cloud provider authentication failed');
  }
}

/**
 * A callback whose state belongs to another console session. Microsoft returns to the redirect
 * URI, which is built from the public URL; a browser without a session there (the usual case) had
 * the console open under another address — 127.0.0.1 for localhost, an internal name — where its
 * session cookie lives. Starting again from that address would end the same way, so the remedy
 * names the address to use.
 */
function otherSessionError(publicUrl: string, hasSession: boolean): PosternError {
  const consoleUrl = `${publicUrl}/ui/`;
  return new PosternError('AUTH_STATE_INVALID', {
    message: hasSession
      ? 'The sign-in was started from another console session than the one this browser has at ' +
        `${publicUrl}; Microsoft returned here, to the redirect URI, and the sign-in could not be matched to it.`
      : `This browser has no console session at ${publicUrl}, where Microsoft returns after the sign-in (the ` +
        'redirect URI): the console was probably opened under another address, such as 127.0.0.1 instead of ' +
        'localhost, and its session stayed there.',
    remedy: hasSession
      ? `Use one console tab, at ${consoleUrl}: sign in there, open the Cloud Provider and choose Authenticate again.`
      : `Open the console at ${consoleUrl} (the public URL, POSTERN_PUBLIC_URL), sign in there, open the Cloud ` +
        'Provider and choose Authenticate again. If the console must be reached under another address, set ' +
        'POSTERN_PUBLIC_URL to it and register the matching redirect URI on the app in the Azure portal.',
  });
}

function stateError(message: string): PosternError {
  return new PosternError('AUTH_STATE_INVALID', { message });
}

function linkError(message: string): PosternError {
  return new PosternError('AUTH_SIGN_IN_LINK_INVALID', { message });
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
