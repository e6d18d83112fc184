import { request } from './client.js';
import { diagnosis, type Diagnosis } from './schemas.js';

/** Runs the reference guide's troubleshooting checks for one account, one provider, or everything. */
export function runDiagnostics(target: { account?: number; provider?: number } = {}): Promise<Diagnosis> {
  return request('GET', '/api/diagnostics', diagnosis, {
    query: { account: target.account, provider: target.provider },
  });
}
