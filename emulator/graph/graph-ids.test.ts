import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeAttachmentId,
  decodeFolderId,
  decodeMessageId,
  encodeAttachmentId,
  encodeFolderId,
  encodeMessageId,
  isRootOf,
  rootFolderId,
} from './graph-ids.js';

describe('Graph ids', () => {
  const folderId = randomUUID();

  it('round-trip messages, folders and attachments, shaped like Exchange ids', () => {
    const message = encodeMessageId(folderId, 4_000_000_001);
    expect(message).toMatch(/^AAMk[A-Za-z0-9_-]+=$/);
    expect(decodeMessageId(message)).toEqual({ folderId, uid: 4_000_000_001 });
    const folder = encodeFolderId(folderId);
    expect(folder).toMatch(/^AQMk[A-Za-z0-9_-]+=$/);
    expect(decodeFolderId(folder)).toEqual({ kind: 'folder', folderId });
    expect(decodeAttachmentId(encodeAttachmentId({ folderId, uid: 7 }, 2))).toEqual({ folderId, uid: 7, index: 2 });
  });

  it('give each folder and UID its own message id (a moved message gets a new one)', () => {
    expect(encodeMessageId(folderId, 1)).not.toBe(encodeMessageId(folderId, 2));
    expect(encodeMessageId(folderId, 1)).not.toBe(encodeMessageId(randomUUID(), 1));
  });

  it('refuse malformed ids and ids of the wrong kind', () => {
    expect(decodeMessageId('AAMkbogus=')).toBeUndefined();
    expect(decodeMessageId('hello')).toBeUndefined();
    expect(decodeMessageId(encodeFolderId(folderId))).toBeUndefined();
    expect(decodeFolderId(encodeMessageId(folderId, 1))).toBeUndefined();
    expect(decodeMessageId(encodeAttachmentId({ folderId, uid: 1 }, 0))).toBeUndefined();
  });

  it('name a mailbox root that only its mailbox recognises', () => {
    const root = decodeFolderId(rootFolderId('Andrea@Contoso.com'));
    expect(root?.kind).toBe('root');
    expect(root !== undefined && isRootOf(root, 'andrea@contoso.com')).toBe(true);
    expect(root !== undefined && isRootOf(root, 'marco@contoso.com')).toBe(false);
  });
});
