import fs from 'node:fs';
import tls from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { PosternError } from '../../errors/index.js';

/** A fetch with the signature openid-client's `customFetch` expects. */
export type CustomFetch = (
  url: string,
  options: {
    method: string;
    headers: Record<string, string>;
    body?: unknown;
    redirect?: 'manual';
    signal?: AbortSignal;
  },
) => Promise<Response>;

const agents = new Map<string, Agent>();

/**
 * A fetch for the identity platform's calls (discovery, keys, token): a timeout on every request —
 * a server that accepts the connection and never answers fails the request after `timeoutMs` —
 * and, for a custom authority such as the emulator, trust in an extra CA file on top of the
 * system's roots. A request that cannot reach the server fails with `AUTH_PROVIDER_UNAVAILABLE`
 * naming the endpoint's host and port (never its path or query) and the cause.
 */
export function createFetch(options: { caFile: string | null; timeoutMs: number }): CustomFetch {
  const agent = options.caFile === null ? undefined : agentFor(options.caFile);
  return (async (url, init) => {
    const signal =
      init.signal === undefined
        ? AbortSignal.timeout(options.timeoutMs)
        : AbortSignal.any([init.signal, AbortSignal.timeout(options.timeoutMs)]);
    try {
      return await undiciFetch(url, {
        method: init.method,
        headers: init.headers,
        body: init.body as string | undefined,
        redirect: init.redirect ?? 'manual',
        signal,
        ...(agent === undefined ? {} : { dispatcher: agent }),
      });
    } catch (error) {
      // The caller's own cancellation is not a network fault; its timeout (openid-client's) is.
      if (init.signal?.aborted === true && !isTimeout(init.signal.reason)) throw error;
      throw unreachable(url, error, options.timeoutMs);
    }
  }) satisfies CustomFetch;
}

function isTimeout(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && 'name' in reason && reason.name === 'TimeoutError';
}

/** `host:port` of a URL: what a network failure names (the path and query may carry tenant data). */
export function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port === '' ? (parsed.protocol === 'http:' ? '80' : '443') : parsed.port;
    return `${parsed.hostname}:${port}`;
  } catch {
    return 'the identity platform';
  }
}

/** The system or undici code under a failed fetch (`fetch failed` keeps it as its cause). */
function codeOf(error: unknown): string {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth += 1) {
    if (typeof current !== 'object') break;
    if ('name' in current && (current.name === 'TimeoutError' || current.name === 'AbortError')) return 'TIMEOUT';
    if ('code' in current && typeof current.code === 'string') return current.code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return '';
}

/** The message of the innermost cause (`fetch failed` says nothing; its cause says what failed). */
function deepestMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let current = error, depth = 0; depth < 4; depth += 1) {
    if (typeof current !== 'object' || current === null || !('cause' in current)) break;
    current = current.cause;
    if (current instanceof Error && current.message !== '') message = current.message;
  }
  return message;
}

/**
 * The catalogue error for a request that did not get an answer: which endpoint, and whether its
 * name, its port or the path to it failed.
 */
export function unreachable(url: string, error: unknown, timeoutMs: number): PosternError {
  const endpoint = endpointOf(url);
  const code = codeOf(error);
  const where = `Microsoft's identity platform at ${endpoint}`;
  let message: string;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      message = `${where} could not be reached: its name could not be resolved (DNS ${code}).`;
      break;
    case 'ECONNREFUSED':
      message = `The connection to ${where} was refused: nothing accepts connections on that port there.`;
      break;
    case 'TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      message = `${where} did not answer within ${Math.round(timeoutMs / 100) / 10} s: the connection hangs somewhere on the way or at the server.`;
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      message = `${where} could not be reached: there is no network route to it (${code}).`;
      break;
    default:
      message = `The connection to ${where} failed or was dropped: ${deepestMessage(error)}${code === '' ? '' : ` (${code})`}.`;
  }
  return new PosternError('AUTH_PROVIDER_UNAVAILABLE', {
    message,
    details: { endpoint, ...(code === '' ? {} : { networkCode: code }) },
    cause: error,
  });
}

function agentFor(caFile: string): Agent {
  const existing = agents.get(caFile);
  if (existing !== undefined) return existing;
  let ca: string;
  try {
    ca = fs.readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new PosternError('VALIDATION_FAILED', {
      message: `The CA file ${caFile} of this Cloud Provider cannot be read.`,
      remedy: 'Give the path of a PEM certificate file that Postern can read, or remove the CA file.',
      cause: error,
    });
  }
  // The system roots stay trusted: a CA file adds to them, it does not replace them.
  const agent = new Agent({ connect: { ca: [...tls.rootCertificates, ca] } });
  agents.set(caFile, agent);
  return agent;
}
