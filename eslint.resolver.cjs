/**
 * Import resolver for eslint-plugin-boundaries (eslint-module-utils interface v2): our sources are
 * ESM TypeScript and import each other with `.js` specifiers (`../store/index.js`) that name the
 * compiled file, so Node's resolver cannot find them. Only relative imports matter to the layer
 * rule; packages are reported as not found, which the rule treats as external.
 */
const fs = require('node:fs');
const path = require('node:path');

exports.interfaceVersion = 2;

exports.resolve = function resolve(source, file) {
  if (!source.startsWith('.')) return { found: false };
  const base = path.resolve(path.dirname(file), source);
  const stem = base.replace(/\.(?:js|jsx)$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')];
  const found = candidates.find((candidate) => fs.statSync(candidate, { throwIfNoEntry: false })?.isFile() === true);
  return found === undefined ? { found: false } : { found: true, path: found };
};
