/**
 * Summarises V8 CPU profiles (`node --cpu-prof` writes one `.cpuprofile` per thread): self time by
 * category (TLS/crypto, imapflow, mailparser, sanitize-html, SQLite, kysely, messaging between
 * threads, GC, our own code by module, ...) and the functions with the most self time.
 *
 * Usage: `node dist/bench/profile-summary.js [--from=µs --to=µs] [--top=N] a.cpuprofile [b.cpuprofile ...]`
 * — one column per profile in the category table; with `--callers=functionName`, that function's
 * self time by its nearest callers in src/ instead. `--from`/`--to` keep only the samples in that
 * window of the monotonic clock, in microseconds (the ingest benchmark prints its read's window in
 * BENCH_PROFILE mode), so that start-up and set-up are left out.
 *
 * Native code called from JavaScript (a Buffer copy, a better-sqlite3 statement, a hash) has no
 * script of its own in the profile; it is counted in the category of its JavaScript caller, and the
 * better-sqlite3 statement methods as SQLite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type Profile = z.infer<typeof profileSchema>;
type ProfileNode = Profile['nodes'][number];

/** Package directories and the category each belongs to; the first match wins. */
const PACKAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/node_modules\/(imapflow|imap-flow)\//, 'imapflow'],
  [
    /node_modules\/(mailparser|libmime|libqp|libbase64|iconv-lite|encoding-japanese|punycode|tlds|linkify-it|uc\.micro|html-to-text|he|@zone-eu\/mailsplit|mailsplit)\//,
    'mailparser',
  ],
  [
    /node_modules\/(sanitize-html|htmlparser2|domhandler|domutils|dom-serializer|domelementtype|entities|postcss|parse-srcset|is-plain-object|escape-string-regexp|deepmerge|nanoid|picocolors|source-map-js)\//,
    'sanitize-html',
  ],
  [/node_modules\/better-sqlite3\//, 'SQLite (better-sqlite3)'],
  [/node_modules\/kysely\//, 'kysely (query building)'],
  [
    /node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)\//,
    'pino',
  ],
  [/node_modules\/zod\//, 'zod'],
];

const SQLITE_METHODS = new Set(['run', 'all', 'get', 'iterate', 'prepare', 'exec', 'pragma', 'raw']);

/** The category of a script, or undefined for native code (no script). */
function categoryOfUrl(url: string): string | undefined {
  if (url === '') return undefined;
  for (const [pattern, category] of PACKAGES) if (pattern.test(url)) return category;
  const ownModule = /\/(src|bench|emulator)\/(.+?)\.(?:js|ts)$/.exec(url);
  if (ownModule !== null && !url.includes('node_modules')) {
    const [, root, file] = ownModule;
    return `ours: ${root}/${file}`;
  }
  if (/node:(internal\/)?(tls|_tls|crypto|internal\/crypto|internal\/tls)/.test(url) || /node:_tls_/.test(url))
    return 'TLS/crypto (node)';
  if (/node:internal\/(worker|per_context\/messageport)|node:worker_threads/.test(url))
    return 'threads: postMessage/structured clone';
  if (/node:(internal\/)?(net|stream|internal\/streams|_stream)/.test(url)) return 'streams/net (node)';
  if (/node:(internal\/)?buffer|node:internal\/util\/|node:string_decoder/.test(url)) return 'Buffer/strings (node)';
  if (url.startsWith('node:')) return 'node core (other)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (module !== null) return `package: ${module[1]}`;
  return `other: ${path.basename(url)}`;
}

/** Self time in µs per node id, within [from, to] of the monotonic clock when given. */
function selfTimes(profile: Profile, from: number, to: number): Map<number, number> {
  const self = new Map<number, number>();
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    if (time < from || time > to) continue;
    const id = profile.samples[i];
    if (id === undefined) continue;
    // A sample stands for the time until the next one.
    const next = profile.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + next);
  }
  return self;
}

interface Summary {
  readonly totalUs: number;
  readonly idleUs: number;
  readonly byCategory: Map<string, number>;
  readonly byFunction: Map<string, number>;
}

