import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PosternError } from '../errors/index.js';
import { openDatabase, type Database } from '../store/index.js';
import { failureLabels } from './metered-identity.js';
import { meterDeliverer } from './metered-deliverer.js';
import { PosternMetrics } from './metrics.js';
import { parseListenAddress } from './metrics-server.js';

/** A database whose every query fails, as an unreachable server's would: one already closed. */
async function unreachable(): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'postern-metrics-'));
  const db = await openDatabase(`sqlite:${path.join(dir, 'closed.db')}`);
  await db.close();
  return db;
}

describe('PosternMetrics', () => {
  it('renders process metrics and its own families without a database', async () => {
    const metrics = new PosternMetrics();
    metrics.observeIngest('stored');
    metrics.observeIngest('stored');
    metrics.observeWebhookAttempt('retry', 0.2);
    const text = await metrics.render();
    expect(metrics.contentType).toContain('text/plain');
    expect(text).toContain('postern_messages_ingested_total{outcome="stored"} 2');
    expect(text).toContain('postern_webhook_deliveries_total{result="retry"} 1');
    expect(text).toContain('postern_database_up 0');
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('shows the log lines the process could not write, read at each scrape', async () => {
    const metrics = new PosternMetrics();
    expect(await metrics.render()).toContain('postern_log_lines_dropped 0');
    let dropped = 0;
    metrics.trackLogDrops(() => dropped);
    dropped = 7;
    expect(await metrics.render()).toContain('postern_log_lines_dropped 7');
  });

  it('reports the database down instead of failing the scrape', async () => {
    const metrics = new PosternMetrics({ db: await unreachable(), defaultMetrics: false });
    const text = await metrics.render();
    expect(text).toContain('postern_database_up 0');
    expect(text).not.toMatch(/^postern_accounts\{/m);
  });

  it('keeps each registry separate', async () => {
    const a = new PosternMetrics({ defaultMetrics: false, labels: { node: 'a' } });
    const b = new PosternMetrics({ defaultMetrics: false });
    a.observeIngest('duplicate');
    expect(await a.render()).toContain('postern_messages_ingested_total{outcome="duplicate",node="a"} 1');
    expect(await b.render()).not.toContain('outcome="duplicate"');
  });
});

describe('meterDeliverer', () => {
  it('counts sent, failed and retried deliveries by code, passing outcomes through', async () => {
    const metrics = new PosternMetrics({ defaultMetrics: false });
    const outcomes = [
      { kind: 'sent' },
      { kind: 'failed', error: { code: 'SMTP_AUTH_DISABLED' } },
      { kind: 'retry', error: { code: 'SMTP_CONNECTION_FAILED' } },
      { kind: 'stale' },
    ];
    const inner = { deliver: async (row: number) => outcomes[row] ?? { kind: 'stale' } };
    const metered = meterDeliverer(inner, metrics);
    for (let row = 0; row < outcomes.length; row += 1) expect(await metered.deliver(row, 'me')).toBe(outcomes[row]);
    const text = await metrics.render();
    expect(text).toContain('postern_messages_sent_total 1');
    expect(text).toContain('postern_messages_failed_total{code="SMTP_AUTH_DISABLED"} 1');
    expect(text).toContain('postern_message_send_retries_total{code="SMTP_CONNECTION_FAILED"} 1');
  });
});

describe('failureLabels', () => {
  it('labels a token failure with its code and AADSTS code', () => {
    expect(failureLabels(new PosternError('AUTH_SECRET_EXPIRED', { details: { aadsts: 'AADSTS7000222' } }))).toEqual({
      code: 'AUTH_SECRET_EXPIRED',
      aadsts: 'AADSTS7000222',
    });
    expect(failureLabels(new PosternError('AUTH_PROVIDER_UNAVAILABLE'))).toEqual({
      code: 'AUTH_PROVIDER_UNAVAILABLE',
      aadsts: 'none',
    });
    expect(
      failureLabels(new PosternError('AUTH_PROVIDER_UNAVAILABLE', { details: { aadsts: 'free text' } })).aadsts,
    ).toBe('none');
    expect(failureLabels(new Error('x'))).toEqual({ code: 'INTERNAL', aadsts: 'none' });
  });
});

describe('parseListenAddress', () => {
  it('reads host:port and [ipv6]:port, and refuses the rest', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseListenAddress('metrics.internal:80')).toEqual({ host: 'metrics.internal', port: 80 });
    for (const bad of ['9464', ':9464', 'host:99999', 'host:port'])
      expect(() => parseListenAddress(bad), bad).toThrow();
  });
});
