/**
 * Node module hooks that let a child process run the TypeScript sources directly, as vitest does
 * in-process: a relative `./x.js` import resolves to `./x.ts` when only that exists, and `.ts`
 * files are transpiled (types erased, no type check) with the project's TypeScript.
 * Registered by ts-register.mjs: `node --import ./test/helpers/ts-register.mjs file.ts`.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Transpiled output is cached by content hash: a child started many times (the crash test)
// pays for TypeScript once.
const CACHE = path.join(os.tmpdir(), 'postern-ts-hooks-cache');
let typescript;

async function exists(url) {
  try {
    await access(url);
    return true;
  } catch {
    return false;
  }
}

export async function resolve(specifier, context, nextResolve) {
  const relative =
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('file:') ||
    specifier.startsWith('/');
  if (
    relative &&
    specifier.endsWith('.js') &&
    context.parentURL !== undefined &&
    context.parentURL.startsWith('file:')
  ) {
    const url = new URL(specifier, context.parentURL);
    if (!url.pathname.includes('/node_modules/') && !(await exists(url))) {
      const tsUrl = new URL(url.href.replace(/\.js$/, '.ts'));
      if (await exists(tsUrl)) return { url: tsUrl.href, shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const key = createHash('sha256').update(url).update('\0').update(source).digest('hex');
  const cached = path.join(CACHE, `${key}.mjs`);
  try {
    return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  } catch {
    // not cached yet
  }
  typescript ??= (await import('typescript')).default;
  const ts = typescript;
  const output = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      inlineSourceMap: true,
    },
  });
  await mkdir(CACHE, { recursive: true });
  const partial = `${cached}.${process.pid}.tmp`;
  await writeFile(partial, output.outputText);
  await rename(partial, cached);
  return { format: 'module', source: output.outputText, shortCircuit: true };
}
