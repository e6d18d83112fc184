/**
 * Folder and user operations of the emulated Graph API:
 *
 * - `GET …/mailFolders` (top-level folders), `…/mailFolders/{id}/childFolders`, with `$top`
 *   (default 10), `$skip` and `$filter=displayName eq '…'`; `GET …/mailFolders/{id | well-known name}`;
 * - `POST …/mailFolders`, `…/mailFolders/{id}/childFolders` `{displayName}`: a new folder, 201;
 *   409 ErrorFolderExists when its parent already has one by that name;
 * - `GET /me`, `GET /users/{id | upn}`: the user resource's default properties.
 *
 * @see https://learn.microsoft.com/graph/api/user-list-mailfolders
 * @see https://learn.microsoft.com/graph/api/mailfolder-get
 * @see https://learn.microsoft.com/graph/api/user-get
 * @see https://learn.microsoft.com/graph/api/user-post-mailfolders
 * @see https://learn.microsoft.com/graph/api/mailfolder-post-childfolders
 */
import { z } from 'zod';
import type { MailFolder } from '../exchange/mail-folder.js';
import { contextUrl, json, linkTo, mailboxOf, type GraphCall, type GraphResult } from './graph-call.js';
import { GraphError, graphErrors } from './graph-errors.js';
import { encodeFolderId, guidOf } from './graph-ids.js';
import { displayNameOf, type FolderRef, type GraphMailbox } from './graph-mailbox.js';
import { DEFAULT_PAGE_SIZE, pagingSchema, queryOptions } from './odata-query.js';

/** Graph's mailFolder resource. */
function presentFolder(mailbox: GraphMailbox, ref: FolderRef): Record<string, unknown> {
  if (ref.kind === 'root') {
    const top = mailbox.childrenOf(ref);
    return {
      id: mailbox.rootId,
      displayName: 'Top of Information Store',
      parentFolderId: mailbox.rootId,
      childFolderCount: top.length,
      unreadItemCount: 0,
      totalItemCount: 0,
      sizeInBytes: 0,
      isHidden: false,
    };
  }
  const folder: MailFolder = ref.folder;
  return {
    id: encodeFolderId(folder.id),
    displayName: displayNameOf(folder),
    parentFolderId: mailbox.parentIdOf(folder),
    childFolderCount: mailbox.childrenOf(ref).length,
    unreadItemCount: folder.unseen,
    totalItemCount: folder.size,
    sizeInBytes: folder.messages.reduce((sum, m) => sum + m.content.size, 0),
    isHidden: false,
  };
}

function pageOptions(call: GraphCall): { top: number; skip: number; displayName: string | undefined } {
  const parsed = pagingSchema.safeParse(Object.fromEntries(queryOptions(call.search)));
  if (!parsed.success) throw graphErrors.invalidQuery(parsed.error.issues[0]?.message ?? 'Invalid query.');
  const filter = parsed.data.$filter;
  let displayName: string | undefined;
  if (filter !== undefined) {
    const match = /^\s*displayName\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
    if (match?.[1] === undefined)
      throw graphErrors.invalidQuery(`The emulator supports only $filter=displayName eq '…' on folders.`);
    displayName = match[1].replace(/''/g, "'");
  }
  return { top: parsed.data.$top ?? DEFAULT_PAGE_SIZE, skip: parsed.data.$skip ?? 0, displayName };
}

/** `GET …/mailFolders` and `…/mailFolders/{id}/childFolders`. */
export function listFolders(call: GraphCall, parentRef: string | undefined): GraphResult {
  const mailbox = mailboxOf(call);
  const parent: FolderRef = parentRef === undefined ? { kind: 'root' } : mailbox.resolveFolder(parentRef);
  const { top, skip, displayName } = pageOptions(call);
  const children = mailbox
    .childrenOf(parent)
    .filter((f) => displayName === undefined || displayNameOf(f).toLowerCase() === displayName.toLowerCase());
  const page = children.slice(skip, skip + top);
  const collection = parentRef === undefined ? 'mailFolders' : `mailFolders('${parentRef}')/childFolders`;
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(call, `${call.contextUser}/${collection}`),
    value: page.map((folder) => presentFolder(mailbox, { kind: 'folder', folder })),
  };
  if (skip + top < children.length) {
    const path = parentRef === undefined ? 'mailFolders' : `mailFolders/${encodeURIComponent(parentRef)}/childFolders`;
    const options: Array<[string, string]> = [];
    const filter = [...call.search].find(([key]) => key.toLowerCase() === '$filter');
    if (filter !== undefined) options.push(['$filter', filter[1]]);
    options.push(['$top', String(top)], ['$skip', String(skip + top)]);
    body['@odata.nextLink'] = linkTo(call, path, options);
  }
  return json(body);
}

/** `GET …/mailFolders/{id}`. */
export function getFolder(call: GraphCall, ref: string): GraphResult {
  const mailbox = mailboxOf(call);
  return json({
    '@odata.context': contextUrl(call, `${call.contextUser}/mailFolders/$entity`),
    ...presentFolder(mailbox, mailbox.resolveFolder(ref)),
  });
}

/** `GET /me`, `GET /users/{id | upn}`: the user's default properties (a shared mailbox's for its address). */
export function getUser(call: GraphCall): GraphResult {
  const { user, mailbox } = call.target;
  const upn = user?.userPrincipalName ?? mailbox?.address ?? '';
  return json({
    '@odata.context': contextUrl(call, 'users/$entity'),
    businessPhones: [],
    displayName: user?.displayName ?? mailbox?.displayName ?? '',
    givenName: null,
    jobTitle: null,
    mail: mailbox?.address ?? user?.mail ?? null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: upn,
    id: user?.id ?? guidOf(upn),
  });
}

const createFolderBody = z.object({
  displayName: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .refine((name) => !name.includes('/'), 'must not contain "/" (emulator: the store\'s delimiter)'),
  isHidden: z.boolean().optional(),
});

/** `POST …/mailFolders` and `…/mailFolders/{id}/childFolders`. */
export function createFolder(call: GraphCall, parentRef: string | undefined): GraphResult {
  const mailbox = mailboxOf(call);
  const parsed = createFolderBody.safeParse(call.body);
  if (!parsed.success)
    throw graphErrors.invalidRequest(`displayName: ${parsed.error.issues[0]?.message ?? 'is required'}`);
  const parent: FolderRef = parentRef === undefined ? { kind: 'root' } : mailbox.resolveFolder(parentRef);
  const name = parent.kind === 'root' ? parsed.data.displayName : `${parent.folder.name}/${parsed.data.displayName}`;
  const exists = mailbox
    .childrenOf(parent)
    .some((folder) => displayNameOf(folder).toLowerCase() === parsed.data.displayName.toLowerCase());
  if (exists) throw new GraphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  const folder = call.deps.exchange.store.createFolder(mailbox.address, name);
  return json(
    {
      '@odata.context': contextUrl(call, `${call.contextUser}/mailFolders/$entity`),
      ...presentFolder(mailbox, { kind: 'folder', folder }),
    },
    201,
  );
}
