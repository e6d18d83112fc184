import { request, send } from './client.js';
import { apiToken, createdToken, itemsOf, type ApiToken } from './schemas.js';

export async function listTokens(): Promise<ApiToken[]> {
  return (await request('GET', '/api/tokens', itemsOf(apiToken))).items;
}

/** Creates a token; the plain token is in the answer only, never again. */
export function createToken(name: string): Promise<ApiToken & { token: string }> {
  return request('POST', '/api/tokens', createdToken, { body: { name } });
}

export function revokeToken(id: number): Promise<void> {
  return send('DELETE', `/api/tokens/${id}`);
}
