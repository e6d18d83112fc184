/**
 * Helpers of the observability suites: the events, webhooks and metrics routes on an app of
 * their own (until they are registered in buildApp), a webhook receiver on loopback whose answers
 * a test scripts, a Prometheus text parser, and polling.
 */
import http from 'node:http';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Runtime } from '../../src/cli/runtime.js';
import { registerAuth } from '../../src/http/plugins/auth.js';
import { registerErrorHandling } from '../../src/http/plugins/errors.js';
import { eventRoutes } from '../../src/http/routes/events/index.js';
import { metricsRoutes, registerHttpMetrics } from '../../src/http/routes/metrics/index.js';
import { webhookRoutes } from '../../src/http/routes/webhooks/index.js';
import type { PosternMetrics } from '../../src/metrics/index.js';

/** The observability routes over a runtime's services, with the real auth and error plugins. */
export async function buildObservabilityApp(runtime: Runtime, metrics: PosternMetrics): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = runtime.log.logger.child({ component: 'http' });
  const app = Fastify({ loggerInstance, requestIdHeader: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  await app.register(fastifySwagger, {
    openapi: { openapi: '3.1.0', info: { title: 'test', version: 'test' } },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyCookie);
  registerAuth(app, runtime.services.auth);
  registerHttpMetrics(app, metrics);
  await app.register(eventRoutes, { events: runtime.services.events });
  await app.register(webhookRoutes, { webhooks: runtime.services.webhooks });
  await app.register(metricsRoutes, { metrics });
  await app.ready();
  return app;
}

/** One request a receiver got. */
export interface ReceivedRequest {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

/** A webhook receiver on loopback. */
export interface Receiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Statuses to answer next, in order; afterwards `fallback`. */
  script(statuses: number[], fallback?: number): void;
  close(): Promise<void>;
}

/** Starts a receiver answering 200 unless scripted otherwise. */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let queue: number[] = [];
  let fallback = 200;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = queue.shift() ?? fallback;
      requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response
        .writeHead(status, { 'content-type': 'text/plain' })
        .end(status < 300 ? 'ok' : `receiver says no (${status})`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the receiver has no port');
  const { port } = address;
  return {
    url: `http://127.0.0.1:${port}/hooks/postern?source=test`,
    requests,
    script(statuses, next = 200) {
      queue = [...statuses];
      fallback = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { until } from '../helpers/until.js';

/** One sample of the exposition: `name{labels} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\b([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the Prometheus text format strictly: every line is a `# HELP`, a `# TYPE` of a known
 * type, or a sample of a declared family with well-formed labels and a numeric value.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name === undefined || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? ''))
        throw new Error(`line ${index + 1}: bad TYPE: ${line}`);
      types.set(name, type ?? '');
      continue;
    }
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`line ${index + 1} is not a sample: ${line}`);
    const name = match[1] ?? '';
    const family = [...types.keys()].find(
      (declared) =>
        name === declared ||
        (/_(bucket|sum|count|total|created)$/.test(name.slice(declared.length)) && name.startsWith(declared)),
    );
    if (family === undefined) throw new Error(`line ${index + 1}: ${name} has no TYPE`);
    const labels: Record<string, string> = {};
    const labelText = match[3] ?? '';
    const consumed = [...labelText.matchAll(LABEL)].map((label) => {
      labels[label[1] ?? ''] = (label[2] ?? '').replace(/\\(.)/g, (_all, char: string) => (char === 'n' ? '\n' : char));
      return label[0];
    });
    if (consumed.join(',') !== labelText) throw new Error(`line ${index + 1}: malformed labels: ${labelText}`);
    const raw = match[4] ?? '';
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    // Prometheus reads NaN in any case (Go's ParseFloat); prom-client writes `Nan`, e.g. for the
    // event-loop lag percentiles of a process scraped before the first lag sample.
    if (Number.isNaN(value) && raw.toLowerCase() !== 'nan') throw new Error(`line ${index + 1}: bad value ${raw}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

/** The value of one series (0 when absent). */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value ?? 0;
}
