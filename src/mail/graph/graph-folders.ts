/**
 * Finding a mailbox's folder through Microsoft Graph by the name an account gives it: a well-known
 * name (`Inbox`, `Junk Email`, `Archive`, …) by Graph's well-known folder id, anything else by
 * `displayName`, one path segment at a time (`Customers/Acme`). The Graph engine, the connection
 * test and the doctor resolve folders this one way.
 *
 * @see https://learn.microsoft.com/graph/api/resources/mailfolder (well-known folder names)
 */
import { z } from 'zod';
import type { GraphClient } from './graph-client.js';

const folderAnswer = z.object({
  id: z.string().min(1).max(2048),
  displayName: z.string().max(1000).optional(),
  totalItemCount: z.number().int().nonnegative().optional(),
});
const folderList = z.object({ value: z.array(folderAnswer) });

/** A folder as Graph describes it. */
export type GraphFolderInfo = z.infer<typeof folderAnswer>;

/** Well-known folder names Graph answers by, from the names the account form offers. */
const WELL_KNOWN = new Map([
  ['inbox', 'inbox'],
  ['junk email', 'junkemail'],
  ['junk', 'junkemail'],
  ['junkemail', 'junkemail'],
  ['archive', 'archive'],
  ['deleted items', 'deleteditems'],
  ['sent items', 'sentitems'],
]);

/** The folder at `path` (`Inbox`, `Junk Email`, `Customers/Acme`), or undefined when the mailbox has none. */
export async function findGraphFolder(
  client: Pick<GraphClient, 'json'>,
  path: string,
): Promise<GraphFolderInfo | undefined> {
  const wellKnown = WELL_KNOWN.get(path.toLowerCase());
  if (wellKnown !== undefined)
    return folderAnswer.parse(await client.json({ method: 'GET', path: `/mailFolders/${wellKnown}` }));
  let found: GraphFolderInfo | undefined;
  for (const name of path.split('/').filter((part) => part.length > 0)) {
    const base = found === undefined ? '/mailFolders' : `/mailFolders/${encodeURIComponent(found.id)}/childFolders`;
    const filter = encodeURIComponent(`displayName eq '${name.replaceAll("'", "''")}'`);
    const list = folderList.parse(await client.json({ method: 'GET', path: `${base}?$filter=${filter}` }));
    found = list.value.find((folder) => folder.displayName?.toLowerCase() === name.toLowerCase());
    if (found === undefined) return undefined;
  }
  return found;
}
