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
 * A fetch for identity and Graph calls: a timeout on every request, and — for a custom authority
 * such as the emulator — trust in an extra CA file on top of the system's roots.
 */
export function createFetch(options: { caFile: string | null; timeoutMs: number }): CustomFetch {
  const agent = options.caFile === null ? undefined : agentFor(options.caFile);
  return (async (url, init) => {
    const signal =
      init.signal === undefined
        ? AbortSignal.timeout(options.timeoutMs)
        : AbortSignal.any([init.signal, AbortSignal.timeout(options.timeoutMs)]);
    const response = await undiciFetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body as string | undefined,
      redirect: init.redirect ?? 'manual',
      signal,
      ...(agent === undefined ? {} : { dispatcher: agent }),
    });
    return response;
  }) satisfies CustomFetch;
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
