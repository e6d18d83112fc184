import { useEffect, useRef } from 'preact/hooks';

/**
 * Calls `tick` every `ms` while the page is visible, and at once when it becomes visible again,
 * so that new mail shows without a reload and a hidden tab costs nothing.
 */
export function usePolling(tick: () => void, ms: number, key: string): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') latest.current();
    }, ms);
    const onVisible = (): void => {
      if (document.visibilityState === 'visible') latest.current();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [ms, key]);
}
