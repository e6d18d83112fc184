/**
 * The separate metrics listener (`POSTERN_METRICS_LISTEN=host:port`): `/metrics` without a token,
 * for a Prometheus on a private network. It serves nothing else; bind it to an address only the
 * scraper reaches. On the main port `/metrics` always requires an administrator's token.
 */
import http from 'node:http';
import type { PosternMetrics } from './metrics.js';

/** A running metrics listener. */
export interface MetricsServer {
  /** `http://host:port` actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/** Splits `host:port` (`[::1]:9464` for IPv6). */
export function parseListenAddress(value: string): { host: string; port: number } {
  const match = /^(\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[4]);
  const host = match?.[2] ?? match?.[3];
  if (host === undefined || !Number.isInteger(port) || port > 65535) throw new Error(`"${value}" is not host:port`);
  return { host, port };
}

/** Starts the listener. */
export async function startMetricsServer(
  metrics: PosternMetrics,
  listen: string,
  onError: (error: unknown) => void = () => undefined,
): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(listen);
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Only GET /metrics is served here.\n');
      return;
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        onError(error);
        response
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end('The metrics could not be collected.\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address : { address: host, port, family: 'IPv4' };
  const shownHost = bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
