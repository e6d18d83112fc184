import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import type { Database, SecretBox } from '../store/index.js';
import { AuthService } from './auth-service.js';
import { DirectoryService } from './directory-service.js';
import { SecretService } from './secret-service.js';
import { ApiTokenService } from './api-token-service.js';
import { UserService } from './user-service.js';

export type { Principal, SignedIn } from './auth-service.js';

export interface ServiceDeps {
  db: Database;
  box: SecretBox;
  logger: Logger;
  config: Config;
}

/** The use cases of Postern, composed once and handed to the HTTP layer, the CLI and workers. */
export interface Services {
  ping(): Promise<void>;
  auth: AuthService;
  users: UserService;
  tokens: ApiTokenService;
  lists: DirectoryService['lists'];
  contacts: DirectoryService['contacts'];
  secrets: SecretService;
}

export function createServices(deps: ServiceDeps): Services {
  const directory = new DirectoryService(deps.db);
  return {
    ping: () => deps.db.ping(),
    auth: new AuthService(deps.db),
    users: new UserService(deps.db),
    tokens: new ApiTokenService(deps.db),
    lists: directory.lists,
    contacts: directory.contacts,
    secrets: new SecretService(deps.db, deps.box, deps.config),
  };
}
