/**
 * Where webhooks may go. A webhook URL is typed by an administrator, but the request is made by
 * Postern, from inside the network Postern runs in: without a guard, a URL could reach the cloud
 * metadata service (169.254.169.254, whose answers hold instance credentials), a database or SSH
 * on loopback, a service on the private network, or Postern's own API. So a receiver must be on a
 * public address, unless the operator lists its network in POSTERN_WEBHOOK_ALLOWED_NETWORKS;
 * Postern's own listener and the cloud metadata names are refused whatever that setting says.
 *
 * The same rules apply twice: when a webhook is registered or changed (a clear error for the
 * administrator) and at each delivery, against every address the name resolves to at that moment
 * and the address actually connected, so that a name re-pointed after registration (DNS rebinding)
 * gains nothing. Addresses are classified with integer arithmetic on their parsed form, never with
 * patterns over the text.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6890 special-purpose address registries
 * @see https://owasp.org/www-community/attacks/Server_Side_Request_Forgery
 * @see docs/WEBHOOKS.md ("Which receivers are allowed")
 */
import { promises as dns } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import { PosternError } from '../../errors/index.js';

/** Why an address is not a public one. */
export type AddressClass =
  'loopback' | 'unspecified' | 'link-local' | 'private' | 'unique-local' | 'multicast' | 'broadcast' | 'reserved';

/** Why a target is refused: an address class, or one of the reasons no setting lifts. */
export type RefusalReason = AddressClass | 'metadata-name' | 'localhost-name' | 'own-listener';

/** A refused target, in terms that can be shown: no query string, no credentials. */
export interface TargetRefusal {
  readonly reason: RefusalReason;
  /** The address (or, for a name refusal, the host name) refused. */
  readonly subject: string;
  /** The name that resolved to `subject`, when there was one. */
  readonly via?: string;
}

/** One address a name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (injected in tests: they make no real DNS lookups). */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** An address and port Postern itself listens on. */
export interface OwnListener {
  readonly host: string;
  readonly port: number;
}

/** Options of {@link WebhookTargetGuard}. */
export interface WebhookTargetOptions {
  /** Addresses and CIDR ranges allowed although not public (POSTERN_WEBHOOK_ALLOWED_NETWORKS). */
  readonly allowedNetworks: readonly string[];
  /** Postern's public URL: its origin is refused. */
  readonly publicUrl: string;
  /** Where Postern listens (the web listener, the metrics listener); port 0 is ignored. */
  readonly listeners?: readonly OwnListener[];
  readonly resolve?: HostResolver;
  /** A lookup gives up after this long. Default 3 seconds. */
  readonly resolveTimeoutMs?: number;
  /** This machine's interface addresses (for a listener on 0.0.0.0 or ::). Default os.networkInterfaces(). */
  readonly localAddresses?: () => readonly string[];
}

/** The environment variable that lists allowed networks, named in messages. */
export const ALLOWED_NETWORKS_VARIABLE = 'POSTERN_WEBHOOK_ALLOWED_NETWORKS';

/** Cloud metadata service names (GCP, AWS, generic); `localhost` names are refused separately. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data']);

/** IPv4 special-purpose ranges that are not public, as [first octets as an integer, prefix, class]. */
const IPV4_RANGES: readonly (readonly [number, number, AddressClass])[] = [
  [ipv4('0.0.0.0'), 8, 'unspecified'],
  [ipv4('10.0.0.0'), 8, 'private'],
  [ipv4('100.64.0.0'), 10, 'private'], // shared address space (carrier-grade NAT), RFC 6598
  [ipv4('127.0.0.0'), 8, 'loopback'],
  [ipv4('169.254.0.0'), 16, 'link-local'],
  [ipv4('172.16.0.0'), 12, 'private'],
  [ipv4('192.0.0.0'), 24, 'reserved'], // IETF protocol assignments
  [ipv4('192.168.0.0'), 16, 'private'],
  [ipv4('198.18.0.0'), 15, 'reserved'], // benchmarking
  [ipv4('224.0.0.0'), 4, 'multicast'],
  [ipv4('255.255.255.255'), 32, 'broadcast'],
  [ipv4('240.0.0.0'), 4, 'reserved'],
];

/** Dotted-quad IPv4 (already validated by isIP) as an unsigned 32-bit integer. */
function ipv4(text: string): number {
  let value = 0;
  for (const part of text.split('.')) value = value * 256 + Number(part);
  return value;
}

