import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormBrowser } from '../emulator/helpers/browser.js';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';
import { runCliAsync as runCli, spawnCli } from '../helpers/cli.js';

let emulator: TestEmulator;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await startTestEmulator();
  env = { POSTERN_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'postern-cli-providers-')) };
});
afterAll(async () => emulator.stop());

async function add(name: string, appId: string, grantType: string, secret?: string) {
  const args = [
    'providers',
    'add',
    '--name',
    name,
    '--application-id',
    appId,
    '--tenant-id',
    CONTOSO.tenantId,
    '--cloud',
    'custom',
    '--authority-url',
    emulator.base,
    '--ca-file',
    emulator.handle.caFile,
    '--grant-type',
    grantType,
  ];
  return await runCli(
    secret === undefined ? args : [...args, '--client-secret-stdin'],
    env,
    secret === undefined ? undefined : `${secret}\n`,
  );
}

// Each test runs three to five CLI processes in a row, and each process loads the whole program
// (about 1.5 s of CPU, several seconds of wall time on a busy machine): the budget is per process,
// as in start.test.ts's administration commands.
describe('postern providers', { timeout: 120_000 }, () => {
  it('signs in with client credentials (app-only)', async () => {
    const added = await add('Daemon', CONTOSO.daemon.appId, 'client_credentials', CONTOSO.daemon.secret);
    expect(added.stdout, added.stderr).toContain('Created Cloud Provider "Daemon"');
    const signed = await runCli(['providers', 'authenticate', 'daemon'], env);
    expect(signed.stdout, signed.stderr).toContain('The application obtained a token');
    expect((await runCli(['providers', 'show', 'Daemon'], env)).stdout).toMatch(/Daemon \(id \d+\) — authenticated/);
  });

  it('switches the daemon to a generated certificate, writes it for Azure, and signs in with it', async () => {
    expect((await add('Cert daemon', CONTOSO.daemon.appId, 'client_credentials', CONTOSO.daemon.secret)).status).toBe(
      0,
    );
    const out = path.join(env.POSTERN_DATA_DIR ?? '', 'cert-daemon.pem');
    const generated = await runCli(['providers', 'certificate', 'Cert daemon', '--generate', '--out', out], env);
    expect(generated.stdout, generated.stderr).toMatch(/now signs in with the certificate [0-9A-F]{40}/);
    const pem = fs.readFileSync(out, 'utf8');
    expect(pem).toContain('-----BEGIN CERTIFICATE-----');
    expect(pem).not.toContain('PRIVATE KEY');
    await emulator.control('POST', `/apps/${CONTOSO.daemon.appId}/certificates`, { certificate: pem });
    const signed = await runCli(['providers', 'authenticate', 'Cert daemon'], env);
    expect(signed.stdout, signed.stderr).toContain('The application obtained a token');
    expect((await runCli(['providers', 'show', 'Cert daemon'], env)).stdout).toMatch(
      /certificate +[0-9A-F]{40} \(CN=Postern Cert daemon\)/,
    );
  });

  it('signs in with the password grant (ROPC) on a public client, and explains MFA', async () => {
    expect((await add('Public', CONTOSO.publicClient.appId, 'password')).status).toBe(0);
    const signed = await runCli(
      ['providers', 'authenticate', 'Public', '--username', CONTOSO.andrea.upn, '--password-stdin'],
      env,
      `${CONTOSO.andrea.password}\n`,
    );
    expect(signed.stdout, signed.stderr).toContain('Signed in as andrea@contoso.com');
    const mfa = await runCli(
      ['providers', 'authenticate', 'Public', '--username', CONTOSO.giulia.upn, '--password-stdin'],
      env,
      `${CONTOSO.giulia.password}\n`,
    );
    expect(mfa.status).toBe(1);
    expect(mfa.stderr).toContain('Error AUTH_MFA_REQUIRED');
    expect(mfa.stderr).toMatch(/What to do: .*device code/);
    expect(mfa.stderr).not.toContain(CONTOSO.giulia.password);
  });

  it('runs the device code flow headless until the user enters the code', async () => {
    expect(
      (
        await runCli(
          [
            'providers',
            'add',
            '--name',
            'Device',
            '--application-id',
            CONTOSO.publicClient.appId,
            '--tenant-id',
            CONTOSO.tenantId,
            '--cloud',
            'custom',
            '--authority-url',
            emulator.base,
            '--ca-file',
            emulator.handle.caFile,
            '--grant-type',
            'device_code',
          ],
          env,
        )
      ).status,
    ).toBe(0);
    const cli = spawnCli(['providers', 'authenticate', 'Device'], env);
    const [, userCode] = await cli.waitFor(/enter the code (\S+)/);
    const walked = await new FormBrowser(emulator.handle.fetch).walk(`${emulator.base}/devicelogin`, {
      userCode: userCode ?? '',
      username: CONTOSO.marco.upn,
      password: CONTOSO.marco.password,
    });
    expect(walked.kind).toBe('page');
    await cli.waitFor(/Signed in as marco@contoso\.com/);
    expect(await cli.exited).toBe(0);
  });

  it('prints a one-time console link for the administrator named (authorization code), and refuses bad options by name', async () => {
    expect((await add('Web', CONTOSO.web.appId, 'authorization_code', CONTOSO.web.secret)).status).toBe(0);
    expect((await runCli(['users', 'add', 'ops', '--role', 'admin'], env)).status).toBe(0);
    const unnamed = await runCli(['providers', 'authenticate', 'Web', '--login-hint', CONTOSO.andrea.upn], env);
    expect(unnamed.status).toBe(1);
    expect(unnamed.stderr).toContain('needs --user');
    expect(unnamed.stdout).not.toContain('authorize?');
    const link = await runCli(
      ['providers', 'authenticate', 'Web', '--login-hint', CONTOSO.andrea.upn, '--user', 'ops'],
      env,
    );
    expect(link.status, link.stderr).toBe(0);
    expect(link.stdout).toContain('signed in to the Postern console as "ops", within 10 minutes');
    expect(link.stdout).toMatch(/^http:\/\/localhost:8080\/api\/cloudProviders\/\d+\/signIn\?ticket=psi_[\w-]{43}$/m);
    // An authorize URL printed here could be completed by any browser: it is never printed.
    expect(link.stdout).not.toContain(emulator.base);
    const bad = await runCli(
      ['providers', 'add', '--name', 'Bad', '--application-id', 'abc', '--tenant-id', 'x y'],
      env,
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/applicationId: must be the Application \(client\) ID/);
    expect(bad.stderr).toMatch(/tenantId: must be the Directory \(tenant\) ID/);
    expect((await runCli(['providers', 'list'], env)).stdout).toMatch(/Web\s+not_authenticated/);
  });
});
