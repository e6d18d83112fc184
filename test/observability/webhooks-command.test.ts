/** `postern webhooks` in-process against a fresh data directory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerWebhookCommands } from '../../src/cli/commands/webhooks.js';

let dataDir: string;
let allowed = '';

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-webhooks-command-'));
});

afterEach(() => {
  allowed = '';
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function webhooks(...args: string[]): Promise<string[]> {
  vi.stubEnv('POSTERN_DATA_DIR', dataDir);
  vi.stubEnv('POSTERN_WEBHOOK_ALLOWED_NETWORKS', allowed);
  vi.stubEnv('POSTERN_LOG_CONSOLE', 'false');
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    const program = new Command('postern').exitOverride();
    registerWebhookCommands(program);
    await program.parseAsync(['node', 'postern', 'webhooks', ...args]);
  } finally {
    vi.mocked(process.stdout.write).mockRestore();
  }
  return out
    .join('')
    .split('\n')
    .filter((line) => line !== '');
}

describe('postern webhooks', () => {
  it('adds a webhook showing its secret once, lists it without, disables and removes it', async () => {
    expect(await webhooks('list')).toEqual([
      'No webhooks. Add one with "postern webhooks add --url URL --events message.received".',
    ]);
    const added = await webhooks(
      'add',
      '--url',
      'https://203.0.113.10/hook?token=abc',
      '--events',
      'message.received, account.*',
      '--description',
      'CRM',
    );
    expect(added[0]).toBe('1  https://203.0.113.10/hook  [message.received, account.*]  active  — CRM');
    expect(added[1]).toMatch(/^Signing secret: whsec_[A-Za-z0-9_-]{43}$/);
    const listed = await webhooks('list');
    expect(listed).toEqual([added[0]]);
    expect((await webhooks('disable', '1'))[0]).toContain('DISABLED');
    expect(await webhooks('deliveries', '1')).toEqual(['No deliveries.']);
    expect(await webhooks('remove', '1')).toEqual(['Webhook 1 deleted.']);
    await expect(webhooks('remove', 'x')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(webhooks('add', '--url', 'ftp://x', '--events', '*')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('refuses a receiver inside the network unless POSTERN_WEBHOOK_ALLOWED_NETWORKS lists it', async () => {
    await expect(
      webhooks('add', '--url', 'http://169.254.169.254/latest/meta-data/', '--events', '*'),
    ).rejects.toMatchObject({ code: 'WEBHOOK_TARGET_REFUSED', details: { reason: 'link-local' } });
    await expect(webhooks('add', '--url', 'http://10.0.0.8:9000/hook', '--events', '*')).rejects.toMatchObject({
      code: 'WEBHOOK_TARGET_REFUSED',
      message: 'The webhook URL is refused: 10.0.0.8 is on a private network; webhooks are not delivered there.',
    });
    allowed = '10.0.0.0/8';
    const added = await webhooks('add', '--url', 'http://10.0.0.8:9000/hook', '--events', '*');
    expect(added[0]).toMatch(/^\d+ {2}http:\/\/10\.0\.0\.8:9000\/hook {2}\[\*\] {2}active$/);
  });
});
