/**
 * What a Graph operation handler receives — the authenticated caller, the addressed mailbox, the
 * query and body — and what it returns: a status with a JSON body, raw bytes (`$value`), or
 * nothing (202/204). Also the URL helpers for `@odata.context` and `@odata.nextLink`, which point at
 * the emulator's own origin so clients can follow them verbatim.
 *
 * @see https://learn.microsoft.com/graph/paging
 */
import type { Clock } from '../clock.js';
import type { FaultInjector } from '../control/faults.js';
import type { DirectoryStore } from '../directory/directory-store.js';
import type { ExchangeService } from '../exchange/exchange-service.js';
import type { IntrospectAccessToken } from '../identity/introspect.js';
import type { EmulatorLogger } from '../log.js';
import type { DeltaStates } from './delta-sync.js';
import type { GraphPrincipal, ResolvedTarget } from './graph-auth.js';
import type { GraphMailbox } from './graph-mailbox.js';
import type { MailboxConcurrency } from './graph-throttle.js';
import type { GraphSubscriptions } from './subscriptions.js';

/** Everything the Graph routes work with. */
export interface GraphDeps {
  readonly directory: DirectoryStore;
  readonly clock: Clock;
  readonly introspect: IntrospectAccessToken;
  readonly faults: FaultInjector;
  readonly exchange: ExchangeService;
  readonly concurrency: MailboxConcurrency;
  readonly delta: DeltaStates;
  readonly subscriptions: GraphSubscriptions;
  readonly logger: EmulatorLogger;
}

/** One authenticated call to a mail operation. */
export interface GraphCall {
  readonly deps: GraphDeps;
  readonly principal: GraphPrincipal;
  readonly target: ResolvedTarget;
  /** The addressed mailbox in the mail store (undefined only for `GET /me`, `GET /users/{id}`). */
  readonly mailbox: GraphMailbox | undefined;
  /** `https://127.0.0.1:PORT/v1.0` */
  readonly base: string;
  /** `me` or `users/{ref}` as requested. */
  readonly targetPath: string;
  /** `users('{id}')` for `@odata.context`. */
  readonly contextUser: string;
  readonly search: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly contentType: string;
  readonly body: unknown;
}

/** What a handler answers. */
export type GraphResult =
  | {
      readonly kind: 'json';
      readonly status: number;
      readonly body: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'bytes'; readonly status: number; readonly contentType: string; readonly data: Buffer }
  | { readonly kind: 'empty'; readonly status: number };

/** A JSON reply (200 unless told). */
export function json(body: unknown, status = 200, headers?: Record<string, string>): GraphResult {
  return headers === undefined ? { kind: 'json', status, body } : { kind: 'json', status, body, headers };
}

/** A reply without a body (202 for sends, 204 for deletes). */
export function empty(status: number): GraphResult {
  return { kind: 'empty', status };
}

/** The mailbox of a mail operation (routes that need one always have it). */
export function mailboxOf(call: GraphCall): GraphMailbox {
  if (call.mailbox === undefined) throw new Error('operation without a mailbox');
  return call.mailbox;
}

/** `https://host/v1.0/$metadata#…` */
export function contextUrl(call: GraphCall, fragment: string): string {
  return `${call.base}/$metadata#${fragment}`;
}

/** A link to `path` (under the target) with these query options, written as Graph writes them. */
export function linkTo(call: GraphCall, path: string, options: ReadonlyArray<readonly [string, string]>): string {
  const query = options
    .map(([name, value]) => `${name}=${encodeURIComponent(value).replace(/%2C/g, ',').replace(/%20/g, '+')}`)
    .join('&');
  return `${call.base}/${call.targetPath}/${path}${query === '' ? '' : `?${query}`}`;
}
