/**
 * The console's one live subscription: an EventSource on `/api/stream` for the signed-in user,
 * shared by every page through a context. A page names what it shows (an account's list, one
 * conversation, an account's status) and is reloaded when an event concerns it, and on `resync`
 * after every (re)connect — when events may have been missed. While the stream is down (the browser
 * reconnects by itself) the pages fall back to a slow refresh, and nothing alarming is shown.
 */
import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import * as z from 'zod/mini';

const liveEvent = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('message'),
    accountId: z.number(),
    interactionId: z.nullable(z.number()),
    messageId: z.number(),
  }),
  z.object({
    kind: z.literal('delivery'),
    accountId: z.number(),
    interactionId: z.nullable(z.number()),
    messageId: z.number(),
    state: z.string(),
  }),
  z.object({ kind: z.literal('conversation'), accountId: z.number(), interactionId: z.number(), change: z.string() }),
  z.object({ kind: z.literal('account'), accountId: z.number(), change: z.string() }),
  z.object({ kind: z.literal('resync') }),
]);

/** An event of the stream; `resync` (also after a reconnect) means "anything may have changed". */
export type LiveEvent = z.infer<typeof liveEvent>;
/** An event that names what changed (all but `resync`). */
export type LiveChange = Exclude<LiveEvent, { kind: 'resync' }>;

const KINDS = ['message', 'delivery', 'conversation', 'account', 'resync'] as const;
/** Refresh while the stream is down. */
export const SAFETY_NET_MS = 60_000;
/** After the server refused the stream (a 4xx), try again after this long, doubling to the maximum. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 120_000;

type Listener = (event: LiveEvent) => void;

/** What the provider shares. */
export interface LiveHub {
  /** Whether the stream is open now. */
  readonly connected: boolean;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveHub | null>(null);

/** Opens the stream while mounted (inside the signed-in shell) and shares it. */
export function LiveProvider({ children }: { children: ComponentChildren }): JSX.Element {
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    if (typeof EventSource === 'undefined') return undefined;
    let source: EventSource | undefined;
    let retry: number | undefined;
    let wait = RETRY_FIRST_MS;
    let stopped = false;
    const emit = (event: LiveEvent): void => {
      for (const listener of [...listeners.current]) listener(event);
    };
    const open = (): void => {
      const current = new EventSource('/api/stream');
      source = current;
      current.onopen = () => {
        setConnected(true);
        wait = RETRY_FIRST_MS;
        // Whatever happened while the stream was down is read again — on the first open too: a
        // page that loaded its data before the stream was open would miss a change in between.
        emit({ kind: 'resync' });
      };
      current.onerror = () => {
        setConnected(false);
        // CONNECTING: the browser reconnects by itself (with Last-Event-ID). CLOSED: the server
        // refused (signed out, too many tabs): try again later, quietly.
        if (current.readyState === EventSource.CLOSED && !stopped) {
          current.close();
          retry = window.setTimeout(open, wait);
          wait = Math.min(wait * 2, RETRY_MAX_MS);
        }
      };
      for (const kind of KINDS) {
        current.addEventListener(kind, (message: MessageEvent<string>) => {
          let json: unknown;
          try {
            json = JSON.parse(message.data);
          } catch {
            return;
          }
          const parsed = liveEvent.safeParse(json);
          if (parsed.success) emit(parsed.data);
        });
      }
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      source?.close();
    };
  }, []);

  const hub = useMemo<LiveHub>(
    () => ({
      connected,
      subscribe: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [connected],
  );
  return <LiveContext.Provider value={hub}>{children}</LiveContext.Provider>;
}

/**
 * Calls `reload` when an event for which `concerns` is true arrives, on `resync`, every
 * {@link SAFETY_NET_MS} while the stream is down, and when the page becomes visible again while
 * it is down. Reloads never overlap: events during one ask for one more afterwards.
 */
export function useLiveRefresh(reload: () => Promise<unknown>, concerns: (event: LiveChange) => boolean): void {
  const hub = useContext(LiveContext);
  const latest = useRef({ reload, concerns });
  latest.current = { reload, concerns };
  const state = useRef({ running: false, again: false });

  const refresh = useMemo(() => {
    const run = (): void => {
      if (state.current.running) {
        state.current.again = true;
        return;
      }
      state.current.running = true;
      latest.current
        .reload()
        .catch(() => undefined)
        .finally(() => {
          state.current.running = false;
          if (!state.current.again) return;
          state.current.again = false;
          run();
        });
    };
    return run;
  }, []);

  useEffect(() => {
    if (hub === null) return undefined;
    return hub.subscribe((event) => {
      if (event.kind === 'resync' || latest.current.concerns(event)) refresh();
    });
  }, [hub?.subscribe]);

  const down = hub === null || !hub.connected;
  useEffect(() => {
    if (!down) return undefined;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') refresh();
    }, SAFETY_NET_MS);
    const onVisible = (): void => {
      if (document.visibilityState === 'visible') refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [down]);
}

/**
 * Calls `listener` with every event of the stream while mounted (for what is not a page's reload:
 * desktop notifications).
 */
export function useLiveEvents(listener: (event: LiveEvent) => void): void {
  const hub = useContext(LiveContext);
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    if (hub === null) return undefined;
    return hub.subscribe((event) => latest.current(event));
  }, [hub?.subscribe]);
}
