import { request } from './client.js';
import { itemsOf, user, type User } from './schemas.js';

export interface NewUser {
  username: string;
  displayName?: string;
  role: User['role'];
  password: string;
}

export interface UserChange {
  displayName?: string;
  role?: User['role'];
  disabled?: boolean;
  password?: string;
}

export async function listUsers(): Promise<User[]> {
  return (await request('GET', '/api/users', itemsOf(user))).items;
}

export function createUser(fields: NewUser): Promise<User> {
  return request('POST', '/api/users', user, { body: fields });
}

export function updateUser(id: number, change: UserChange): Promise<User> {
  return request('PATCH', `/api/users/${id}`, user, { body: change });
}
