/**
 * The text of the million-message store (bench/million-generate.ts): a seeded PRNG, a vocabulary
 * whose words are drawn with Zipf frequencies (a few hundred real English words at the head, made-up
 * words after them), rare words that appear in about one message each, and the people (names and
 * addresses) of the contacts. Everything is a pure function of the seed, so the benchmark can
 * name words and people that are in the store without reading it back.
 */

/** A small, fast, seeded PRNG (mulberry32): numbers in [0, 1). */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

const ENGLISH = `the to and of a in you for is that your we it this be on with have please our
are not can as at if will from or an order by me us would thank thanks all i so do my any has
hello regards best know could there need when they let what which invoice account payment
delivery question help issue problem support team customer request service product price date
time week today tomorrow attached file report update change cancel refund return shipping
address number email phone call reply information details contact receive received sent send
still again soon sorry kind dear morning afternoon confirm confirmed booking reservation
ticket password login access error working works problem screen page website online store
subscription plan upgrade billing charge charged amount total receipt copy document form
signed contract agreement quote offer discount code voucher package parcel tracking courier
warehouse stock available item items size colour model version software install download
device printer laptop network server backup meeting schedule appointment monday tuesday
wednesday thursday friday weekend month year first last next previous new old same other
more less many much some every each both few before after during since until about above
below between through into out up down over under again further then once here where why
how who whom whose been being had having does did doing done make made get got give given
take taken see seen look looking find found think thought tell told ask asked work worked
use used try tried call called feel left keep kept begin began show shown hear heard play
run move live believe bring happen write provide sit stand lose pay meet include continue
set learn lead understand watch follow stop create speak read allow add spend grow open
walk win offer remember love consider appear buy wait serve die expect build stay fall cut
reach kill remain suggest raise pass sell require decide pull`
  .split(/\s+/)
  .filter((word) => word !== '');

