import type { Command } from 'commander';
import { PosternError } from '../../errors/index.js';
import { displayUrl } from '../../services/webhooks/webhook-payload.js';
import type { WebhookService } from '../../services/webhooks/webhook-service.js';
import type { WebhookRecord } from '../../store/index.js';
import type { Runtime } from '../runtime.js';
import { withRuntime } from '../with-runtime.js';

/** Prints one line to standard output. */
function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs `fn` with an opened runtime (console kept free of log lines), always closing it. */
function withWebhooks<T>(fn: (webhooks: WebhookService, runtime: Runtime) => Promise<T>): Promise<T> {
  return withRuntime((runtime) => fn(runtime.services.webhooks, runtime));
}

function idOf(value: string): number {
  if (!/^\d+$/.test(value))
    throw new PosternError('VALIDATION_FAILED', {
      message: `"${value}" is not a webhook id; list them with "postern webhooks list".`,
    });
  return Number(value);
}

function describe(webhook: WebhookRecord): string {
  const state = webhook.active ? 'active' : 'DISABLED';
  const failing = webhook.failureCount > 0 ? `, ${webhook.failureCount} failed attempts since the last success` : '';
  return `${webhook.id}  ${displayUrl(webhook.url)}  [${webhook.events.join(', ')}]  ${state}${failing}${webhook.description === null ? '' : `  — ${webhook.description}`}`;
}

/** `postern webhooks …`: register, list and inspect webhooks from the terminal. */
export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('Webhooks: signed HTTP POSTs of events to integrators (see docs/WEBHOOKS.md)');

  webhooks
    .command('list')
    .description('List webhooks')
    .action(() =>
      withWebhooks(async (service) => {
        const all = await service.list();
        if (all.length === 0)
          print('No webhooks. Add one with "postern webhooks add --url URL --events message.received".');
        for (const webhook of all) print(describe(webhook));
      }),
    );

  webhooks
    .command('add')
    .description('Register a webhook; prints its signing secret once')
    .requiredOption(
      '--url <url>',
      'where deliveries are POSTed (http or https, on a public address unless POSTERN_WEBHOOK_ALLOWED_NETWORKS lists its network)',
    )
    .requiredOption('--events <types>', 'comma-separated event types, families (account.*) or *')
    .option('--description <text>', 'what it is for')
    .action((opts: { url: string; events: string; description?: string }) =>
      withWebhooks(async (service) => {
        const created = await service.create({
          url: opts.url,
          events: opts.events
            .split(',')
            .map((type) => type.trim())
            .filter((type) => type !== ''),
          ...(opts.description === undefined ? {} : { description: opts.description }),
        });
        print(describe(created.webhook));
        print(`Signing secret: ${created.secret}`);
        print('It is shown only this once: verify the Postern-Signature header with it.');
      }),
    );

  for (const [name, active] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    webhooks
      .command(`${name} <id>`)
      .description(
        name === 'enable' ? 'Enable a webhook (its pending deliveries resume)' : 'Disable a webhook (deliveries wait)',
      )
      .action((id: string) =>
        withWebhooks(async (service) => print(describe(await service.update(idOf(id), { active })))),
      );
  }

  webhooks
    .command('remove <id>')
    .description('Delete a webhook and its delivery log')
    .action((id: string) =>
      withWebhooks(async (service) => {
        await service.remove(idOf(id));
        print(`Webhook ${id} deleted.`);
      }),
    );

  webhooks
    .command('deliveries <id>')
    .description('The delivery log of a webhook, newest first')
    .option('--failed', 'only deliveries given up')
    .action((id: string, opts: { failed?: boolean }) =>
      withWebhooks(async (service) => {
        const page = await service.deliveries(idOf(id), opts.failed === true ? { state: 'failed' } : {});
        if (page.items.length === 0) print('No deliveries.');
        for (const d of page.items) {
          const status = d.responseStatus === null ? '' : ` HTTP ${d.responseStatus}`;
          print(
            `${d.id}  ${d.createdAt}  ${d.eventType}  ${d.state} after ${d.attempts} attempt(s)${status}${d.lastError === null || d.state === 'delivered' ? '' : `  ${d.lastError}`}`,
          );
        }
      }),
    );
}
