/**
 * The preload itself, in a child process as `node --import` loads it (the way a `postern start`
 * child would run the global cloud): the real names reach the emulator, Node's own fetch included
 * (its bundled undici connects through `tls.connect`), the emulator's CA trusted through
 * `NODE_EXTRA_CA_CERTS`; anything else — another host, another port of a routed name, a name
 * lookup — is refused before a packet leaves. The child has no vitest setup refusing connections:
 * what is refused here, the preload refused.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTOSO, startTestEmulator, type TestEmulator } from '../emulator/helpers/emulator.js';

const PRELOAD = path.resolve(import.meta.dirname, '../helpers/global-cloud-preload.mjs');

let emulator: TestEmulator;
/** The same emulator without `microsoftHostNames`: its certificate names only localhost and loopback. */
let plain: TestEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator({ microsoftHostNames: true, exchange: false });
  plain = await startTestEmulator({ exchange: false });
});
afterAll(async () => {
  await emulator?.stop();
  await plain?.stop();
});

const routesTo = (target: TestEmulator) => ({
  NODE_EXTRA_CA_CERTS: target.handle.caFile,
  // IMAP and SMTP are not started here: their ports are never dialled.
  POSTERN_TEST_GLOBAL_CLOUD: JSON.stringify({
    https: Number(new URL(target.handle.urls.https).port),
    imap: 1,
    smtp: 1,
  }),
});

const SCRIPT = `
const net = require('node:net');
const dns = require('node:dns');
const outcome = async (run) => { try { return { ok: await run() }; } catch (e) { return { error: String((e && e.cause && e.cause.message) || (e && e.message)) }; } };
(async () => {
  const result = {
    discovery: await outcome(async () => (await (await fetch('https://login.microsoftonline.com/${CONTOSO.tenantId}/v2.0/.well-known/openid-configuration')).json()).issuer),
    otherHost: await outcome(async () => (await fetch('https://example.com/')).status),
    otherPort: await outcome(async () => (await fetch('https://login.microsoftonline.com:8443/')).status),
    rawSocket: await outcome(() => new Promise((resolve, reject) => { const s = net.connect(443, 'example.com', () => resolve('connected')); s.on('error', reject); })),
    lookup: await outcome(() => dns.promises.lookup('example.com')),
  };
  process.stdout.write(JSON.stringify(result));
})();
`;

function runChild(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', PRELOAD, '-e', SCRIPT], {
      env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the global-cloud preload in a child process', () => {
  it('routes login.microsoftonline.com to the emulator with its name checked, and refuses everything else', async () => {
    const child = await runChild(routesTo(emulator));
    expect(child.code, child.stderr).toBe(0);
    const result = JSON.parse(child.stdout) as Record<string, { ok?: unknown; error?: string }>;
    expect(result.discovery).toEqual({ ok: `https://login.microsoftonline.com/${CONTOSO.tenantId}/v2.0` });
    for (const refused of ['otherHost', 'otherPort', 'rawSocket', 'lookup'])
      expect(result[refused], refused).toEqual({ error: expect.stringMatching(/^global-cloud preload refused /) });
    expect(result.otherHost?.error).toMatch(/refused a connection to example\.com/);
    expect(result.otherPort?.error).toMatch(/login\.microsoftonline\.com:8443 \(only port 443 is routed\)/);
    expect(result.rawSocket?.error).toMatch(/refused a connection to example\.com/);
    expect(result.lookup?.error).toMatch(/refused a lookup of example\.com/);

    // The certificate is checked against the real name, not the loopback address dialled: an
    // emulator whose certificate lacks the name is refused.
    const unnamed = await runChild(routesTo(plain));
    const refused = JSON.parse(unnamed.stdout) as Record<string, { ok?: unknown; error?: string }>;
    expect(refused.discovery?.error).toMatch(/Hostname\/IP does not match certificate's altnames/);
  });

  it('puts the real names on the emulator’s certificate only when asked', () => {
    expect(new X509Certificate(plain.handle.tls.certPem).checkHost('login.microsoftonline.com')).toBeUndefined();
    const named = new X509Certificate(emulator.handle.tls.certPem);
    for (const host of [
      'login.microsoftonline.com',
      'graph.microsoft.com',
      'outlook.office365.com',
      'smtp.office365.com',
    ])
      expect(named.checkHost(host), host).toBe(host);
  });
});