function inRange(address: number, base: number, prefix: number): boolean {
  const shift = 32 - prefix;
  return Math.floor(address / 2 ** shift) === Math.floor(base / 2 ** shift);
}

function classifyIpv4(address: number): AddressClass | 'public' {
  for (const [base, prefix, kind] of IPV4_RANGES) if (inRange(address, base, prefix)) return kind;
  return 'public';
}

/** An IPv6 address (already validated by isIP, zone removed) as its eight 16-bit groups. */
function ipv6Groups(text: string): number[] {
  let source = text;
  const lastColon = source.lastIndexOf(':');
  const tail = source.slice(lastColon + 1);
  if (tail.includes('.')) {
    const embedded = ipv4(tail);
    source = `${source.slice(0, lastColon + 1)}${Math.floor(embedded / 65536).toString(16)}:${(embedded % 65536).toString(16)}`;
  }
  const halves = source.split('::');
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const head = parse(halves[0]);
  if (halves.length === 1) return head;
  const rest = parse(halves[1]);
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

function embeddedIpv4(groups: readonly number[], at: number): number {
  return (groups[at] ?? 0) * 65536 + (groups[at + 1] ?? 0);
}

function classifyIpv6(groups: readonly number[]): AddressClass | 'public' {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0] = groups;
  const g7 = groups[7] ?? 0;
  const zeroTo = (end: number): boolean => groups.slice(0, end).every((group) => group === 0);
  if (zeroTo(7) && g7 === 0) return 'unspecified';
  if (zeroTo(7) && g7 === 1) return 'loopback';
  if (zeroTo(5) && g5 === 0xffff) return classifyIpv4(embeddedIpv4(groups, 6)); // IPv4-mapped
  if (zeroTo(6)) return 'reserved'; // IPv4-compatible, deprecated
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return classifyIpv4(embeddedIpv4(groups, 6)); // NAT64 well-known prefix, RFC 6052
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'; // local-use NAT64, RFC 8215
  if (g0 === 0x2002) {
    const inner = classifyIpv4(embeddedIpv4(groups, 1)); // 6to4
    return inner === 'public' ? 'public' : inner;
  }
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // site-local, deprecated
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if ((g0 & 0xe000) === 0x2000) return 'public'; // global unicast 2000::/3
  return 'reserved';
}

/** `[::1]` → `::1`, `fe80::1%eth0` → `fe80::1`. */
function bareAddress(text: string): string {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = unbracketed.indexOf('%');
  return zone === -1 ? unbracketed : unbracketed.slice(0, zone);
}

/**
 * Classifies an IP address: `public`, or the class that makes it unfit for webhooks. IPv4-mapped,
 * NAT64 and 6to4 IPv6 addresses are classified by the IPv4 address they carry.
 *
 * @returns undefined when `address` is not an IP address
 */
export function classifyAddress(address: string): AddressClass | 'public' | undefined {
  const bare = bareAddress(address);
  const version = isIP(bare);
  if (version === 4) return classifyIpv4(ipv4(bare));
  if (version === 6) return classifyIpv6(ipv6Groups(bare));
  return undefined;
}

