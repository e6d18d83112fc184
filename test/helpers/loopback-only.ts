/**
 * Test setup: any attempt to open a TCP connection to a host that is not loopback fails at once.
 * Postern's tests talk only to the emulator and to servers they start themselves.
 *
 * Names under `.invalid` (RFC 2606: never resolvable) fail to resolve at once with ENOTFOUND, as
 * a DNS failure would, without asking any DNS server: tests of DNS failures use them.
 */
import dns from 'node:dns';
import net from 'node:net';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true; // Node defaults to localhost
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

const originalConnect = net.Socket.prototype.connect;

function targetHost(args: unknown[]): { host?: string; path?: string } {
  const first = args[0];
  if (Array.isArray(first)) return targetHost(first);
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string };
    return { host: options.host, path: options.path };
  }
  if (typeof first === 'string' && typeof args[1] !== 'string' && Number.isNaN(Number(first))) {
    return { path: first };
  }
  return { host: typeof args[1] === 'string' ? args[1] : undefined };
}

type LookupCallback = (error: Error | null, address: unknown, family?: number) => void;
type Lookup = (hostname: string, options: object, callback: LookupCallback) => void;

/**
 * A name with an injected `lookup` (webhook tests resolve names without DNS): the connection is
 * allowed only to the loopback addresses that lookup answers.
 */
function loopbackLookup(host: string | undefined, lookup: Lookup): Lookup {
  return (hostname, options, callback) =>
    lookup(hostname, options, (error, address, family) => {
      const addresses = Array.isArray(address)
        ? address.map((entry: { address: string }) => entry.address)
        : [String(address)];
      if (error === null && !addresses.every((one) => isLoopbackHost(one)))
        callback(new Error(`Test refused a network connection to ${host} (${addresses.join(', ')})`), address, family);
      else callback(error, address, family);
    });
}

/** Wraps, in place, the `lookup` of the connect options (plain or already normalised) if there is one. */
function guardLookup(args: unknown[]): boolean {
  const first = args[0];
  if (Array.isArray(first)) return guardLookup(first);
  if (typeof first !== 'object' || first === null || !('lookup' in first) || typeof first.lookup !== 'function')
    return false;
  const options = first as { host?: string; lookup: Lookup };
  options.lookup = loopbackLookup(options.host, options.lookup);
  return true;
}

net.Socket.prototype.connect = function patchedConnect(this: net.Socket, ...args: unknown[]) {
  const { host, path } = targetHost(args);
  if (path === undefined && !isLoopbackHost(host) && !isInvalidName(host)) {
    if (net.isIP(host ?? '') === 0 && guardLookup(args))
      return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
    throw new Error(`Test refused a network connection to ${host}: tests may only reach loopback`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
};

/** A name that can never resolve (RFC 2606 §2). */
function isInvalidName(host: unknown): host is string {
  return typeof host === 'string' && (host.toLowerCase().endsWith('.invalid') || host.toLowerCase() === 'invalid');
}

function notFound(syscall: string, hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', syscall, hostname });
}

const originalLookup = dns.lookup;
// net and tls resolve through `dns.lookup` (looked up at call time); nodemailer asks a Resolver first.
(dns as { lookup: unknown }).lookup = function lookup(hostname: string, ...rest: unknown[]) {
  const callback = rest[rest.length - 1];
  if (isInvalidName(hostname) && typeof callback === 'function') {
    process.nextTick(() => (callback as (error: Error) => void)(notFound('getaddrinfo', hostname)));
    return {};
  }
  return (originalLookup as (...a: unknown[]) => unknown).call(dns, hostname, ...rest);
};
const originalPromisesLookup = dns.promises.lookup;
(dns.promises as { lookup: unknown }).lookup = function lookup(hostname: string, ...rest: unknown[]) {
  if (isInvalidName(hostname)) return Promise.reject(notFound('getaddrinfo', hostname));
  return (originalPromisesLookup as (...a: unknown[]) => Promise<unknown>).call(dns.promises, hostname, ...rest);
};
for (const method of ['resolve4', 'resolve6'] as const) {
  const original = dns.Resolver.prototype[method] as (...a: unknown[]) => unknown;
  (dns.Resolver.prototype as unknown as Record<string, unknown>)[method] = function resolve(
    this: dns.Resolver,
    hostname: string,
    ...rest: unknown[]
  ) {
    const callback = rest[rest.length - 1];
    if (isInvalidName(hostname) && typeof callback === 'function') {
      process.nextTick(() =>
        (callback as (error: Error) => void)(notFound(`query${method.slice(-1) === '4' ? 'A' : 'Aaaa'}`, hostname)),
      );
      return;
    }
    return original.call(this, hostname, ...rest);
  };
}
