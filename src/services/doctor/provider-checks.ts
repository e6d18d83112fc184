import { isPosternError } from '../../errors/index.js';
import { endpointsOf } from '../../providers/microsoft/authority.js';
import { certificateFacts } from '../../providers/microsoft/client-certificate.js';
import type { MicrosoftIdentity } from '../../providers/microsoft/identity-client.js';
import { PROVIDER_CODES } from '../../providers/microsoft/token-errors.js';
import type { GrantRecord, ProviderRecord, SecretBox } from '../../store/index.js';
import { CALLBACK_PATH, connectionOf } from '../identity/provider-service.js';
import { failed, ok, skipped, warning, type Check } from './check.js';

const DAY_MS = 86_400_000;
/** Microsoft expires refresh tokens after 90 days without use. */
const INACTIVITY_LIMIT_DAYS = 90;

export interface ProviderCheckDeps {
  identity: MicrosoftIdentity;
  box: SecretBox;
  publicUrl: string;
  now: () => Date;
}

/**
 * The reference guide's provider-side troubleshooting as checks: the authority and the redirect
 * URI, the client secret (accepted? expiring? the secret ID pasted instead of its value?), and each
 * sign-in's state against the 90-day inactivity limit.
 */
export async function checkProvider(
  provider: ProviderRecord,
  grants: readonly GrantRecord[],
  deps: ProviderCheckDeps,
): Promise<Check[]> {
  const checks: Check[] = [await checkConfiguration(provider, deps)];
  checks.push(
    provider.clientCertificatePem === null ? await checkSecret(provider, deps) : await checkCertificate(provider, deps),
  );
  if (grants.length === 0) {
    checks.push(
      failed(
        'provider.grants',
        'Sign-ins',
        'The provider has no sign-in yet.',
        'Authenticate the Cloud Provider, signed in as the mailbox user (or the delegate of a shared mailbox).',
        'AUTH_NOT_AUTHENTICATED',
      ),
    );
  }
  for (const grant of grants) checks.push(checkGrant(grant, deps.now()));
  return checks;
}

async function checkConfiguration(provider: ProviderRecord, deps: ProviderCheckDeps): Promise<Check> {
  const title = 'Authority and redirect URI';
  const expected = `${deps.publicUrl}${CALLBACK_PATH}`;
  let found: { issuer: string; tokenEndpoint: string };
  try {
    found = await deps.identity.discover(connectionOf(provider, deps.box));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return failed(
      'provider.configuration',
      title,
      `The authority ${endpointsOf(provider).authority} did not answer with a valid discovery document: ${message}`,
      'Check the cloud, the tenant id and the network path to the authority (and the CA file for a custom authority).',
      isPosternError(error) ? error.code : undefined,
    );
  }
  if (provider.grantType === 'authorization_code' && provider.redirectUri !== expected) {
    return warning(
      'provider.configuration',
      title,
      `Discovery is valid (issuer ${found.issuer}); the redirect URI is ${provider.redirectUri ?? '(none)'} but this installation receives sign-ins at ${expected}.`,
      `Register ${expected} in the Azure portal (Authentication → Web) and set it as the provider's Redirect URI, or correct POSTERN_PUBLIC_URL.`,
    );
  }
  return ok(
    'provider.configuration',
    title,
    `Discovery is valid (issuer ${found.issuer}, token endpoint ${found.tokenEndpoint}); redirect URI ${provider.redirectUri ?? '(not used by this grant type)'}.`,
  );
}

