/**
 * A server-sent events reader for tests: `fetch` with a streamed body, split into events and
 * comment lines as the WHATWG parsing rules say (fields `id`, `event`, `data`; a blank line ends
 * an event; a line starting with `:` is a comment). Everything read is kept, so that a test can
 * wait for an event and then look at all that came.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** One event as read. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** An open stream. */
export interface SseStream {
  readonly status: number;
  readonly contentType: string | null;
  readonly events: SseEvent[];
  readonly comments: string[];
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  /** The first event (from the start) matching `match`; rejects after `timeoutMs` naming `what`. */
  waitFor(what: string, match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once `count` comment lines arrived. */
  waitForComments(count: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Opens `url` as an event stream with these request headers; the body is read in the background. */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  let done = false;

  const read = async (): Promise<void> => {
    if (response.body === null) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let id: string | undefined;
    let event = '';
    let data: string[] = [];
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data.length > 0 || event !== '')
              events.push({ id, event: event === '' ? 'message' : event, data: data.join('\n') });
            event = '';
            data = [];
          } else if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const rest = colon < 0 ? '' : line.slice(colon + 1);
            const value = rest.startsWith(' ') ? rest.slice(1) : rest;
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          notify();
        }
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      notify();
    }
  };
  const ended = read();

  const wait = <T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = probe();
        if (found !== undefined) {
          cleanup();
          resolve(found);
        } else if (done) {
          cleanup();
          reject(new Error(`the stream ended before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; events so far: ${JSON.stringify(events)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    comments,
    ended,
    waitFor: (what, match, timeoutMs = 20_000) => wait(what, () => events.find(match), timeoutMs),
    waitForComments: (count, timeoutMs = 20_000) =>
      wait(`${count} comment lines`, () => (comments.length >= count ? true : undefined), timeoutMs).then(
        () => undefined,
      ),
    close: () => abort.abort(),
  };
}

/** The JSON of an event's data. */
export function dataOf(event: SseEvent): Record<string, unknown> {
  const parsed: unknown = JSON.parse(event.data);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`not an object: ${event.data}`);
  return Object.fromEntries(Object.entries(parsed));
}
