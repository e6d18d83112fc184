/**
 * Microsoft's global host names on loopback, for tests only: connections to
 * (login.microsoftonline.com, 443), (graph.microsoft.com, 443), (outlook.office365.com, 993) and
 * (smtp.office365.com, 587) reach the emulator's ports on 127.0.0.1 instead, with the original
 * name kept for SNI and the certificate check (the emulator's certificate carries these names when
 * started with `microsoftHostNames: true`). So Postern's `global` cloud runs unchanged — discovery
 * at https://login.microsoftonline.com, openid-client's Entra special case included — without
 * /etc/hosts, the system resolver or a privileged port. Any other connection to a host that is
 * not loopback, and any name lookup other than these names and localhost, throws: nothing reaches
 * the internet.
 *
 * Two ways in:
 * - `node --import ./test/helpers/global-cloud-preload.mjs` with `POSTERN_TEST_GLOBAL_CLOUD` set to
 *   JSON `{ "https": PORT, "imap": PORT, "smtp": PORT }` (a child process; trust the emulator's CA
 *   with `NODE_EXTRA_CA_CERTS`);
 * - `installGlobalCloudRoutes({ https, imap, smtp, ca })` in-process (a test's own process, whose
 *   `NODE_EXTRA_CA_CERTS` cannot change any more: `ca` is then trusted, besides the system's roots,
 *   on connections to these names only). It returns the function that removes the routes.
 *
 * Where it hooks in: `net.Socket.prototype.connect`, which `net.connect`, `tls.connect`, undici
 * (Postern's fetch), imapflow and nodemailer all end in; `tls.connect` (for the CA); and `node:dns`
 * (nodemailer resolves a host itself, with `dns.Resolver`, before it connects: the names resolve to
 * marker addresses in 127.77.0.0/24 that the connect hook recognises).
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';

/** The global cloud's host names, the port Postern uses on each, which emulator port serves it, and a marker address. */
export const GLOBAL_CLOUD_HOSTS = [
  { host: 'login.microsoftonline.com', port: 443, serve: 'https', marker: '127.77.0.1' },
  { host: 'graph.microsoft.com', port: 443, serve: 'https', marker: '127.77.0.2' },
  { host: 'outlook.office365.com', port: 993, serve: 'imap', marker: '127.77.0.3' },
  { host: 'smtp.office365.com', port: 587, serve: 'smtp', marker: '127.77.0.4' },
];

const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true;
  return LOOPBACK.test(String(host).replace(/^\[/, '').replace(/\]$/, ''));
}

function refused(what) {
  const error = new Error(`global-cloud preload refused ${what}: tests may only reach loopback`);
  error.code = 'ENOTFOUND';
  return error;
}

let installed = null;

/**
 * Routes the global cloud's names to the emulator's ports; returns `uninstall`.
 *
 * @param {{ https: number, imap: number, smtp: number, ca?: string }} ports
 */
