/**
 * `POST /subscriptions`, `GET|PATCH|DELETE /subscriptions/{id}` of the emulated Graph API (the
 * state and deliveries are in subscriptions.ts). The resource is a folder's messages
 * (`users/{id}/mailFolders('{id}')/messages`, `me/mailFolders/inbox/messages`) or a mailbox's
 * (`users/{id}/messages`: every folder it has now); the caller needs read access to it.
 *
 * @see https://learn.microsoft.com/graph/api/subscription-post-subscriptions
 * @see https://learn.microsoft.com/graph/api/resources/subscription
 */
import { z } from 'zod';
import type { MailFolder } from '../exchange/mail-folder.js';
import { requireRight, resolveTarget, type GraphPrincipal } from './graph-auth.js';
import { empty, json, type GraphDeps, type GraphResult } from './graph-call.js';
import { GraphError, graphErrors } from './graph-errors.js';
import { GraphMailbox } from './graph-mailbox.js';
import { parseGraphPath } from './graph-path.js';
import type { ChangeType, GraphSubscriptions, Subscription } from './subscriptions.js';

const httpsUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      return new URL(value).protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an https URL');

const createBody = z.object({
  changeType: z.string().min(1).max(64),
  notificationUrl: httpsUrl,
  lifecycleNotificationUrl: httpsUrl.optional(),
  resource: z.string().min(1).max(1024),
  expirationDateTime: z.string().min(1).max(64),
  clientState: z.string().max(128).optional(),
});

const patchBody = z.object({ expirationDateTime: z.string().min(1).max(64) });

const CHANGE_TYPES = new Set<string>(['created', 'updated', 'deleted']);

function invalid(message: string): GraphError {
  return new GraphError(400, 'InvalidRequest', message);
}

function present(base: string, subscription: Subscription): Record<string, unknown> {
  return {
    '@odata.context': `${base}/$metadata#subscriptions/$entity`,
    id: subscription.id,
    resource: subscription.resource,
    applicationId: subscription.appId,
    changeType: [...subscription.changeTypes].join(','),
    clientState: subscription.clientState,
    notificationUrl: subscription.notificationUrl,
    lifecycleNotificationUrl: subscription.lifecycleNotificationUrl,
    expirationDateTime: subscription.expiresAt.toISOString(),
    creatorId: subscription.appId,
    latestSupportedTlsVersion: 'v1_2',
  };
}

/** The folders a subscription's resource names, after the caller's read access is checked. */
function foldersOf(
  deps: GraphDeps,
  principal: GraphPrincipal,
  resource: string,
): { folders: MailFolder[]; userPath: string } {
  const path = resource.replace(/^\/+/, '');
  let parsed;
  try {
    parsed = parseGraphPath('GET', path);
  } catch {
    throw invalid(`Resource '${resource}' is not supported for subscriptions. (emulator wording)`);
  }
  if (parsed.route.op !== 'listMessages')
    throw invalid(`Resource '${resource}' is not supported for subscriptions. (emulator wording)`);
  const target = resolveTarget(principal, parsed.target, deps.directory);
  if (target.address === undefined) throw graphErrors.mailboxNotEnabled();
  requireRight(principal, target, 'read', deps.directory);
  const mailbox = new GraphMailbox(deps.exchange.store, target.address);
  const folders =
    parsed.route.folder === undefined ? [...mailbox.folders.all] : [mailbox.requireFolder(parsed.route.folder)];
  return { folders, userPath: `Users/${target.user?.id ?? target.address}` };
}

/** `POST /subscriptions`. */
export async function createSubscription(
  deps: GraphDeps,
  subscriptions: GraphSubscriptions,
  principal: GraphPrincipal,
  base: string,
  body: unknown,
): Promise<GraphResult> {
  const parsed = createBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  const input = parsed.data;
  const changeTypes = input.changeType.split(',').map((t) => t.trim());
  if (changeTypes.some((t) => !CHANGE_TYPES.has(t)))
    throw invalid(`Invalid 'changeType' attribute: '${input.changeType}'.`);
  const expiresAt = subscriptions.grantedExpiry(new Date(input.expirationDateTime));
  const { folders, userPath } = foldersOf(deps, principal, input.resource);
  const subscription = await subscriptions.create(
    {
      appId: principal.appId,
      tenantId: principal.tenantId,
      changeTypes: new Set(changeTypes as ChangeType[]),
      resource: input.resource,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl ?? null,
      clientState: input.clientState ?? null,
      userPath,
      expiresAt,
    },
    folders,
  );
  return json(present(base, subscription), 201);
}

/** `GET|PATCH|DELETE /subscriptions/{id}`. */
export function subscriptionById(
  subscriptions: GraphSubscriptions,
  principal: GraphPrincipal,
  base: string,
  method: string,
  id: string,
  body: unknown,
): GraphResult {
  const subscription = subscriptions.get(id, principal.appId);
  switch (method) {
    case 'GET':
      return json(present(base, subscription));
    case 'DELETE':
      subscriptions.delete(id);
      return empty(204);
    case 'PATCH': {
      const parsed = patchBody.safeParse(body);
      if (!parsed.success) throw invalid('expirationDateTime: required');
      subscription.expiresAt = subscriptions.grantedExpiry(new Date(parsed.data.expirationDateTime));
      return json(present(base, subscription));
    }
    default:
      throw graphErrors.methodNotAllowed();
  }
}
