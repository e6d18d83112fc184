import { useState } from 'preact/hooks';
import type { ApiError } from '../api/client.js';
import { toApiError } from './use-resource.js';

export interface Submission {
  busy: boolean;
  error: ApiError | undefined;
  /** Runs an action once at a time, keeping its error for display. Resolves true on success. */
  run(action: () => Promise<void>): Promise<boolean>;
  clear(): void;
}

export function useSubmit(): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  return {
    busy,
    error,
    clear: () => setError(undefined),
    async run(action) {
      if (busy) return false;
      setBusy(true);
      setError(undefined);
      try {
        await action();
        return true;
      } catch (caught) {
        setError(toApiError(caught));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}