function summarise(profile: Profile, from: number, to: number): Summary {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryOf = (id: number): string => {
    const node = byId.get(id);
    if (node === undefined) return 'unknown';
    const { functionName, url } = node.callFrame;
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return '(program): native work outside JavaScript';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(root)') return '(root)';
    // better-sqlite3's statements are native methods without a frame of their own: their time is
    // the self time of kysely's driver function that calls them.
    if (functionName === 'executeQuery' && url.includes('kysely/dist/esm/dialect/sqlite/'))
      return 'SQLite (better-sqlite3)';
    if (url.startsWith('node:internal/crypto/hash')) return 'digests (node:crypto hash)';
    const own = categoryOfUrl(url);
    if (own !== undefined) return own;
    const caller = parent.get(id);
    if (caller === undefined) return `native: ${functionName}`;
    const callerCategory = categoryOf(caller);
    if (SQLITE_METHODS.has(functionName) && /kysely|sqlite|ours: src\/store/.test(callerCategory))
      return 'SQLite (better-sqlite3)';
    if (/^(postMessage|receiveMessageOnPort)$/.test(functionName)) return 'threads: postMessage/structured clone';
    return callerCategory;
  };
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfTimes(profile, from, to)) {
    const category = categoryOf(id);
    if (category === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    const node = byId.get(id);
    const name = `${node?.callFrame.functionName || '(anonymous)'} ${shortUrl(node?.callFrame.url ?? '')}:${(node?.callFrame.lineNumber ?? 0) + 1} [${category}]`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  return { totalUs, idleUs, byCategory, byFunction };
}

/**
 * The self time of functions named `name`, by the nearest caller in our own code (src/): which
 * of our calls the time is spent for (e.g. `--callers=executeQuery`: SQLite's time per statement site).
 */
function callersOf(profile: Profile, name: string, from: number, to: number): Map<string, number> {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const site = (id: number): string => {
    const chain: string[] = [];
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined) break;
      if (/\/src\//.test(frame.url) && !frame.url.includes('node_modules')) {
        chain.push(`${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`);
        if (chain.length === 2) break;
      }
    }
    return chain.length === 0 ? '(no caller in src/)' : chain.join(' < ');
  };
  const sites = new Map<string, number>();
  for (const [id, us] of selfTimes(profile, from, to)) {
    if (byId.get(id)?.callFrame.functionName !== name) continue;
    const key = site(id);
    sites.set(key, (sites.get(key) ?? 0) + us);
  }
  return sites;
}

function shortUrl(url: string): string {
  const module = /node_modules\/(.+)$/.exec(url);
  if (module !== null) return module[1] ?? url;
  const own = /\/((?:src|bench|emulator)\/.+)$/.exec(url);
  if (own !== null) return own[1] ?? url;
  return url;
}

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

function main(): void {
  const files = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (files.length === 0) {
    process.stderr.write('usage: profile-summary [--from=µs --to=µs] [--top=N] file.cpuprofile ...\n');
    process.exit(2);
  }
  const from = Number(option('from') ?? '-Infinity');
  const to = Number(option('to') ?? 'Infinity');
  const top = Number(option('top') ?? '25');
  const profiles = files.map((file) => profileSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))));
  const callers = option('callers');
  if (callers !== undefined) {
    profiles.forEach((profile, index) => {
      const sites = [...callersOf(profile, callers, from, to)].sort((a, b) => b[1] - a[1]);
      if (sites.length === 0) return;
      process.stdout.write(`${callers} in ${path.basename(files[index] ?? '')}, by caller in src/:\n`);
      for (const [site, us] of sites) process.stdout.write(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${site}\n`);
    });
    return;
  }
  const summaries = profiles.map((profile) => summarise(profile, from, to));
  const ms = (us: number): string => (us / 1000).toFixed(0);
  const categories = new Set<string>();
  for (const summary of summaries) for (const category of summary.byCategory.keys()) categories.add(category);
  const weight = (category: string): number =>
    summaries.reduce((sum, summary) => sum + (summary.byCategory.get(category) ?? 0), 0);
  const rows = [...categories].sort((a, b) => weight(b) - weight(a));
  const out: string[] = [];
  out.push(`| self time, ms (share) | ${files.map((file) => path.basename(file)).join(' | ')} |`);
  out.push(`|---|${files.map(() => '---:').join('|')}|`);
  for (const category of rows)
    out.push(
      `| ${category} | ${summaries
        .map((summary) => {
          const us = summary.byCategory.get(category) ?? 0;
          return us === 0 ? '' : `${ms(us)} (${((100 * us) / summary.totalUs).toFixed(1)} %)`;
        })
        .join(' | ')} |`,
    );
  out.push(`| **busy (all but idle)** | ${summaries.map((summary) => `**${ms(summary.totalUs)}**`).join(' | ')} |`);
  out.push(`| idle | ${summaries.map((summary) => ms(summary.idleUs)).join(' | ')} |`);
  summaries.forEach((summary, index) => {
    out.push('', `Top ${top} functions by self time, ${path.basename(files[index] ?? '')}:`);
    const sorted = [...summary.byFunction].sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [name, us] of sorted) out.push(`  ${ms(us).padStart(6)} ms  ${name}`);
  });
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
