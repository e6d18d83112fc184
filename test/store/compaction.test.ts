/**
 * Compacting the store (`postern vacuum`'s work) on both engines: SQLite refuses when the disk
 * cannot hold the rewrite and changes nothing; with room it keeps every row; PostgreSQL runs a
 * plain VACUUM and says its size.
 */
import { describe, expect, it } from 'vitest';
import { compactDatabase, createList, listLists, type Database } from '../../src/store/index.js';
import { forEachEngine } from '../helpers/store.js';

forEachEngine((engine, openFresh) => {
  describe('compactDatabase', () => {
    it('keeps every row and reports the sizes', async () => {
      const db = await openFresh();
      await createList(db, { name: 'Kept through the rewrite' });
      const done = await compactDatabase(db, sqliteFileOf(db));
      expect(done.engine).toBe(engine);
      expect(done.bytesBefore).toBeGreaterThan(0);
      expect(done.bytesAfter).toBeGreaterThan(0);
      expect(done.converted).toBe(false);
      expect((await listLists(db, {})).items.map((list) => list.name)).toContain('Kept through the rewrite');
    });

    if (engine === 'sqlite') {
      it('refuses when the disk has less free space than the file needs, naming both sizes', async () => {
        const db = await openFresh();
        const error = await compactDatabase(db, { ...sqliteFileOf(db), freeBytes: () => 1024 }).then(
          () => undefined,
          (caught: unknown) => caught as { code?: string; message?: string },
        );
        expect(error?.code).toBe('STORE_VACUUM_REFUSED');
        expect(error?.message).toMatch(/needs about [\d.]+ MB free on its disk; 0\.0 MB is free\./);
      });
    }
  });
});

function sqliteFileOf(db: Database): { sqliteFile?: string } {
  const file = (db as Database & { sqliteFile?: string }).sqliteFile;
  return file === undefined ? {} : { sqliteFile: file };
}
