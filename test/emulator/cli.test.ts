/**
 * `postern emulator`: help text, and a start from the sample seed that serves discovery and
 * prints the URLs, the CA file and the control token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../emulator/main.js';
import { registerEmulatorCommand } from '../../src/cli/commands/emulator.js';
import { CONTOSO } from './helpers/emulator.js';

describe('postern emulator', () => {
  it('documents its options in --help', () => {
    const program = new Command('postern').exitOverride();
    registerEmulatorCommand(program);
    const help = program.commands.find((c) => c.name() === 'emulator')?.helpInformation() ?? '';
    for (const option of ['--seed <file>', '--port <n>', '--data <dir>', '--http <port>', '--control-token <token>'])
      expect(help).toContain(option);
  });

  it('starts from emulator/seeds/contoso.json, prints URLs, CA file and control token, and serves discovery', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postern-emulator-cli-'));
    const lines: string[] = [];
    let discovery: unknown;
    try {
      const program = new Command('postern').exitOverride();
      registerEmulatorCommand(program, {
        print: (line) => lines.push(line),
        async waitForStop(handle: EmulatorHandle) {
          const response = await handle.fetch(
            `${handle.urls.https}/${CONTOSO.tenantId}/v2.0/.well-known/openid-configuration`,
          );
          discovery = await response.json();
        },
      });
      await program.parseAsync(
        [
          'emulator',
          '--seed',
          'emulator/seeds/contoso.json',
          '--port',
          '0',
          '--data',
          dataDir,
          '--control-token',
          'cli-test-token',
        ],
        { from: 'user' },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    const output = lines.join('\n');
    expect(output).toMatch(/Identity platform: {2}https:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('Control token:      cli-test-token');
    expect(output).toContain(`CA certificate:     ${path.join(dataDir, 'ca.pem')}`);
    expect(output).toContain(`Tenant Contoso: ${CONTOSO.tenantId} (contoso.onmicrosoft.com, contoso.com)`);
    expect(discovery).toMatchObject({ issuer: expect.stringMatching(new RegExp(`/${CONTOSO.tenantId}/v2\\.0$`)) });
  });
});
