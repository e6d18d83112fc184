/**
 * The parse pool's worker thread run from the TypeScript sources (for tests: the compiled
 * parse-worker.js exists only in dist/): registers the TS hooks in this thread, then loads it.
 */
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
await import('../../src/mail/mime/parse-worker.ts');
