import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from './errors-doc.js';

/** `npm run docs:errors`: rewrites docs/ERRORS.md from the catalogue. */
const target = new URL('../../../docs/ERRORS.md', import.meta.url);
writeFileSync(target, renderErrorsDoc());
process.stdout.write(`wrote ${target.pathname}\n`);
