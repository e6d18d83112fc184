import { describe, expect, it } from 'vitest';
import { href, matchRoute } from './routes.js';

describe('UI routes', () => {
  it('matches the page the OAuth callback sends the browser to', () => {
    expect(matchRoute('/ui/cloud-providers/12')).toEqual({ name: 'provider', params: { id: '12' } });
    expect(matchRoute('/ui/cloud-providers/12/edit')).toEqual({ name: 'provider-edit', params: { id: '12' } });
  });

  it("matches a conversation in an account's inbox", () => {
    expect(matchRoute('/ui/inbox/2/15')).toEqual({
      name: 'inbox-conversation',
      params: { accountId: '2', interactionId: '15' },
    });
    expect(matchRoute('/ui/inbox/2')).toEqual({ name: 'inbox-account', params: { accountId: '2' } });
  });

  it('prefers the fixed "new" page over an id and refuses ids that are not positive integers', () => {
    expect(matchRoute('/ui/cloud-providers/new')?.name).toBe('provider-new');
    expect(matchRoute('/ui/cloud-providers/0')).toBeNull();
    expect(matchRoute('/ui/cloud-providers/abc')).toBeNull();
  });

  it('treats /ui, /ui/ and trailing slashes alike', () => {
    expect(matchRoute('/ui')?.name).toBe('home');
    expect(matchRoute('/ui/')?.name).toBe('home');
    expect(matchRoute('/ui/users/')?.name).toBe('users');
    expect(matchRoute('/ui/nothing')).toBeNull();
  });

  it('builds browser paths under /ui', () => {
    expect(href('/')).toBe('/ui/');
    expect(href('/contacts?listId=2')).toBe('/ui/contacts?listId=2');
  });
});
