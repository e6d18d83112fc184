import { PosternError } from '../../errors/index.js';
import {
  createApiToken,
  findApiTokenById,
  findUserById,
  listApiTokens,
  revokeApiToken,
  type ApiTokenRecord,
  type Database,
} from '../../store/index.js';

/** API tokens for integrators; the plain token exists only in the creation answer. */
export class ApiTokenService {
  constructor(private readonly db: Database) {}

  async create(userId: number, name: string): Promise<{ record: ApiTokenRecord; token: string }> {
    const user = await findUserById(this.db, userId);
    if (user === undefined) throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no user ${userId}.` });
    const created = await createApiToken(this.db, { userId, name });
    return { record: created.record, token: created.plainToken };
  }

  listAll(): Promise<ApiTokenRecord[]> {
    return listApiTokens(this.db);
  }

  listFor(userId: number): Promise<ApiTokenRecord[]> {
    return listApiTokens(this.db, { userId });
  }

  /** Revokes a token; with `ownerId`, only a token of that user (others look absent). */
  async revoke(id: number, ownerId?: number): Promise<void> {
    const token = await findApiTokenById(this.db, id);
    if (token === undefined || (ownerId !== undefined && token.userId !== ownerId)) {
      throw new PosternError('RESOURCE_NOT_FOUND', { message: `There is no API token ${id}.` });
    }
    await revokeApiToken(this.db, id);
  }
}
