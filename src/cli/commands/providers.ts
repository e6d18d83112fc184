import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { providerBody } from '../../domain/cloud-provider-fields.js';
import { PosternError, parseOrThrow } from '../../errors/index.js';
import type { ProviderInput, ProviderView } from '../../services/identity/provider-service.js';
import type { Services } from '../../services/index.js';
import { print, withRuntime } from '../with-runtime.js';

function readStdinLine(what: string): string {
  const line = readFileSync(0, 'utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new PosternError('VALIDATION_FAILED', { message: `No ${what} was given on standard input.` });
  return line;
}

/** A provider by id or by name (case-insensitive). */
async function findProvider(services: Services, ref: string): Promise<ProviderView> {
  if (/^\d+$/.test(ref)) return services.providers.get(Number(ref));
  const match = (await services.providers.list()).find(
    (view) => view.provider.name.toLowerCase() === ref.toLowerCase(),
  );
  if (match === undefined) {
    throw new PosternError('RESOURCE_NOT_FOUND', {
      message: `There is no Cloud Provider "${ref}".`,
      remedy: 'List them with "postern providers list".',
    });
  }
  return match;
}

function describe(view: ProviderView): string[] {
  const p = view.provider;
  const lines = [
    `${p.name} (id ${p.id}) — ${view.status}`,
    `  application id  ${p.applicationId}`,
    `  tenant id       ${p.tenantId}`,
    `  grant type      ${p.grantType}`,
    `  redirect URI    ${p.redirectUri ?? '(none)'}`,
    `  cloud           ${p.cloud}${p.authorityUrl === null ? '' : ` (${p.authorityUrl})`}`,
    `  client secret   ${p.clientSecretHint === null ? '(none)' : `…${p.clientSecretHint}`}${p.clientSecretExpiresAt === null ? '' : `, expires ${p.clientSecretExpiresAt.slice(0, 10)}`}`,
    `  scopes          ${p.scopes.join(' ')}`,
  ];
  if (view.certificate !== null)
    lines.push(
      `  certificate     ${view.certificate.thumbprint} (${view.certificate.subject}), expires ${view.certificate.notAfter.toISOString().slice(0, 10)}`,
    );
  if (p.lastError !== null)
    lines.push(
      `  last error      ${p.lastError.code}: ${p.lastError.message}`,
      `  what to do      ${p.lastError.remedy ?? ''}`,
    );
  for (const warning of view.warnings) lines.push(`  warning         ${warning}`);
  for (const g of view.grants) {
    lines.push(`  grant ${g.id}: ${g.upn ?? 'application'} — ${g.state}, last refresh ${g.lastRefreshAt ?? 'never'}`);
    if (g.lastError !== null)
      lines.push(
        `    ${g.lastError.code}: ${g.lastError.message}${g.lastError.remedy === null ? '' : ` — ${g.lastError.remedy}`}`,
      );
  }
  return lines;
}

interface AddOptions {
  name: string;
  applicationId: string;
  tenantId: string;
  clientSecretStdin?: boolean;
  secretExpires?: string;
  redirectUri?: string;
  cloud?: string;
  authorityUrl?: string;
  caFile?: string;
  grantType?: string;
  scopes?: string;
}

export function registerProviderCommands(program: Command): void {
  const providers = program
    .command('providers')
    .description('Cloud Providers: Azure app registrations and their sign-ins');

  providers
    .command('add')
    .description('Create a Cloud Provider (Service: Microsoft Azure, Type: Outlook365)')
    .requiredOption('--name <name>', 'a name')
    .requiredOption('--application-id <guid>', 'the Application (client) ID')
    .requiredOption('--tenant-id <id>', 'the Directory (tenant) ID')
    .option('--client-secret-stdin', 'read the client secret Value from standard input')
    .option('--secret-expires <date>', 'the expiry date of the client secret, e.g. 2027-06-30')
    .option('--redirect-uri <uri>', 'the redirect URI registered in Azure (default: from POSTERN_PUBLIC_URL)')
    .option('--cloud <cloud>', 'global, usgov, usgov-dod, china or custom', 'global')
    .option('--authority-url <url>', 'the authority of a custom cloud (e.g. the emulator)')
    .option('--ca-file <file>', 'an extra CA certificate to trust for a custom authority')
    .option(
      '--grant-type <type>',
      'authorization_code, device_code, client_credentials or password',
      'authorization_code',
    )
    .option('--scopes <scopes>', 'space-separated scopes (default: IMAP and SMTP scopes)')
    .action((opts: AddOptions) =>
      withRuntime(async ({ services }) => {
        const fields = parseOrThrow(
          providerBody,
          {
            name: opts.name,
            applicationId: opts.applicationId,
            tenantId: opts.tenantId,
            clientSecret: opts.clientSecretStdin ? readStdinLine('client secret') : undefined,
            clientSecretExpiresAt: opts.secretExpires,
            redirectUri: opts.redirectUri,
            cloud: opts.cloud,
            authorityUrl: opts.authorityUrl,
            caFile: opts.caFile,
            grantType: opts.grantType,
            scopes: opts.scopes?.split(/\s+/).filter(Boolean),
          },
          'options',
        );
        const input: ProviderInput = fields;
        const view = await services.providers.create(input);
        print(`Created Cloud Provider "${view.provider.name}" (id ${view.provider.id}).`);
        print(
          `Register this redirect URI in the Azure portal (Authentication → Web): ${view.provider.redirectUri ?? ''}`,
        );
      }),
    );

  providers
    .command('list')
    .description('List Cloud Providers and their status')
    .action(() =>
      withRuntime(async ({ services }) => {
        const views = await services.providers.list();
        if (views.length === 0) print('(none)');
        for (const view of views) {
          const who = view.grants.map((g) => g.upn ?? 'application').join(', ');
          print(`${view.provider.id}  ${view.provider.name}  ${view.status}${who === '' ? '' : `  (${who})`}`);
        }
      }),
    );

  providers
    .command('show <provider>')
    .description('Show a Cloud Provider, its grants and last error')
    .action((ref: string) =>
      withRuntime(async ({ services }) => describe(await findProvider(services, ref)).forEach((line) => print(line))),
    );

  providers
    .command('authenticate <provider>')
    .description(
      'Sign the provider in: prints a one-time console link to open (authorization code), runs the device code flow, or signs in directly (client credentials, password)',
    )
    .option('--login-hint <address>', 'the user to sign in as (the delegate, for a shared mailbox)')
    .option('--user <username>', 'authorization code: the console administrator who will open the link')
    .option('--username <address>', 'password grant: the mailbox user')
    .option('--password-stdin', 'password grant: read the password from standard input')
    .action((ref: string, opts: { loginHint?: string; user?: string; username?: string; passwordStdin?: boolean }) =>
      withRuntime(async ({ services }) => {
        const { provider } = await findProvider(services, ref);
        switch (provider.grantType) {
          case 'authorization_code': {
            // The CLI has no browser session to bind a sign-in to: it gets a one-time console
            // link that only the named administrator's session can open.
            if (opts.user === undefined) {
              throw new PosternError('VALIDATION_FAILED', {
                message:
                  'A browser sign-in from the CLI needs --user: the console administrator who will open the link.',
                remedy:
                  'Add --user <username> (see "postern users list"), then open the printed link while signed in as that user.',
              });
            }
            const user = await services.users.getByUsername(opts.user);
            const link = await services.signIn.issueSignInLink(provider.id, user.id, {
              loginHint: opts.loginHint ?? null,
            });
            print(link.instructions);
            print(link.url);
            return;
          }
          case 'device_code': {
            const flow = await services.signIn.startDeviceCode(provider.id);
            print(flow.message);
            const done = await services.signIn.waitForDeviceFlow(flow.flowId);
            if (done.state === 'failed') throw done.error ?? new PosternError('AUTH_DEVICE_CODE_EXPIRED');
            print(`Signed in as ${done.grant?.upn ?? 'unknown'}.`);
            return;
          }
          case 'client_credentials': {
            const grant = await services.signIn.signInAsApp(provider.id);
            print(
              `The application obtained a token (grant ${grant.id}, scopes: ${grant.scopes.join(' ') || 'app roles'}).`,
            );
            return;
          }
          case 'password': {
            if (opts.username === undefined || !opts.passwordStdin) {
              throw new PosternError('VALIDATION_FAILED', {
                message: 'The password grant needs --username and --password-stdin.',
              });
            }
            const grant = await services.signIn.signInWithPassword(
              provider.id,
              opts.username,
              readStdinLine('password'),
            );
            print(`Signed in as ${grant.upn ?? opts.username}.`);
          }
        }
      }),
    );

  providers
    .command('secret <provider>')
    .description('Update Client Secret: read the new secret Value from standard input')
    .option('--expires <date>', 'its expiry date, e.g. 2027-06-30')
    .action((ref: string, opts: { expires?: string }) =>
      withRuntime(async ({ services }) => {
        const { provider } = await findProvider(services, ref);
        const view = await services.providers.updateClientSecret(
          provider.id,
          readStdinLine('client secret'),
          opts.expires === undefined ? null : parseDate(opts.expires),
        );
        print(`The client secret of "${view.provider.name}" was updated (…${view.provider.clientSecretHint ?? ''}).`);
      }),
    );

  providers
    .command('certificate <provider>')
    .description(
      'Use a certificate instead of the client secret: --generate a new key pair (RSA 2048, self-signed, one year), or --key and --cert PEM files; --out writes the certificate (public part) to upload to Azure',
    )
    .option('--generate', 'let Postern generate the key pair and certificate')
    .option('--key <file>', 'the PEM private key (unencrypted)')
    .option('--cert <file>', 'the PEM certificate of that key')
    .option('--out <file>', "write the provider's certificate (PEM, no private key) to this file")
    .action((ref: string, opts: { generate?: boolean; key?: string; cert?: string; out?: string }) =>
      withRuntime(async ({ services }) => {
        const { provider } = await findProvider(services, ref);
        if (opts.generate === true || opts.key !== undefined || opts.cert !== undefined) {
          if (opts.generate !== true && (opts.key === undefined || opts.cert === undefined))
            throw new PosternError('VALIDATION_FAILED', {
              message: 'Give --generate, or both --key and --cert.',
            });
          const view = await services.providers.updateClientCertificate(
            provider.id,
            opts.generate === true
              ? { generate: true }
              : {
                  privateKey: readFileSync(opts.key ?? '', 'utf8'),
                  certificate: readFileSync(opts.cert ?? '', 'utf8'),
                },
          );
          print(
            `"${view.provider.name}" now signs in with the certificate ${view.certificate?.thumbprint ?? ''} (expires ${view.certificate?.notAfter.toISOString().slice(0, 10) ?? ''}); its client secret was removed.`,
          );
        }
        const { pem } = await services.providers.certificatePem(provider.id);
        if (opts.out !== undefined) {
          writeFileSync(opts.out, pem, { mode: 0o644 });
          print(
            `Wrote the certificate to ${opts.out}: upload it to the app registration in the Azure portal (Certificates & secrets → Certificates).`,
          );
        } else if (opts.generate !== true && opts.key === undefined) {
          print(pem.trimEnd());
        }
      }),
    );

  providers
    .command('delete <provider>')
    .description('Delete a Cloud Provider that no email account uses')
    .action((ref: string) =>
      withRuntime(async ({ services }) => {
        const { provider } = await findProvider(services, ref);
        await services.providers.remove(provider.id);
        print(`Deleted Cloud Provider "${provider.name}".`);
      }),
    );
}

function parseDate(text: string): Date {
  const value = Date.parse(text);
  if (Number.isNaN(value))
    throw new PosternError('VALIDATION_FAILED', { message: `"${text}" is not a date; write it like 2027-06-30.` });
  return new Date(value);
}
