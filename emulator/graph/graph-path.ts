/**
 * Request paths of the emulated Graph mail API, parsed as Graph reads them: segment names compare
 * case-insensitively (`mailFolders`, `mailfolders`), keys come as a segment or in parentheses
 * (`messages/{id}`, `messages('{id}')`, `mailFolders('Inbox')`), and percent-encoding is undone
 * per segment. The result says which operation a method and path name.
 *
 * @see https://learn.microsoft.com/graph/api/resources/mail-api-overview
 */
import type { GraphTarget } from './graph-auth.js';
import { graphErrors } from './graph-errors.js';

/** One path segment: `name` or `name('key')`. */
export interface Segment {
  readonly raw: string;
  readonly name: string;
  readonly key?: string;
}

/** The operations of the emulated API. */
export type RouteMatch =
  | { readonly op: 'getUser' }
  | { readonly op: 'listFolders'; readonly parent?: string }
  | { readonly op: 'createFolder'; readonly parent?: string }
  | { readonly op: 'getFolder'; readonly folder: string }
  | { readonly op: 'listMessages'; readonly folder?: string }
  | { readonly op: 'delta'; readonly folder: string }
  | {
      readonly op: 'getMessage' | 'patchMessage' | 'deleteMessage' | 'messageValue' | 'listAttachments';
      readonly message: string;
    }
  | { readonly op: 'move' | 'copy' | 'reply' | 'replyAll'; readonly message: string }
  | { readonly op: 'getAttachment' | 'attachmentValue'; readonly message: string; readonly attachment: string }
  | { readonly op: 'sendMail' }
  // Drafts and upload sessions (draft-routes.ts).
  | { readonly op: 'createDraft'; readonly folder?: string }
  | { readonly op: 'sendDraft' | 'addAttachment' | 'createUploadSession'; readonly message: string };

/** A parsed path: whose mailbox, how the client named it, and the operation. */
export interface ParsedPath {
  readonly target: GraphTarget;
  /** `me` or `users/{ref}` as the client wrote it (links are built on it). */
  readonly targetPath: string;
  readonly route: RouteMatch;
}

function unquote(key: string): string {
  const trimmed = key.trim();
  return /^'.*'$/.test(trimmed) ? trimmed.slice(1, -1).replace(/''/g, "'") : trimmed;
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw graphErrors.segmentNotFound(raw);
  }
}

/** Splits a path (after `/v1.0/`) into segments. */
function segmentsOf(path: string): Segment[] {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((raw) => {
      const text = decode(raw);
      const call = /^([^()]+)\((.*)\)$/.exec(text);
      if (call?.[1] !== undefined && call[2] !== undefined) {
        return call[2].trim() === ''
          ? { raw: text, name: call[1].toLowerCase() }
          : { raw: text, name: call[1].toLowerCase(), key: unquote(call[2]) };
      }
      return { raw: text, name: text.toLowerCase() };
    });
}

/** Reads `collection/{key}` or `collection('key')` at `index`; returns the key and the next index. */
function keyed(segments: readonly Segment[], index: number): { key: string | undefined; next: number } {
  const head = segments[index];
  if (head?.key !== undefined) return { key: head.key, next: index + 1 };
  const following = segments[index + 1];
  return following === undefined ? { key: undefined, next: index + 1 } : { key: following.raw, next: index + 2 };
}

const ACTIONS = new Set(['move', 'copy', 'reply', 'replyall']);

