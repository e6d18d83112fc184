/** A parse-pool worker that dies on its first job (the pool must parse that job itself). */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => process.exit(3));
