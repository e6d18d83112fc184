/**
 * The event timeline as people and integrators query it: one list across providers, grants,
 * accounts and messages, filtered and paged by id. Administrators see everything; an agent sees
 * only the events of the email accounts assigned to it (the accounts' own events and those of
 * their messages), never provider, grant or system events.
 */
import {
  listAgentAccountIds,
  listEvents,
  type Database,
  type EventFilter,
  type EventLevel,
  type EventPage,
  type EventScope,
} from '../../store/index.js';
import type { Viewer } from '../accounts/account-service.js';

/** What a caller may filter on. */
export interface EventQuery {
  readonly scope?: EventScope;
  readonly scopeId?: number;
  /** Events about one email account: its own and its messages'. */
  readonly accountId?: number;
  readonly types?: readonly string[];
  readonly levels?: readonly EventLevel[];
  readonly since?: Date;
  readonly before?: number;
  readonly limit?: number;
}

/** Reads the timeline on behalf of a viewer. */
export class EventService {
  constructor(private readonly db: Database) {}

  /** Events matching `query` that `viewer` may see, newest first. */
  async list(query: EventQuery, viewer: Viewer): Promise<EventPage> {
    const accountIds = await this.visibleAccounts(query.accountId, viewer);
    const filter: EventFilter = {
      ...(query.scope === undefined ? {} : { scope: query.scope }),
      ...(query.scopeId === undefined ? {} : { scopeId: query.scopeId }),
      ...(query.types === undefined ? {} : { types: query.types }),
      ...(query.levels === undefined ? {} : { levels: query.levels }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.before === undefined ? {} : { before: query.before }),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
      ...(accountIds === undefined ? {} : { accountIds }),
    };
    return listEvents(this.db, filter);
  }

  /** The accounts the query is narrowed to: undefined for "all" (administrators only). */
  private async visibleAccounts(accountId: number | undefined, viewer: Viewer): Promise<readonly number[] | undefined> {
    if (viewer.role === 'admin') return accountId === undefined ? undefined : [accountId];
    const assigned = await listAgentAccountIds(this.db, viewer.userId);
    if (accountId === undefined) return assigned;
    return assigned.includes(accountId) ? [accountId] : [];
  }
}
