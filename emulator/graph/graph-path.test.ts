import { describe, expect, it } from 'vitest';
import { GraphError } from './graph-errors.js';
import { parseGraphPath } from './graph-path.js';

function statusOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error.status;
    throw error;
  }
  return undefined;
}

describe('parseGraphPath', () => {
  it('reads /me and /users/{ref} in both key styles, case-insensitively', () => {
    expect(parseGraphPath('GET', 'me/mailFolders/inbox/messages')).toEqual({
      target: { kind: 'me' },
      targetPath: 'me',
      route: { op: 'listMessages', folder: 'inbox' },
    });
    expect(parseGraphPath('GET', "users('a%40b.com')/MailFolders('Inbox')/messages")).toMatchObject({
      target: { kind: 'user', ref: 'a@b.com' },
      targetPath: 'users/a%40b.com',
      route: { op: 'listMessages', folder: 'Inbox' },
    });
    expect(parseGraphPath('GET', 'users/a@b.com/mailfolders/X/messages/delta').route).toEqual({
      op: 'delta',
      folder: 'X',
    });
    expect(parseGraphPath('GET', "me/mailFolders('X')/messages/delta()").route).toEqual({ op: 'delta', folder: 'X' });
  });

  it('maps methods and actions on a message', () => {
    expect(parseGraphPath('GET', 'me/messages/AAMk1=').route).toEqual({ op: 'getMessage', message: 'AAMk1=' });
    expect(parseGraphPath('PATCH', "me/messages('AAMk1=')").route).toEqual({ op: 'patchMessage', message: 'AAMk1=' });
    expect(parseGraphPath('GET', 'me/messages/AAMk1=/$value').route).toEqual({ op: 'messageValue', message: 'AAMk1=' });
    expect(parseGraphPath('POST', 'me/mailFolders/inbox/messages/AAMk1=/move').route).toEqual({
      op: 'move',
      message: 'AAMk1=',
    });
    expect(parseGraphPath('POST', 'me/messages/AAMk1=/replyAll').route).toEqual({ op: 'replyAll', message: 'AAMk1=' });
    expect(parseGraphPath('GET', 'me/messages/AAMk1=/attachments/AAMkAtt2=/$value').route).toEqual({
      op: 'attachmentValue',
      message: 'AAMk1=',
      attachment: 'AAMkAtt2=',
    });
    expect(parseGraphPath('POST', 'me/sendMail').route).toEqual({ op: 'sendMail' });
  });

  it('answers unknown segments 400 and wrong methods 405', () => {
    expect(statusOf(() => parseGraphPath('GET', 'me/calendar'))).toBe(400);
    expect(statusOf(() => parseGraphPath('GET', 'groups/x/messages'))).toBe(400);
    expect(statusOf(() => parseGraphPath('GET', 'me/messages/delta'))).toBe(400);
    expect(statusOf(() => parseGraphPath('GET', 'me/sendMail'))).toBe(405);
    expect(statusOf(() => parseGraphPath('POST', 'me/messages/AAMk1='))).toBe(405);
  });
});