/** The IPv4 address an IPv4-mapped IPv6 address carries, else the address itself (unbracketed). */
export function canonicalAddress(address: string): string {
  const bare = bareAddress(address);
  if (isIP(bare) !== 6) return bare;
  const groups = ipv6Groups(bare);
  if (!groups.slice(0, 5).every((group) => group === 0) || groups[5] !== 0xffff) return bare.toLowerCase();
  const value = embeddedIpv4(groups, 6);
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

const CLASS_WORDS: Readonly<Record<RefusalReason, string>> = {
  loopback: 'is a loopback address (this machine)',
  unspecified: 'is the unspecified address (it reaches this machine)',
  'link-local': 'is link-local (where cloud metadata services answer)',
  private: 'is on a private network',
  'unique-local': 'is a unique-local IPv6 address (a private network)',
  multicast: 'is a multicast address',
  broadcast: 'is the broadcast address',
  reserved: 'is in a reserved range that is not publicly routed',
  'metadata-name': 'is the name of a cloud metadata service',
  'localhost-name': 'names this machine (localhost)',
  'own-listener': "is Postern's own listener",
};

/** Whether {@link ALLOWED_NETWORKS_VARIABLE} can lift this refusal. */
export function isAllowable(reason: RefusalReason): reason is AddressClass {
  return reason !== 'metadata-name' && reason !== 'localhost-name' && reason !== 'own-listener';
}

/** "10.0.0.5 is on a private network", "crm.internal resolves to 10.0.0.5, which is on a private network". */
export function describeRefusal(refusal: TargetRefusal): string {
  const words = CLASS_WORDS[refusal.reason];
  if (refusal.via === undefined) return `${refusal.subject} ${words}`;
  return `${refusal.via} resolves to ${refusal.subject}, which ${words}`;
}

/** What the delivery log says of a delivery the guard stopped, in Postern's words. */
export function deliveryRefusalText(refusal: TargetRefusal): string {
  const what =
    refusal.reason === 'metadata-name' || refusal.reason === 'localhost-name'
      ? `The receiver's host ${refusal.subject} ${CLASS_WORDS[refusal.reason]}`
      : `The receiver's address ${refusal.subject}${refusal.via === undefined ? '' : ` (${refusal.via})`} ${CLASS_WORDS[refusal.reason]}`;
  if (isAllowable(refusal.reason))
    return `${what}; webhooks are not delivered there unless ${ALLOWED_NETWORKS_VARIABLE} includes it.`;
  if (refusal.reason === 'own-listener') return `${what}; webhooks are never delivered to Postern itself.`;
  return `${what}; webhooks are never delivered there.`;
}

/** The remedy for a refused registration. */
function registrationRemedy(refusal: TargetRefusal): string {
  if (isAllowable(refusal.reason))
    return `Use a receiver on a public address. If this receiver is meant to be on your own network, list its address or network in ${ALLOWED_NETWORKS_VARIABLE} (such as 10.0.0.0/8 or 127.0.0.1) and restart Postern.`;
  if (refusal.reason === 'localhost-name')
    return `Use a receiver on a public address. For a receiver on this machine, use the address 127.0.0.1 (or ::1) in the URL and list it in ${ALLOWED_NETWORKS_VARIABLE}.`;
  if (refusal.reason === 'own-listener')
    return 'Use a receiver on a public address: Postern does not deliver webhooks to its own API. To act on an event within Postern, use the API from your receiver.';
  return 'Use a receiver on a public address: cloud metadata services are never a webhook receiver.';
}

/** The catalogue error for a refused webhook URL, naming the field `url`. */
export function targetRefusedError(refusal: TargetRefusal): PosternError {
  const problem = `${describeRefusal(refusal)}; webhooks are not delivered there`;
  return new PosternError('WEBHOOK_TARGET_REFUSED', {
    message: `The webhook URL is refused: ${problem}.`,
    remedy: registrationRemedy(refusal),
    details: { in: 'webhook', fields: [{ field: 'url', problem }], reason: refusal.reason },
  });
}

/** A delivery the guard stopped; its message is Postern's words for the delivery log. */
export class WebhookTargetRefused extends Error {
  constructor(readonly refusal: TargetRefusal) {
    super(deliveryRefusalText(refusal));
    this.name = 'WebhookTargetRefused';
  }
}

/** The default resolver: the system's (getaddrinfo), every address. */
export const systemResolver: HostResolver = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

function systemLocalAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
}

