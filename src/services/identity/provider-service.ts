import { EventEmitter } from 'node:events';
import { PosternError } from '../../errors/index.js';
import { defaultScopes } from '../../providers/microsoft/authority.js';
import {
  certificateFacts,
  generateClientCertificate,
  readClientCertificate,
  type CertificateFacts,
  type ClientCertificate,
} from '../../providers/microsoft/client-certificate.js';
import type { MicrosoftIdentity, ProviderConnection } from '../../providers/microsoft/identity-client.js';
import {
  accountsUsingProvider,
  appendEvent,
  createProvider,
  deleteProvider,
  grantStatesOf,
  listEvents,
  listGrants,
  listProviders,
  openProviderCertificate,
  openProviderSecret,
  requireProvider,
  setProviderCertificate,
  setProviderSecret,
  updateProvider,
  type Database,
  type EventPage,
  type GrantRecord,
  type ProviderCloud,
  type ProviderGrantType,
  type ProviderRecord,
  type SecretBox,
  deleteGrant,
  requireGrant,
} from '../../store/index.js';

export const CALLBACK_PATH = '/api/cloudProviders/oauth2/microsoft/callback';
export const SECRET_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

export interface ProviderInput {
  name: string;
  applicationId: string;
  tenantId: string;
  clientSecret?: string | null | undefined;
  clientSecretExpiresAt?: Date | null | undefined;
  /** A certificate instead of a secret: uploaded PEMs, or one Postern generates. */
  clientCertificate?: CertificateInput | undefined;
  redirectUri?: string | null | undefined;
  cloud?: ProviderCloud | undefined;
  authorityUrl?: string | null | undefined;
  caFile?: string | null | undefined;
  grantType?: ProviderGrantType | undefined;
  scopes?: string[] | undefined;
}

/** A certificate credential to set: the administrator's key and certificate, or a new key pair. */
export type CertificateInput = { generate: true } | { privateKey: string; certificate: string };

export type ProviderStatus = 'not_authenticated' | 'authenticated' | 'reauth_required' | 'error';

export interface ProviderView {
  provider: ProviderRecord;
  status: ProviderStatus;
  grants: GrantRecord[];
  /** Days until the client secret expires (negative once expired), when the expiry is known. */
  secretExpiresInDays: number | null;
  /** The certificate credential's public facts, when the provider has one. */
  certificate: (CertificateFacts & { expiresInDays: number }) | null;
  warnings: string[];
}

