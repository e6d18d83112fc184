/**
 * A parse-pool worker that answers badly: its own error for the first job, a result that does
 * not check out for the second, and nonsense without an id from the third on.
 */
import { parentPort } from 'node:worker_threads';

let jobs = 0;
parentPort?.on('message', (request) => {
  jobs += 1;
  if (jobs === 1) parentPort?.postMessage({ id: request.id, error: 'boom' });
  else if (jobs === 2) parentPort?.postMessage({ id: request.id, parsed: { subject: 42 } });
  else parentPort?.postMessage('nonsense');
});
