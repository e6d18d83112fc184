/**
 * Contact lists, contacts and their addresses. An address belongs to one contact only, whatever
 * its case: it is stored lower-case under a global unique index.
 */
import { addCaseInsensitiveUnique, addIndex, dropTables, reference, required } from './columns.js';
import type { PosternMigration } from './migration.js';

export const contactsMigration: PosternMigration = {
  name: '0003-contacts',
  async up(db, kit) {
    await db.schema
      .createTable('lists')
      .addColumn('id', 'integer', kit.id)
      .addColumn('name', 'text', required)
      .addColumn('description', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addCaseInsensitiveUnique(db, 'lists', 'name');

    await db.schema
      .createTable('contacts')
      .addColumn('id', 'integer', kit.id)
      .addColumn('list_id', 'integer', reference('lists', 'restrict'))
      .addColumn('name', 'text', required)
      .addColumn('notes', 'text')
      .addColumn('created_at', 'text', required)
      .addColumn('updated_at', 'text', required)
      .execute();
    await addIndex(db, 'contacts', ['list_id', 'name']);

    await db.schema
      .createTable('contact_addresses')
      .addColumn('id', 'integer', kit.id)
      .addColumn('contact_id', 'integer', reference('contacts', 'cascade'))
      .addColumn('address', 'text', required)
      .addColumn('position', 'integer', (column) => column.notNull().defaultTo(0))
      .addColumn('created_at', 'text', required)
      .execute();
    await addIndex(db, 'contact_addresses', ['address'], { unique: true });
    await addIndex(db, 'contact_addresses', ['contact_id', 'position']);
  },
  async down(db) {
    await dropTables(db, ['contact_addresses', 'contacts', 'lists']);
  },
};
