/**
 * `GET …/mailFolders/{id}/messages/delta`: a round of pages (`Prefer: odata.maxpagesize=N`, else
 * `$top`, else 10) linked by `@odata.nextLink` (`$skiptoken`) and closed by `@odata.deltaLink`
 * (`$deltatoken`); the next round, started from the delta link, reports only what changed since:
 * new and updated messages in full (or as `$select` asked in the round's first request), and
 * `{ "id", "@removed": { "reason": "deleted" } }` for messages deleted or moved out of the folder.
 *
 * @see https://learn.microsoft.com/graph/api/message-delta
 * @see https://learn.microsoft.com/graph/delta-query-messages
 * @see ../../../shared/reference/microsoft-protocols.md §8 (Delta)
 */
import { contextUrl, json, linkTo, mailboxOf, type GraphCall, type GraphResult } from './graph-call.js';
import { encodeFolderId, encodeMessageId } from './graph-ids.js';
import type { DeltaRound, FolderSnapshot } from './delta-sync.js';
import { presentMessage, receivedSeconds, versionOf } from './message-view.js';
import { DEFAULT_PAGE_SIZE, parseDeltaQuery, parsePrefer, type DeltaQuery } from './odata-query.js';
import type { MailFolder } from '../exchange/mail-folder.js';

function option(search: URLSearchParams, name: string): string | undefined {
  for (const [key, value] of search) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** The folder as delta sees it: the messages the round's filter keeps, in presentation order. */
function snapshotOf(
  folder: MailFolder,
  query: DeltaQuery,
  idOf: (uid: number) => string,
): { current: FolderSnapshot; order: string[] } {
  const after = query.receivedAfter;
  const threshold = after === undefined ? undefined : Math.floor(after.value.getTime() / 1000);
  const kept = folder.messages.filter(
    (m) =>
      threshold === undefined ||
      (after?.inclusive === true ? receivedSeconds(m) >= threshold : receivedSeconds(m) > threshold),
  );
  const ordered = query.descending
    ? [...kept].sort((a, b) => receivedSeconds(b) - receivedSeconds(a) || b.uid - a.uid)
    : kept;
  const current = new Map<string, string>();
  for (const message of ordered) current.set(idOf(message.uid), versionOf(message));
  return { current, order: ordered.map((m) => idOf(m.uid)) };
}

/** Serves one delta request. */
export async function deltaMessages(call: GraphCall, folderRef: string): Promise<GraphResult> {
  const mailbox = mailboxOf(call);
  const folder = mailbox.requireFolder(folderRef);
  const states = call.deps.delta;
  const idOf = (uid: number): string => encodeMessageId(folder.id, uid);
  const skipToken = option(call.search, '$skiptoken');
  const deltaToken = option(call.search, '$deltatoken');

  let round: DeltaRound;
  let offset = 0;
  if (skipToken !== undefined) {
    ({ round, offset } = states.resumeRound(skipToken, mailbox.address, folder.id));
  } else {
    const since = deltaToken === undefined ? undefined : states.syncState(deltaToken, mailbox.address, folder.id);
    const query = since?.query ?? parseDeltaQuery(call.search);
    const { current, order } = snapshotOf(folder, query, idOf);
    round = states.startRound({
      mailbox: mailbox.address,
      folderId: folder.id,
      query,
      current,
      order,
      ...(since === undefined ? {} : { since }),
    });
  }

  const prefer = parsePrefer(call.headers.prefer);
  const pageSize = prefer.maxPageSize ?? round.query.top ?? DEFAULT_PAGE_SIZE;
  const entries = round.entries.slice(offset, offset + pageSize);
  const value: Array<Record<string, unknown>> = [];
  for (const entry of entries) {
    if (entry.kind === 'deleted') {
      value.push({ '@odata.type': '#microsoft.graph.message', id: entry.id, '@removed': { reason: 'deleted' } });
      continue;
    }
    const located = (() => {
      try {
        return mailbox.findMessage(entry.id);
      } catch {
        return undefined;
      }
    })();
    // Gone since the round started: the next round reports its removal.
    if (located === undefined) continue;
    const presented = await presentMessage(located.folder, located.message, {
      select: round.query.select,
      bodyText: prefer.bodyText,
      expandAttachments: round.query.expandAttachments,
    });
    value.push({ '@odata.type': '#microsoft.graph.message', ...presented });
  }

  const path = `mailFolders('${encodeFolderId(folder.id)}')/messages/delta`;
  const body: Record<string, unknown> = { '@odata.context': contextUrl(call, 'Collection(message)') };
  const next = offset + pageSize;
  if (next < round.entries.length)
    body['@odata.nextLink'] = linkTo(call, path, [['$skiptoken', states.saveRound(round, next)]]);
  else body['@odata.deltaLink'] = linkTo(call, path, [['$deltatoken', states.saveSyncState(round)]]);
  body.value = value;
  const applied = [
    ...(prefer.maxPageSize === undefined ? [] : [`odata.maxpagesize=${prefer.maxPageSize}`]),
    ...(prefer.bodyText ? ['outlook.body-content-type="text"'] : []),
  ];
  return json(body, 200, applied.length === 0 ? undefined : { 'preference-applied': applied.join(', ') });
}
