import { integer, jsonb, timestamp, uuid } from 'drizzle-orm/pg-core';
import { uuidv7 } from 'uuidv7';

// Shared column builders so every table spells the record conventions of API.md §1 the same way.
// Timestamps keep milliseconds only: that is what JSON carries, and keyset cursors compare exactly.

export const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });

export const newId = () => uuidv7();

export const idColumn = () => uuid('id').primaryKey().$defaultFn(newId);

/** id, createdAt, updatedAt, version, deletedAt — spread into every record table. */
export const recordColumns = () => ({
  id: idColumn(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  version: integer('version').notNull().default(1),
  deletedAt: ts('deleted_at'),
});

/** ownerId and teamId for records that belong to someone. */
export const ownershipColumns = () => ({
  ownerId: uuid('owner_id'),
  teamId: uuid('team_id'),
});

export const customColumn = () => jsonb('custom').$type<Record<string, unknown>>().notNull().default({});