async function checkSecret(provider: ProviderRecord, deps: ProviderCheckDeps): Promise<Check> {
  const title = 'Client secret';
  if (provider.sealedSecret === null)
    return skipped('provider.secret', title, 'The provider has no client secret (public client).');
  const expiresAt = provider.clientSecretExpiresAt === null ? null : Date.parse(provider.clientSecretExpiresAt);
  const expiry =
    expiresAt === null
      ? 'its expiry date is not recorded'
      : `it expires on ${new Date(expiresAt).toISOString().slice(0, 10)}`;
  try {
    // Someone is waiting for the doctor's answer: the check goes before background renewals.
    await deps.identity.clientCredentials(
      connectionOf(provider, deps.box),
      `${endpointsOf(provider).exchange}/.default`,
      'interactive',
    );
  } catch (error) {
    if (
      isPosternError(error) &&
      (error.code === 'AUTH_SECRET_INVALID' ||
        error.code === 'AUTH_SECRET_EXPIRED' ||
        error.code === 'AUTH_APP_NOT_FOUND' ||
        error.code === 'AUTH_SECRET_NOT_ALLOWED')
    ) {
      return failed(
        'provider.secret',
        title,
        `${error.message} (secret …${provider.clientSecretHint ?? ''}; ${expiry}).`,
        error.remedy,
        error.code,
      );
    }
    if (isPosternError(error) && error.kind === 'transient') {
      return warning(
        'provider.secret',
        title,
        `The token endpoint could not be asked: ${error.message}`,
        'Run the doctor again later.',
      );
    }
    // Any other refusal (no application permissions, say) means the secret itself was accepted.
  }
  if (expiresAt !== null) {
    const days = Math.floor((expiresAt - deps.now().getTime()) / DAY_MS);
    if (days < 0)
      return failed(
        'provider.secret',
        title,
        `The secret …${provider.clientSecretHint ?? ''} is accepted, but ${expiry}, which has passed.`,
        'Generate a new client secret in the Azure portal and use Update Client Secret.',
        'AUTH_SECRET_EXPIRED',
      );
    if (days < 30)
      return warning(
        'provider.secret',
        title,
        `The secret …${provider.clientSecretHint ?? ''} is accepted; it expires in ${days} day(s).`,
        'Generate a new client secret in the Azure portal and use Update Client Secret before it expires.',
      );
  }
  return ok('provider.secret', title, `Microsoft accepts the secret …${provider.clientSecretHint ?? ''}; ${expiry}.`);
}

/** The certificate credential: accepted by Microsoft (signed client assertion), and not expiring. */
async function checkCertificate(provider: ProviderRecord, deps: ProviderCheckDeps): Promise<Check> {
  const title = 'Certificate';
  const facts = certificateFacts(provider.clientCertificatePem ?? '');
  const which = `certificate ${facts.thumbprint} (${facts.subject}), valid until ${facts.notAfter.toISOString().slice(0, 10)}`;
  try {
    // Someone is waiting for the doctor's answer: the check goes before background renewals.
    await deps.identity.clientCredentials(
      connectionOf(provider, deps.box),
      `${endpointsOf(provider).exchange}/.default`,
      'interactive',
    );
  } catch (error) {
    if (isPosternError(error) && PROVIDER_CODES.has(error.code))
      return failed('provider.certificate', title, `${error.message} (${which}).`, error.remedy, error.code);
    if (isPosternError(error) && error.kind === 'transient')
      return warning(
        'provider.certificate',
        title,
        `The token endpoint could not be asked: ${error.message}`,
        'Run the doctor again later.',
      );
  }
  const days = Math.floor((facts.notAfter.getTime() - deps.now().getTime()) / DAY_MS);
  const renew =
    'Generate or upload a new certificate on the Cloud Provider, and upload its certificate to the app registration in the Azure portal (Certificates & secrets → Certificates).';
  if (days < 0)
    return failed('provider.certificate', title, `The ${which} has expired.`, renew, 'AUTH_CERTIFICATE_EXPIRED');
  if (days < 30)
    return warning(
      'provider.certificate',
      title,
      `Microsoft accepts the ${which}; it expires in ${days} day(s).`,
      renew,
    );
  return ok('provider.certificate', title, `Microsoft accepts the ${which}.`);
}

function checkGrant(grant: GrantRecord, now: Date): Check {
  const who = grant.upn ?? 'the application';
  const title = `Sign-in of ${who}`;
  const last = grant.lastRefreshAt === null ? null : Date.parse(grant.lastRefreshAt);
  const idleDays = last === null ? null : Math.floor((now.getTime() - last) / DAY_MS);
  const facts = [
    `state ${grant.state}`,
    `last refresh ${grant.lastRefreshAt ?? 'never'}`,
    `last interactive sign-in ${grant.lastInteractiveAt ?? 'never'}`,
  ].join(', ');
  if (grant.state !== 'active') {
    const reason =
      grant.lastError === null
        ? ''
        : ` ${grant.lastError.message}${grant.lastError.aadsts === null ? '' : ` (${grant.lastError.aadsts})`}`;
    return failed(
      `grant.${grant.id}`,
      title,
      `Re-authentication required:${reason} (${facts}).`,
      grant.lastError?.remedy ?? 'Authenticate the Cloud Provider again.',
      grant.lastError?.code,
    );
  }
  if (idleDays !== null && idleDays > INACTIVITY_LIMIT_DAYS - 30 && grant.sealedRefreshToken !== null) {
    return warning(
      `grant.${grant.id}`,
      title,
      `Not refreshed for ${idleDays} days (${facts}); Microsoft ends it after ${INACTIVITY_LIMIT_DAYS} days without use.`,
      'Make sure the worker role runs (it refreshes idle sign-ins), or authenticate again.',
    );
  }
  return ok(`grant.${grant.id}`, title, `Active (${facts}).`);
}
