/**
 * The shape of one Postern migration. Migrations are plain modules listed in order in `index.ts`
 * (no directory scanning), so they run the same from `src/` under vitest and from `dist/` after
 * `tsc`. A published migration is never edited: later changes are new migrations.
 */
import type { Kysely } from 'kysely';
import type { ColumnKit } from './columns.js';

/** One step of the schema's history. */
export interface PosternMigration {
  /** Sorts in history order: `0001-identity`, `0002-providers`, … */
  readonly name: string;
  up(db: Kysely<unknown>, kit: ColumnKit): Promise<void>;
  down(db: Kysely<unknown>, kit: ColumnKit): Promise<void>;
}
