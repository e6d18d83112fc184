/** An email account's live status as a badge. */
import type { EmailAccount } from '../api/schemas.js';
import type { Badge } from './provider-status.js';

export function accountBadge(account: EmailAccount): Badge {
  switch (account.status) {
    case 'connected':
      return { tone: 'ok', text: 'Connected' };
    case 'connecting':
      return { tone: 'neutral', text: 'Connecting…' };
    case 'disconnected':
      return { tone: 'warn', text: 'Disconnected' };
    case 'error':
      return { tone: 'error', text: account.lastError === null ? 'Error' : `Error: ${account.lastError.code}` };
    case 'disabled':
      return { tone: 'neutral', text: 'Disabled' };
    default:
      return { tone: 'neutral', text: account.status };
  }
}
