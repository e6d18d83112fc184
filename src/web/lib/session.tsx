/** The signed-in user, shared by the pages; null when nobody is signed in. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { User } from '../api/schemas.js';

export interface SessionState {
  user: User;
  /** Forgets the session locally and shows the sign-in page (after the server has ended it). */
  signedOut(): void;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession() outside a signed-in page');
  return session;
}
