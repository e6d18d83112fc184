// @ts-check
/**
 * Lint for Postern (`npm run lint`, part of `npm test`). Three concerns, each with a small,
 * deliberate rule set — a rule is here because it catches a real mistake:
 *
 * 1. typescript-eslint with type information (recommendedTypeChecked, minus the rules listed
 *    below with the reason they only made noise here);
 * 2. eslint-plugin-regexp's recommended set, with super-linear backtracking and super-linear
 *    moves as errors: Postern reads untrusted mail, headers and API input, and a regex that can
 *    backtrack is a denial of service;
 * 3. the layers of docs/ARCHITECTURE.md ("Tooling"), with eslint-plugin-boundaries, and queries
 *    only in src/store.
 */
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import regexp from 'eslint-plugin-regexp';
import boundaries from 'eslint-plugin-boundaries';

/** Folders that are one element each: every file below belongs to it. */
const ELEMENTS = [
  // The foundation: imported by everyone, imports (almost) nothing of ours.
  'domain',
  'errors',
  'config',
  'log',
  // Adapters: storage, mail protocols, the identity platform.
  'store',
  'mail',
  'providers',
  // Instrumented wrappers around adapters (the identity client, the deliverer) and the gauges
  // read from the store; created by services, served by http and cli.
  'metrics',
  'services',
  // Entry points: nothing imports them (except cli starting http).
  'workers',
  'http',
  'cli',
  // The browser UI: a separate program, no server code.
  'web',
];
const FOUNDATION = ['errors', 'config', 'log', 'domain'];
const ADAPTERS = ['store', 'mail', 'providers'];

const element = (/** @type {string | string[]} */ type) => ({ element: { type } });
const typesOnly = (/** @type {string | string[]} */ type) => ({ to: element(type), dependency: { kind: 'type' } });

/** eslint-plugin-boundaries policies; anything not allowed here is an error. */
const LAYER_POLICIES = [
  // `domain` is pure rules and `errors` is the catalogue: neither imports anything of ours.
  { from: element('config'), allow: { to: element('errors') } },
  { from: element('log'), allow: { to: element(['errors', 'config']) } },
  { from: element('store'), allow: { to: element(FOUNDATION) } },
  // Adapters may name each other's types (a provider record in the authority resolver), never
  // call each other: composing them is what services are for.
  { from: element(['mail', 'providers']), allow: [{ to: element(FOUNDATION) }, typesOnly(ADAPTERS)] },
  { from: element('metrics'), allow: { to: element([...FOUNDATION, ...ADAPTERS]) } },
  { from: element('services'), allow: { to: element([...FOUNDATION, ...ADAPTERS, 'metrics']) } },
  // Workers and http act through services. They may import the store's types (the records that
  // services return are declared there; a type-only import is erased and cannot touch a table),
  // never its functions: a worker writing the store directly is a seam that was found open once.
  {
    from: element(['workers', 'http']),
    allow: [{ to: element([...FOUNDATION, 'mail', 'providers', 'metrics', 'services']) }, typesOnly('store')],
  },
  // cli is the composition root: it wires config → store → services → http/workers.
  {
    from: element('cli'),
    allow: { to: element([...FOUNDATION, ...ADAPTERS, 'metrics', 'services', 'workers', 'http']) },
  },
  // src and emulator never import each other, except the two commands that start the emulator.
  {
    from: { element: { type: 'cli' }, file: { path: ['src/cli/commands/emulator.ts', 'src/cli/commands/demo.ts'] } },
    allow: { to: element('emulator') },
  },
  // Tests and benchmarks drive everything from outside.
  { from: element(['test', 'bench']), allow: { to: element([...ELEMENTS, 'emulator', 'test', 'bench']) } },
];

export default defineConfig(
  { ignores: ['dist/', 'data/', 'coverage/', 'node_modules/', 'docs/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked, regexp.configs['flat/recommended']],
    languageOptions: {
      // Each file is checked with its own tsconfig: src/web/tsconfig.json for the UI (DOM, JSX),
      // tsconfig.json for everything else.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { boundaries },
    settings: {
      'boundaries/include': ['src/**/*', 'emulator/**/*', 'test/**/*', 'bench/**/*'],
      'boundaries/elements': [
        ...ELEMENTS.map((name) => ({ type: name, pattern: `src/${name}`, partialMatch: false })),
        { type: 'emulator', pattern: 'emulator', partialMatch: false },
        { type: 'test', pattern: 'test', partialMatch: false },
        { type: 'bench', pattern: 'bench', partialMatch: false },
      ],
      'import/resolver': { './eslint.resolver.cjs': {} },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: LAYER_POLICIES }],

      // Untrusted input is processed in linear time (docs/ARCHITECTURE.md, "Tooling").
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': 'error',

      // Off, because here they only made noise:
      // - fastify plugins and route handlers are async by contract (fastify awaits what they
      //   return), as are the emulator's; an async function without `await` is not a mistake here.
      '@typescript-eslint/require-await': 'off',
      // - tsc's noUnusedLocals and noUnusedParameters report the same, once, in the typecheck.
      '@typescript-eslint/no-unused-vars': 'off',
      // - every hit was a closure in an object typed with method syntax (createLogger's `close`,
      //   useSession's `signedOut`) or a static function (`Buffer.isBuffer`): none uses `this`.
      '@typescript-eslint/unbound-method': 'off',
      // - unions such as `'exchange' | 'graph' | string` name the expected values for the reader.
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      // - headers, file names and the IMAP wire are scrubbed of control characters on purpose.
      'no-control-regex': 'off',
      // - regex style (\w for [A-Za-z0-9_], ranges, the i flag, \v for \x0b, unused groups): no bug.
      'regexp/prefer-w': 'off',
      'regexp/prefer-d': 'off',
      'regexp/prefer-range': 'off',
      'regexp/use-ignore-case': 'off',
      'regexp/control-character-escape': 'off',
      'regexp/no-unused-capturing-group': 'off',
    },
  },
  {
    // Queries live in src/store; anywhere else in src a query is a missing repository function.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'kysely', message: 'Queries live in src/store: add a repository function there.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='kysely']",
          message: 'Queries live in src/store: add a repository function there and call it.',
        },
      ],
    },
  },
  {
    // Tests read JSON answers (app.inject, fetch) typed `any` and check them with assertions;
    // typing each answer first would be ceremony, not safety.
    files: ['test/**/*.ts', '**/*.test.ts', '**/*.test.tsx'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
);
