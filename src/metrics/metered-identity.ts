/**
 * The Microsoft identity client with its token requests counted: successes by grant type, and
 * failures by grant type, Postern error code and AADSTS code — the numbers an administrator
 * watches to see a secret expiring, consent revoked or the token endpoint in trouble, before
 * mailboxes disconnect. A subclass, so that the token service and sign-in use it unchanged.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
import { isPosternError } from '../errors/index.js';
import { MicrosoftIdentity, type TokenResult } from '../providers/microsoft/identity-client.js';
import type { PosternMetrics } from './metrics.js';

/** The OAuth 2.0 grant a token request used. */
export type TokenGrantType = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'password' | 'device_code';

/** {@link MicrosoftIdentity} reporting every token request to the metrics. */
export class MeteredIdentity extends MicrosoftIdentity {
  constructor(
    private readonly metrics: Pick<PosternMetrics, 'tokenRefreshes' | 'tokenFailures'>,
    options: ConstructorParameters<typeof MicrosoftIdentity>[0],
  ) {
    super(options);
  }

  override redeemCode(...args: Parameters<MicrosoftIdentity['redeemCode']>): Promise<TokenResult> {
    return this.observe('authorization_code', () => super.redeemCode(...args));
  }

  override refresh(...args: Parameters<MicrosoftIdentity['refresh']>): Promise<TokenResult> {
    return this.observe('refresh_token', () => super.refresh(...args));
  }

  override clientCredentials(...args: Parameters<MicrosoftIdentity['clientCredentials']>): Promise<TokenResult> {
    return this.observe('client_credentials', () => super.clientCredentials(...args));
  }

  override password(...args: Parameters<MicrosoftIdentity['password']>): Promise<TokenResult> {
    return this.observe('password', () => super.password(...args));
  }

  override pollDeviceCode(...args: Parameters<MicrosoftIdentity['pollDeviceCode']>): Promise<TokenResult> {
    return this.observe('device_code', () => super.pollDeviceCode(...args));
  }

  private async observe(grantType: TokenGrantType, request: () => Promise<TokenResult>): Promise<TokenResult> {
    try {
      const result = await request();
      this.metrics.tokenRefreshes.inc({ grant_type: grantType });
      return result;
    } catch (error) {
      this.metrics.tokenFailures.inc({ grant_type: grantType, ...failureLabels(error) });
      throw error;
    }
  }
}

/** The `code` and `aadsts` labels of a failed token request. */
export function failureLabels(error: unknown): { code: string; aadsts: string } {
  if (!isPosternError(error)) return { code: 'INTERNAL', aadsts: 'none' };
  const aadsts = error.details?.aadsts;
  return { code: error.code, aadsts: typeof aadsts === 'string' && /^AADSTS\d+$/.test(aadsts) ? aadsts : 'none' };
}