/** The port a URL connects to. */
export function urlPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** The host of a URL as the guard compares it: lower case, unbracketed, without trailing dots. */
function hostOf(url: URL): string {
  let host = bareAddress(url.hostname.toLowerCase());
  while (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/**
 * Decides whether Postern may send a webhook to a URL or an address. One instance per process,
 * shared by the webhook service (registration) and the dispatcher (delivery).
 */
export class WebhookTargetGuard {
  private readonly allowed = new BlockList();
  private readonly listeners: OwnListener[] = [];
  private readonly publicOrigin: string;
  private readonly resolver: HostResolver;
  private readonly resolveTimeoutMs: number;
  private readonly localAddresses: () => readonly string[];

  constructor(options: WebhookTargetOptions) {
    for (const entry of options.allowedNetworks) {
      const slash = entry.indexOf('/');
      const address = slash === -1 ? entry : entry.slice(0, slash);
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (slash === -1) this.allowed.addAddress(address, type);
      else this.allowed.addSubnet(address, Number(entry.slice(slash + 1)), type);
    }
    this.publicOrigin = new URL(options.publicUrl).origin;
    for (const listener of options.listeners ?? []) this.addListener(listener);
    this.resolver = options.resolve ?? systemResolver;
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 3000;
    this.localAddresses = options.localAddresses ?? systemLocalAddresses;
  }

  /** Records an address Postern listens on (the web listener once bound, when its port was 0). */
  addListener(listener: OwnListener): void {
    if (listener.port === 0) return;
    if (!this.listeners.some((known) => known.host === listener.host && known.port === listener.port))
      this.listeners.push({ host: bareAddress(listener.host), port: listener.port });
  }

  /** Whether an address is in POSTERN_WEBHOOK_ALLOWED_NETWORKS. */
  private isAllowed(address: string): boolean {
    const canonical = canonicalAddress(address);
    return this.allowed.check(canonical, isIP(canonical) === 6 ? 'ipv6' : 'ipv4');
  }

  private isOwnListener(address: string, port: number): boolean {
    const target = canonicalAddress(address);
    const targetClass = classifyAddress(target);
    return this.listeners.some((listener) => {
      if (listener.port !== port) return false;
      const host = canonicalAddress(listener.host);
      const hostClass = classifyAddress(host);
      // A listener on a wildcard (or on a name) answers on loopback and on every interface address.
      if (hostClass === undefined || hostClass === 'unspecified' || host === 'localhost')
        return (
          targetClass === 'loopback' ||
          targetClass === 'unspecified' ||
          this.localAddresses().some((local) => canonicalAddress(local) === target)
        );
      return host === target || (targetClass === 'unspecified' && hostClass === 'loopback');
    });
  }

  /**
   * Checks one address about to be connected (or just connected) on `port`.
   *
   * @param via the host name it came from, for the message
   */
  checkAddress(address: string, port: number, via?: string): TargetRefusal | undefined {
    const subject = canonicalAddress(address);
    const named = via !== undefined && isIP(bareAddress(via)) === 0 ? { via } : {};
    if (this.isOwnListener(subject, port)) return { reason: 'own-listener', subject: `${subject}:${port}`, ...named };
    const kind = classifyAddress(subject);
    if (kind === undefined) return { reason: 'reserved', subject, ...named };
    if (kind === 'public' || this.isAllowed(subject)) return undefined;
    return { reason: kind, subject, ...named };
  }

  /**
   * The checks a URL allows without a lookup: the metadata and localhost names, Postern's public
   * origin, and an IP literal host (which the connection does not look up).
   */
  checkUrl(url: URL): TargetRefusal | undefined {
    const host = hostOf(url);
    if (METADATA_NAMES.has(host)) return { reason: 'metadata-name', subject: host };
    if (host === 'localhost' || host.endsWith('.localhost')) return { reason: 'localhost-name', subject: host };
    if (url.origin === this.publicOrigin) return { reason: 'own-listener', subject: url.host };
    if (isIP(host) !== 0) return this.checkAddress(host, urlPort(url));
    return undefined;
  }

  /** Every address of `hostname`, within the resolve timeout. */
  async resolve(hostname: string): Promise<readonly ResolvedAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            Object.assign(new Error(`the name ${hostname} did not resolve within ${this.resolveTimeoutMs} ms`), {
              code: 'ETIMEOUT',
            }),
          ),
        this.resolveTimeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([this.resolver(hostname), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The first refused address among those `hostname` resolves to. */
  checkResolved(addresses: readonly ResolvedAddress[], port: number, hostname: string): TargetRefusal | undefined {
    for (const { address } of addresses) {
      const refusal = this.checkAddress(address, port, hostname);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }

  /**
   * Checks a URL at registration: the static checks, then the addresses its name resolves to now.
   * A name that does not resolve is accepted: it is checked again at each delivery.
   *
   * @throws PosternError WEBHOOK_TARGET_REFUSED
   */
  async assertRegistrable(value: string): Promise<void> {
    const url = new URL(value);
    const refusal = this.checkUrl(url);
    if (refusal !== undefined) throw targetRefusedError(refusal);
    const host = hostOf(url);
    if (isIP(host) !== 0) return;
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await this.resolve(host);
    } catch {
      return;
    }
    const resolved = this.checkResolved(addresses, urlPort(url), host);
    if (resolved !== undefined) throw targetRefusedError(resolved);
  }
}
