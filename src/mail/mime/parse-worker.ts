/**
 * The body of a parse-pool worker thread (see parse-pool.ts): receives `{ id, raw }`, answers
 * `{ id, parsed }` with what `parseMessage` made of it. `parseMessage` never throws; should
 * something else fail, the answer is `{ id, error }` and the pool parses on its own thread.
 */
import { parentPort } from 'node:worker_threads';
import { parseMessage } from './parse-message.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker.ts runs only as a worker thread');

port.on('message', (request: unknown) => {
  if (typeof request !== 'object' || request === null || !('id' in request) || !('raw' in request)) return;
  const { id, raw } = request;
  if (typeof id !== 'number' || !(raw instanceof Uint8Array)) return;
  parseMessage(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).then(
    (parsed) => port.postMessage({ id, parsed }),
    (error: unknown) => port.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
});
