/**
 * The body of a parse-pool worker thread (see parse-pool.ts): receives `{ id, raw }`, answers
 * `{ id, parsed }` with what `parseMessage` made of it. `parseMessage` never throws; should
 * something else fail, the answer is `{ id, error }` and the pool parses on its own thread.
 *
 * Attachment contents that own their whole memory are moved to the pool's thread rather than
 * copied (nothing here uses them after the answer); any other is copied.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { parseMessage, type ParsedMessage } from './parse-message.js';

if (parentPort === null) throw new Error('parse-worker.ts runs only as a worker thread');
const port: MessagePort = parentPort;

/**
 * One message at a time, in the order they came. Parsing is asynchronous (mailparser streams), so
 * starting every queued message at once would interleave them all and return the first answer
 * only when nearly the whole batch is parsed — holding up the commits that wait for it.
 */
const queue: Array<{ id: number; raw: Buffer }> = [];
let busy = false;

port.on('message', (request: unknown) => {
  if (typeof request !== 'object' || request === null || !('id' in request) || !('raw' in request)) return;
  const { id, raw } = request;
  if (typeof id !== 'number' || !(raw instanceof Uint8Array)) return;
  queue.push({ id, raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) });
  if (!busy) void drain();
});

async function drain(): Promise<void> {
  busy = true;
  for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
    const { id, raw } = job;
    try {
      const parsed = await parseMessage(raw);
      port.postMessage({ id, parsed }, movable(parsed));
    } catch (error) {
      port.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  }
  busy = false;
}

/** The attachment buffers that can be moved: each the only view of its memory (never a pooled slab). */
function movable(parsed: ParsedMessage): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const shared = new Set<ArrayBufferLike>();
  for (const { content } of parsed.attachments) {
    const memory = content.buffer;
    if (
      !(memory instanceof ArrayBuffer) ||
      content.byteOffset !== 0 ||
      content.byteLength !== memory.byteLength ||
      buffers.has(memory)
    ) {
      shared.add(memory);
      continue;
    }
    buffers.add(memory);
  }
  for (const memory of shared) if (memory instanceof ArrayBuffer) buffers.delete(memory);
  return [...buffers];
}