/** Cloud Providers: the Azure app registrations Postern signs in through. */
export class ProviderService {
  /** Changes of providers and their grants made here (provider id), for the nodes' change feed. */
  readonly changes = new EventEmitter<{ provider: [number]; grant: [number] }>();

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
    private readonly identity: MicrosoftIdentity,
    private readonly publicUrl: string,
  ) {}

  /** The redirect URI to register in the Azure portal for this installation. */
  defaultRedirectUri(): string {
    return `${this.publicUrl}${CALLBACK_PATH}`;
  }

  async create(input: ProviderInput): Promise<ProviderView> {
    const cloud = input.cloud ?? 'global';
    const grantType = input.grantType ?? 'authorization_code';
    checkAuthority(cloud, input.authorityUrl ?? null);
    const secret = input.clientSecret ?? null;
    if (secret !== null && input.clientCertificate !== undefined)
      throw fieldError('clientCertificate', 'cannot be given with clientSecret: a provider has one credential');
    if (
      secret === null &&
      input.clientCertificate === undefined &&
      (grantType === 'authorization_code' || grantType === 'client_credentials')
    ) {
      throw fieldError(
        'clientSecret',
        'is required for the authorization_code and client_credentials grant types (or give clientCertificate)',
      );
    }
    const certificate =
      input.clientCertificate === undefined ? null : await this.certificateFrom(input.clientCertificate, input.name);
    const provider = await createProvider(
      this.db,
      this.box,
      {
        name: input.name,
        service: 'microsoft-azure',
        type: 'outlook365',
        applicationId: input.applicationId,
        tenantId: input.tenantId,
        redirectUri: input.redirectUri ?? this.defaultRedirectUri(),
        cloud,
        authorityUrl: cloud === 'custom' ? (input.authorityUrl ?? null) : null,
        caFile: input.caFile ?? null,
        grantType,
        scopes: input.scopes ?? defaultScopes(cloud, grantType),
      },
      certificate === null
        ? { kind: 'secret', secret, expiresAt: input.clientSecretExpiresAt ?? null }
        : { kind: 'certificate', ...certificate },
    );
    await appendEvent(this.db, {
      scope: 'provider',
      scopeId: provider.id,
      type: 'provider.created',
      message: `Cloud Provider "${provider.name}" was created.`,
    });
    return this.view(provider);
  }

  async update(
    id: number,
    input: Partial<Omit<ProviderInput, 'clientSecret' | 'clientSecretExpiresAt' | 'clientCertificate'>>,
  ): Promise<ProviderView> {
    const current = await requireProvider(this.db, id);
    const cloud = input.cloud ?? current.cloud;
    const authorityUrl = input.authorityUrl === undefined ? current.authorityUrl : input.authorityUrl;
    checkAuthority(cloud, authorityUrl);
    const updated = await updateProvider(this.db, id, {
      ...(input.name === undefined ? {} : { name: input.name }),
      ...(input.applicationId === undefined ? {} : { applicationId: input.applicationId }),
      ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
      ...(input.redirectUri === undefined ? {} : { redirectUri: input.redirectUri ?? this.defaultRedirectUri() }),
      ...(input.cloud === undefined ? {} : { cloud }),
      ...(input.authorityUrl === undefined && input.cloud === undefined
        ? {}
        : { authorityUrl: cloud === 'custom' ? authorityUrl : null }),
      ...(input.caFile === undefined ? {} : { caFile: input.caFile }),
      ...(input.grantType === undefined ? {} : { grantType: input.grantType }),
      ...(input.scopes === undefined ? {} : { scopes: input.scopes }),
    });
    this.identity.forget(id);
    this.changes.emit('provider', id);
    return this.view(updated);
  }

  /** Update Client Secret: replaces the secret and its expiry, and clears a secret error. */
  async updateClientSecret(id: number, clientSecret: string, expiresAt: Date | null): Promise<ProviderView> {
    const provider = await setProviderSecret(this.db, this.box, id, { secret: clientSecret, expiresAt });
    this.identity.forget(id);
    this.changes.emit('provider', id);
    await appendEvent(this.db, {
      scope: 'provider',
      scopeId: id,
      type: 'provider.secret_updated',
      message: `The client secret of "${provider.name}" was updated${expiresAt === null ? '' : `; it expires on ${expiresAt.toISOString().slice(0, 10)}`}.`,
    });
    return this.view(provider);
  }

  /**
   * Replaces the provider's credential by a certificate — uploaded, or generated here (RSA 2048,
   * self-signed, one year) — and clears a credential error. The client secret is removed.
   */
  async updateClientCertificate(id: number, input: CertificateInput): Promise<ProviderView> {
    const current = await requireProvider(this.db, id);
    const certificate = await this.certificateFrom(input, current.name);
    const provider = await setProviderCertificate(this.db, this.box, id, certificate);
    this.identity.forget(id);
    this.changes.emit('provider', id);
    const facts = certificateFacts(certificate.certificatePem);
    await appendEvent(this.db, {
      scope: 'provider',
      scopeId: id,
      type: 'provider.certificate_updated',
      message: `${'generate' in input ? 'A new certificate was generated for' : 'A certificate was uploaded to'} "${provider.name}" (thumbprint ${facts.thumbprint}, expires on ${facts.notAfter.toISOString().slice(0, 10)}).${'generate' in input ? ' Download it and upload it to the app registration in the Azure portal (Certificates & secrets → Certificates).' : ''}`,
      data: { thumbprint: facts.thumbprint, expiresAt: facts.notAfter.toISOString() },
    });
    return this.view(provider);
  }

  /** The certificate (PEM, public part only) to upload into Azure. */
  async certificatePem(id: number): Promise<{ name: string; pem: string }> {
    const provider = await requireProvider(this.db, id);
    if (provider.clientCertificatePem === null)
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `Cloud Provider "${provider.name}" has no certificate.`,
        remedy: 'Generate or upload a certificate first.',
      });
    return { name: provider.name, pem: provider.clientCertificatePem };
  }

  private async certificateFrom(
    input: CertificateInput,
    providerName: string,
  ): Promise<ClientCertificate & { expiresAt: Date }> {
    const pems: ClientCertificate =
      'generate' in input
        ? await generateClientCertificate({ commonName: `Postern ${providerName}`, now: this.db.now() })
        : { privateKeyPem: input.privateKey, certificatePem: input.certificate };
    const { credential, facts } = readClientCertificate(pems);
    if (facts.notAfter.getTime() <= this.db.now().getTime())
      throw fieldError('certificate', `expired on ${facts.notAfter.toISOString().slice(0, 10)}`);
    return { ...credential, expiresAt: facts.notAfter };
  }

  async remove(id: number): Promise<void> {
    const provider = await requireProvider(this.db, id);
    const accounts = await accountsUsingProvider(this.db, id);
    if (accounts.length > 0) {
      throw new PosternError('RESOURCE_CONFLICT', {
        message: `Cloud Provider "${provider.name}" is used by ${accounts.length === 1 ? 'the email account' : 'the email accounts'} ${accounts.join(', ')}.`,
        remedy: 'Associate those accounts with another Cloud Provider, or delete them, first.',
        details: { accounts },
      });
    }
    await deleteProvider(this.db, id);
    this.identity.forget(id);
    this.changes.emit('provider', id);
  }

  async removeGrant(providerId: number, grantId: number): Promise<void> {
    const grant = await requireGrant(this.db, grantId);
    if (grant.providerId !== providerId)
      throw new PosternError('RESOURCE_NOT_FOUND', {
        message: `There is no grant ${grantId} under Cloud Provider ${providerId}.`,
      });
    await deleteGrant(this.db, grantId);
    this.changes.emit('grant', providerId);
  }

  async get(id: number): Promise<ProviderView> {
    return this.view(await requireProvider(this.db, id));
  }

  async list(): Promise<ProviderView[]> {
    return Promise.all((await listProviders(this.db)).map((provider) => this.view(provider)));
  }

  events(id: number, before?: number): Promise<EventPage> {
    return listEvents(this.db, { scope: 'provider', scopeId: id, ...(before === undefined ? {} : { before }) });
  }

  /** The provider as the identity adapter needs it, with the secret opened. */
  async connection(id: number): Promise<ProviderConnection> {
    return connectionOf(await requireProvider(this.db, id), this.box);
  }

  async view(provider: ProviderRecord): Promise<ProviderView> {
    const grants = await listGrants(this.db, { providerId: provider.id });
    const states = await grantStatesOf(this.db, provider.id);
    const expiresMs =
      provider.clientSecretExpiresAt === null
        ? null
        : Date.parse(provider.clientSecretExpiresAt) - this.db.now().getTime();
    const secretExpiresInDays = expiresMs === null ? null : Math.floor(expiresMs / DAY_MS);
    const warnings: string[] = [];
    let certificate: ProviderView['certificate'] = null;
    if (provider.clientCertificatePem !== null) {
      const facts = certificateFacts(provider.clientCertificatePem);
      const leftMs = facts.notAfter.getTime() - this.db.now().getTime();
      const days = Math.floor(leftMs / DAY_MS);
      certificate = { ...facts, expiresInDays: days };
      if (leftMs <= 0)
        warnings.push(
          'The certificate has expired: generate or upload a new one, and upload its certificate to the app registration in the Azure portal.',
        );
      else if (days < SECRET_WARNING_DAYS)
        warnings.push(
          `The certificate expires in ${days} day(s): generate or upload a new one, and upload its certificate to the app registration in the Azure portal.`,
        );
    }
    if (secretExpiresInDays !== null && expiresMs !== null) {
      if (expiresMs <= 0)
        warnings.push(
          'The client secret has expired: generate a new one in the Azure portal and use Update Client Secret.',
        );
      else if (secretExpiresInDays < SECRET_WARNING_DAYS) {
        warnings.push(
          `The client secret expires in ${secretExpiresInDays} day(s): generate a new one in the Azure portal and use Update Client Secret.`,
        );
      }
    }
    return { provider, status: statusOf(provider, states), grants, secretExpiresInDays, certificate, warnings };
  }
}

