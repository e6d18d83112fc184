import { request, send } from './client.js';
import { session, user, type User } from './schemas.js';

export async function signIn(username: string, password: string): Promise<User> {
  return (await request('POST', '/api/auth/login', session, { body: { username, password } })).user;
}

export function signOut(): Promise<void> {
  return send('POST', '/api/auth/logout');
}

export function currentUser(): Promise<User> {
  return request('GET', '/api/auth/me', user);
}

export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  return send('POST', '/api/auth/password', { body: { currentPassword, newPassword } });
}