const CONSONANTS = ['b', 'c', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'st', 'tr', 'pl'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ea'];

/** Common vocabulary size (ranked; frequency ∝ 1/rank). */
export const VOCABULARY_SIZE = 30_000;
/** Rare words: each about once in the store (one message in 50 carries one). */
export const RARE_WORDS = 20_000;

/** A text vocabulary: ranked words and a table that draws a rank with Zipf frequencies in O(1). */
export class Vocabulary {
  readonly words: readonly string[];
  readonly rare: readonly string[];
  /** Ranks, each as often as its frequency: draw a uniform index into it. */
  private readonly table: Uint16Array;

  constructor(seed: number) {
    const random = new Random(seed);
    const seen = new Set<string>();
    const words: string[] = [];
    for (const word of ENGLISH) {
      if (!seen.has(word)) {
        seen.add(word);
        words.push(word);
      }
    }
    const made = (syllables: number): string => {
      let word = '';
      for (let i = 0; i < syllables; i += 1) word += random.pick(CONSONANTS) + random.pick(VOWELS);
      return random.chance(0.4) ? word + random.pick(['n', 'r', 's', 'x', 'l', 'm']) : word;
    };
    while (words.length < VOCABULARY_SIZE) {
      const word = made(2 + random.int(3));
      if (!seen.has(word)) {
        seen.add(word);
        words.push(word);
      }
    }
    const rare: string[] = [];
    while (rare.length < RARE_WORDS) {
      const word = `${made(3 + random.int(2))}q${random.int(1000)}`;
      if (!seen.has(word)) {
        seen.add(word);
        rare.push(word);
      }
    }
    this.words = words;
    this.rare = rare;
    const size = 1 << 21;
    let harmonic = 0;
    for (let rank = 1; rank <= VOCABULARY_SIZE; rank += 1) harmonic += 1 / rank;
    this.table = new Uint16Array(size);
    let filled = 0;
    for (let rank = 1; rank <= VOCABULARY_SIZE && filled < size; rank += 1) {
      const count = Math.max(1, Math.round((size * (1 / rank)) / harmonic));
      this.table.fill(rank - 1, filled, Math.min(size, filled + count));
      filled += count;
    }
    if (filled < size) this.table.fill(VOCABULARY_SIZE - 1, filled);
  }

  /** A word drawn with Zipf frequencies. */
  word(random: Random): string {
    return this.words[this.table[random.int(this.table.length)] ?? 0] ?? 'the';
  }

  /**
   * A body of about `length` characters: sentences of Zipf words, a rare word in one message of
   * 50, a greeting and a signature line.
   */
  body(random: Random, length: number, greeting: string, signature: string): { text: string; rare: string | null } {
    const parts: string[] = [`Hello ${greeting},`, ''];
    let size = greeting.length + 8;
    let sentence: string[] = [];
    const rareAt = random.chance(0.02) ? random.int(Math.max(1, Math.floor(length / 6))) : -1;
    let words = 0;
    let rare: string | null = null;
    while (size < length) {
      if (words === rareAt) rare = random.pick(this.rare);
      const word = words === rareAt && rare !== null ? rare : this.word(random);
      words += 1;
      sentence.push(sentence.length === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word);
      size += word.length + 1;
      if (sentence.length >= 6 + random.int(14)) {
        parts.push(`${sentence.join(' ')}.`);
        sentence = [];
      }
    }
    if (sentence.length > 0) parts.push(`${sentence.join(' ')}.`);
    parts.push('', 'Kind regards,', signature);
    return { text: parts.join('\n'), rare };
  }

  /** A subject of 3 to 8 words. */
  subject(random: Random): string {
    const words = Array.from({ length: 3 + random.int(6) }, () => this.word(random));
    const first = words[0] ?? 'Question';
    return [first.charAt(0).toUpperCase() + first.slice(1), ...words.slice(1)].join(' ');
  }
}

const FIRST_NAMES = `ada alan anna arthur beatrice carl clara david edith emil emma felix frida george grace hanna
henry ida isaac jack jane jonas julia karl laura leo lina lucas maria martin mia nina noah olga oscar paula
peter rosa samuel sara simon sofia theo tilda ulla victor vera walter wanda xavier yara yusuf zoe`
  .split(/\s+/)
  .filter((name) => name !== '');
const LAST_NAMES = `lovelace turing hopper babbage curie noether euler gauss riemann hilbert cantor fermat pascal
leibniz newton kepler galileo darwin mendel faraday maxwell bohr planck dirac fermi pauli heisenberg
schrodinger meitner franklin goodall carson sagan hawking feynman knuth dijkstra hamilton ritchie thompson
torvalds wirth hoare lamport liskov backus mccarthy minsky shannon wiener neumann godel tarski church kleene`
  .split(/\s+/)
  .filter((name) => name !== '');
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'shop.example', 'corp.example'];

/** A contact of the generated store (index from 0). */
export interface GeneratedPerson {
  readonly first: string;
  readonly last: string;
  readonly name: string;
  readonly address: string;
}

/** Contact `index`'s name and address: unique by the index in the address. */
export function personAt(index: number): GeneratedPerson {
  const first = FIRST_NAMES[index % FIRST_NAMES.length] ?? 'ada';
  const last = LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length] ?? 'lovelace';
  const domain = DOMAINS[index % DOMAINS.length] ?? 'example.com';
  const cap = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
  return { first, last, name: `${cap(first)} ${cap(last)}`, address: `${first}.${last}${index}@${domain}` };
}

const FILE_STEMS = ['invoice', 'receipt', 'screenshot', 'contract', 'report', 'photo', 'scan', 'order', 'statement'];
const FILE_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['pdf', 'application/pdf'],
  ['png', 'image/png'],
  ['jpg', 'image/jpeg'],
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
];

/** An attachment's file name and content type. */
export function attachmentFile(random: Random): { readonly filename: string; readonly contentType: string } {
  const [extension, contentType] = random.pick(FILE_TYPES);
  return { filename: `${random.pick(FILE_STEMS)}-${10_000 + random.int(90_000)}.${extension}`, contentType };
}