/** The identity adapter's view of a provider. */
export function connectionOf(provider: ProviderRecord, box: SecretBox): ProviderConnection {
  return {
    providerId: provider.id,
    version: provider.updatedAt,
    applicationId: provider.applicationId,
    tenantId: provider.tenantId,
    cloud: provider.cloud,
    authorityUrl: provider.authorityUrl,
    caFile: provider.caFile,
    clientSecret: openProviderSecret(box, provider),
    clientCertificate: openProviderCertificate(box, provider),
    redirectUri: provider.redirectUri ?? '',
  };
}

function statusOf(provider: ProviderRecord, states: Record<string, number>): ProviderStatus {
  if (provider.status === 'error') return 'error';
  if ((states.reauth_required ?? 0) > 0) return 'reauth_required';
  if ((states.active ?? 0) > 0) return 'authenticated';
  return 'not_authenticated';
}

function checkAuthority(cloud: ProviderCloud, authorityUrl: string | null): void {
  if (cloud !== 'custom') return;
  if (authorityUrl === null || !/^https:\/\/[^/]+/i.test(authorityUrl)) {
    throw fieldError('authorityUrl', 'is required for the custom cloud and must be an https:// URL');
  }
}

function fieldError(field: string, problem: string): PosternError {
  return new PosternError('VALIDATION_FAILED', {
    message: `The request body is invalid: ${field}: ${problem}.`,
    details: { in: 'body', fields: [{ field, problem }] },
  });
}
