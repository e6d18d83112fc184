/**
 * What a Cloud Provider's status badges say, from the API's view of it: whether and as whom it is
 * authenticated, whether a person must sign in again, an error, and the client secret's expiry.
 */
import type { Grant, Provider } from '../api/schemas.js';

export type Tone = 'ok' | 'warn' | 'error' | 'neutral';

export interface Badge {
  tone: Tone;
  text: string;
}

/** Days before expiry from which the secret is flagged (the server warns from the same day). */
const SECRET_WARNING_DAYS = 30;

/** The identity of a grant as a person reads it. */
export function grantIdentity(grant: Grant): string {
  return grant.upn ?? grant.displayName ?? (grant.objectId === null ? 'the application' : `object ${grant.objectId}`);
}

export function providerBadges(provider: Provider): Badge[] {
  const badges: Badge[] = [statusBadge(provider)];
  // An error of the provider (a failed sign-in, say) leaves the identities signed in before.
  const active = provider.grants.filter((g) => g.state === 'active').map(grantIdentity);
  if (provider.status === 'error' && active.length > 0)
    badges.push({ tone: 'ok', text: `Authenticated as ${active.join(', ')}` });
  const secret = secretBadge(provider);
  if (secret !== null) badges.push(secret);
  return badges;
}

/**
 * The provider's state in a word or two, for a choice of providers (the account form's picker): a
 * provider nobody signed in to, or one that needs a person again, is told apart before it is chosen.
 */
export function providerStateWords(provider: Provider): string {
  switch (provider.status) {
    case 'not_authenticated':
      return 'not authenticated';
    case 'authenticated':
      return 'authenticated';
    case 'reauth_required':
      return 're-authentication required';
    case 'error':
      return 'error';
  }
}

function statusBadge(provider: Provider): Badge {
  switch (provider.status) {
    case 'not_authenticated':
      return { tone: 'neutral', text: 'Not authenticated' };
    case 'authenticated': {
      const who = provider.grants.filter((g) => g.state === 'active').map(grantIdentity);
      return { tone: 'ok', text: who.length === 0 ? 'Authenticated' : `Authenticated as ${who.join(', ')}` };
    }
    case 'reauth_required': {
      const who = provider.grants.filter((g) => g.state === 'reauth_required').map(grantIdentity);
      return {
        tone: 'warn',
        text: who.length === 0 ? 'Re-authentication required' : `Re-authentication required for ${who.join(', ')}`,
      };
    }
    case 'error':
      return { tone: 'error', text: provider.lastError === null ? 'Error' : `Error: ${provider.lastError.code}` };
  }
}

function secretBadge(provider: Provider): Badge | null {
  const secret = provider.clientSecret;
  const certificate = provider.clientCertificate;
  if (certificate !== null) {
    const left = certificate.expiresInDays;
    if (left < 0) return { tone: 'error', text: 'Certificate expired' };
    if (left < SECRET_WARNING_DAYS)
      return {
        tone: 'warn',
        text: left === 1 ? 'Certificate expires in 1 day' : `Certificate expires in ${left} days`,
      };
    return null;
  }
  if (secret === null) {
    const needsSecret = provider.grantType !== 'device_code' && provider.grantType !== 'password';
    return needsSecret ? { tone: 'warn', text: 'No client secret' } : null;
  }
  const days = secret.expiresInDays;
  if (days === null) return null;
  // The API floors the remaining time: any time past the expiry is negative.
  if (days < 0) return { tone: 'error', text: 'Secret expired' };
  if (days === 0) return { tone: 'warn', text: 'Secret expires today' };
  if (days < SECRET_WARNING_DAYS)
    return { tone: 'warn', text: days === 1 ? 'Secret expires in 1 day' : `Secret expires in ${days} days` };
  return null;
}

/** Labels of the grant types, as the form and the detail page show them. */
export const GRANT_TYPE_LABELS: Record<string, string> = {
  authorization_code: 'Authorization code (browser sign-in, recommended)',
  device_code: 'Device code (sign in on another device)',
  client_credentials: 'Client credentials (app-only, application permissions)',
  password: 'Password (ROPC, discouraged: no MFA)',
};

export const CLOUD_LABELS: Record<string, string> = {
  global: 'Global (login.microsoftonline.com)',
  usgov: 'US Government (GCC High)',
  'usgov-dod': 'US Government (DoD)',
  china: 'China (21Vianet)',
  custom: 'Custom authority URL',
};