export function installGlobalCloudRoutes(ports) {
  if (installed !== null) throw new Error('global-cloud routes are already installed');
  const byName = new Map(GLOBAL_CLOUD_HOSTS.map((entry) => [entry.host, entry]));
  const byMarker = new Map(GLOBAL_CLOUD_HOSTS.map((entry) => [entry.marker, entry]));
  const entryOf = (host) => {
    const key = String(host ?? '').toLowerCase();
    return byName.get(key) ?? byMarker.get(key);
  };
  /** Connections made through the routes, `host:port`, for tests to assert on. */
  const routed = [];

  const original = {
    socketConnect: net.Socket.prototype.connect,
    tlsConnect: tls.connect,
    lookup: dns.lookup,
    promisesLookup: dns.promises.lookup,
    resolve4: dns.Resolver.prototype.resolve4,
    resolve6: dns.Resolver.prototype.resolve6,
    moduleResolve4: dns.resolve4,
    moduleResolve6: dns.resolve6,
  };

  /** The connect options with a routed (host, port) replaced by the emulator's; throws for the internet. */
  const reroute = (options) => {
    // A path names a local socket; https hands `path: null` over for TCP.
    if (typeof options !== 'object' || options === null || (options.path !== undefined && options.path !== null))
      return options;
    const entry = entryOf(options.host);
    if (entry !== undefined) {
      const port = Number(options.port);
      if (port !== entry.port)
        throw refused(`a connection to ${options.host}:${port} (only port ${entry.port} is routed)`);
      routed.push(`${entry.host}:${port}`);
      const { lookup: _lookup, autoSelectFamily: _family, ...rest } = options;
      return { ...rest, host: '127.0.0.1', port: ports[entry.serve] };
    }
    if (!isLoopback(options.host)) throw refused(`a connection to ${options.host}`);
    return options;
  };

  net.Socket.prototype.connect = function routedConnect(...args) {
    const first = args[0];
    if (Array.isArray(first)) {
      // net.connect() hands over its normalised [options, callback] array (marked with a symbol):
      // replace the options in place so the mark stays.
      first[0] = reroute(first[0]);
      return original.socketConnect.apply(this, args);
    }
    if (typeof first === 'object' && first !== null) {
      return original.socketConnect.apply(this, [reroute(first), ...args.slice(1)]);
    }
    // connect(port[, host][, callback])
    const host = typeof args[1] === 'string' ? args[1] : undefined;
    if (typeof first === 'number' || /^\d+$/.test(String(first))) {
      const options = reroute({ port: Number(first), host });
      const rest = args.slice(host === undefined ? 1 : 2);
      return original.socketConnect.apply(this, [options, ...rest]);
    }
    return original.socketConnect.apply(this, args); // a path: a local socket
  };

  if (ports.ca !== undefined) {
    const ca = [...tls.rootCertificates, ports.ca];
    tls.connect = function connectTrusting(...args) {
      const first = args[0];
      if (typeof first === 'object' && first !== null && first.ca === undefined && first.secureContext === undefined) {
        const name = first.servername ?? first.host ?? first.socket?._host;
        if (entryOf(name) !== undefined) return original.tlsConnect.apply(this, [{ ...first, ca }, ...args.slice(1)]);
      }
      return original.tlsConnect.apply(this, args);
    };
  }

  const answer = (hostname, family) => {
    const entry = entryOf(hostname);
    if (entry !== undefined) return { address: entry.marker, family: 4 };
    if (String(hostname).toLowerCase() === 'localhost')
      return { address: family === 6 ? '::1' : '127.0.0.1', family: family === 6 ? 6 : 4 };
    if (net.isIP(String(hostname)) !== 0 && isLoopback(hostname))
      return { address: String(hostname), family: net.isIP(String(hostname)) };
    return null;
  };

  dns.lookup = function routedLookup(hostname, options, callback) {
    const done = typeof options === 'function' ? options : callback;
    const opts =
      typeof options === 'object' && options !== null ? options : { family: typeof options === 'number' ? options : 0 };
    const found = answer(hostname, opts.family);
    if (found === null) {
      process.nextTick(() => done(refused(`a lookup of ${hostname}`)));
      return {};
    }
    process.nextTick(() => (opts.all === true ? done(null, [found]) : done(null, found.address, found.family)));
    return {};
  };
  dns.promises.lookup = async (hostname, options = {}) => {
    const opts = typeof options === 'number' ? { family: options } : options;
    const found = answer(hostname, opts.family);
    if (found === null) throw refused(`a lookup of ${hostname}`);
    return opts.all === true ? [found] : found;
  };
  const resolver = (family) =>
    function routedResolve(hostname, options, callback) {
      const done = typeof options === 'function' ? options : callback;
      const found = answer(hostname, family);
      process.nextTick(() => {
        if (found === null || found.family !== family) {
          const error = refused(`a DNS query for ${hostname}`);
          done(error);
        } else done(null, [found.address]);
      });
      return {};
    };
  dns.Resolver.prototype.resolve4 = resolver(4);
  dns.Resolver.prototype.resolve6 = resolver(6);
  dns.resolve4 = resolver(4);
  dns.resolve6 = resolver(6);
  // ESM named imports of the builtins (`import { connect } from 'node:tls'`) see the patches too.
  syncBuiltinESMExports();

  installed = () => {
    net.Socket.prototype.connect = original.socketConnect;
    tls.connect = original.tlsConnect;
    dns.lookup = original.lookup;
    dns.promises.lookup = original.promisesLookup;
    dns.Resolver.prototype.resolve4 = original.resolve4;
    dns.Resolver.prototype.resolve6 = original.resolve6;
    dns.resolve4 = original.moduleResolve4;
    dns.resolve6 = original.moduleResolve6;
    syncBuiltinESMExports();
    installed = null;
  };
  const uninstall = installed;
  return Object.assign(uninstall, { routed });
}

const fromEnv = process.env.POSTERN_TEST_GLOBAL_CLOUD;
if (fromEnv !== undefined && fromEnv !== '') {
  const ports = JSON.parse(fromEnv);
  for (const name of ['https', 'imap', 'smtp']) {
    if (!Number.isInteger(ports[name])) throw new Error(`POSTERN_TEST_GLOBAL_CLOUD lacks the ${name} port`);
  }
  installGlobalCloudRoutes({ https: ports.https, imap: ports.imap, smtp: ports.smtp });
}