function messageRoute(method: string, message: string, rest: readonly Segment[]): RouteMatch {
  const [first, second, third, extra] = rest;
  if (first === undefined) {
    if (method === 'GET') return { op: 'getMessage', message };
    if (method === 'PATCH') return { op: 'patchMessage', message };
    if (method === 'DELETE') return { op: 'deleteMessage', message };
    throw graphErrors.methodNotAllowed();
  }
  if (first.name === '$value' && second === undefined) return onlyGet(method, { op: 'messageValue', message });
  if (first.name === 'send' && second === undefined) {
    if (method !== 'POST') throw graphErrors.methodNotAllowed();
    return { op: 'sendDraft', message };
  }
  if (ACTIONS.has(first.name) && second === undefined) {
    if (method !== 'POST') throw graphErrors.methodNotAllowed();
    const op =
      first.name === 'move' ? 'move' : first.name === 'copy' ? 'copy' : first.name === 'reply' ? 'reply' : 'replyAll';
    return { op, message };
  }
  if (first.name === 'attachments') {
    const { key, next } = keyed(rest, 0);
    if (key === undefined && method === 'POST') return { op: 'addAttachment', message };
    if (key === undefined) return onlyGet(method, { op: 'listAttachments', message });
    if (key.toLowerCase() === 'createuploadsession' && next === rest.length) {
      if (method !== 'POST') throw graphErrors.methodNotAllowed();
      return { op: 'createUploadSession', message };
    }
    const tail = rest.slice(next);
    if (tail.length === 0) return onlyGet(method, { op: 'getAttachment', message, attachment: key });
    if (tail.length === 1 && tail[0]?.name === '$value')
      return onlyGet(method, { op: 'attachmentValue', message, attachment: key });
    throw graphErrors.segmentNotFound((tail[0] ?? first).raw);
  }
  throw graphErrors.segmentNotFound((extra ?? third ?? second ?? first).raw);
}

function onlyGet(method: string, route: RouteMatch): RouteMatch {
  if (method !== 'GET') throw graphErrors.methodNotAllowed();
  return route;
}

function messagesRoute(
  method: string,
  segments: readonly Segment[],
  index: number,
  folder: string | undefined,
): RouteMatch {
  const { key, next } = keyed(segments, index);
  if (key === undefined && method === 'POST')
    return folder === undefined ? { op: 'createDraft' } : { op: 'createDraft', folder };
  if (key === undefined)
    return onlyGet(method, folder === undefined ? { op: 'listMessages' } : { op: 'listMessages', folder });
  if (key.toLowerCase() === 'delta' || key.toLowerCase() === 'delta()') {
    if (folder === undefined) throw graphErrors.segmentNotFound('delta');
    if (next !== segments.length) throw graphErrors.segmentNotFound(segments[next]?.raw ?? 'delta');
    return onlyGet(method, { op: 'delta', folder });
  }
  return messageRoute(method, key, segments.slice(next));
}

function mailRoute(method: string, segments: readonly Segment[]): RouteMatch {
  const head = segments[0];
  if (head === undefined) return onlyGet(method, { op: 'getUser' });
  if (head.name === 'sendmail' && segments.length === 1) {
    if (method !== 'POST') throw graphErrors.methodNotAllowed();
    return { op: 'sendMail' };
  }
  if (head.name === 'messages') return messagesRoute(method, segments, 0, undefined);
  if (head.name === 'mailfolders') {
    const { key: folder, next } = keyed(segments, 0);
    if (folder === undefined && method === 'POST') return { op: 'createFolder' };
    if (folder === undefined) return onlyGet(method, { op: 'listFolders' });
    const tail = segments[next];
    if (tail === undefined) return onlyGet(method, { op: 'getFolder', folder });
    if (tail.name === 'childfolders' && tail.key === undefined && next + 1 === segments.length)
      return method === 'POST'
        ? { op: 'createFolder', parent: folder }
        : onlyGet(method, { op: 'listFolders', parent: folder });
    if (tail.name === 'messages') return messagesRoute(method, segments, next, folder);
    throw graphErrors.segmentNotFound(tail.raw);
  }
  throw graphErrors.segmentNotFound(head.raw);
}

/** Parses a path under `/v1.0/` for a method; throws Graph's 400/405 for paths it does not serve. */
export function parseGraphPath(method: string, path: string): ParsedPath {
  const segments = segmentsOf(path);
  const head = segments[0];
  if (head === undefined) throw graphErrors.segmentNotFound('v1.0');
  if (head.name === 'me' && head.key === undefined)
    return { target: { kind: 'me' }, targetPath: 'me', route: mailRoute(method, segments.slice(1)) };
  if (head.name === 'users') {
    const { key, next } = keyed(segments, 0);
    if (key === undefined || key === '') throw graphErrors.segmentNotFound(head.raw);
    return {
      target: { kind: 'user', ref: key },
      targetPath: `users/${encodeURIComponent(key)}`,
      route: mailRoute(method, segments.slice(next)),
    };
  }
  throw graphErrors.segmentNotFound(head.raw);
}
