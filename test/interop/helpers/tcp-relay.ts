/**
 * A TCP relay on loopback between Postern and an IMAP server: bytes pass through untouched (TLS
 * stays end to end), and, when armed, the next connection is cut — both sides destroyed, no BYE —
 * once the server has sent a given number of bytes through it, as a network failure in the middle
 * of a large FETCH would.
 */
import net from 'node:net';

export interface TcpRelay {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Cuts the next connection once the server has sent `bytes` through it; `onCut` runs then. */
  cutNext(bytes: number, onCut?: () => void): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  let connections = 0;
  let cuts = 0;
  let armed: { bytes: number; onCut?: () => void } | undefined;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections += 1;
    const plan = armed;
    armed = undefined;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      // Either side failing ends both: the other sees the connection go.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    if (plan === undefined) {
      upstream.pipe(client);
      return;
    }
    let sent = 0;
    let cut = false;
    upstream.on('data', (chunk: Buffer) => {
      if (cut || client.destroyed) return;
      const room = plan.bytes - sent;
      if (chunk.length < room) {
        sent += chunk.length;
        if (!client.write(chunk)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
        return;
      }
      cut = true;
      cuts += 1;
      client.write(chunk.subarray(0, room), () => {
        client.destroy();
        upstream.destroy();
      });
      plan.onCut?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    get cuts() {
      return cuts;
    },
    cutNext(bytes, onCut) {
      armed = { bytes, ...(onCut === undefined ? {} : { onCut }) };
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
