import { request } from './client.js';
import { diagnosis, type Diagnosis } from './schemas.js';

/**
 * Runs the reference guide's troubleshooting checks for one account, one provider, or everything.
 * Only with `sendTest` does the doctor submit the Send As test message of shared mailboxes (a POST).
 */
export function runDiagnostics(
  target: { account?: number; provider?: number } = {},
  options: { sendTest?: boolean } = {},
): Promise<Diagnosis> {
  const query = { account: target.account, provider: target.provider };
  return options.sendTest === true
    ? request('POST', '/api/diagnostics', diagnosis, { query, body: { sendTest: true } })
    : request('GET', '/api/diagnostics', diagnosis, { query });
}
