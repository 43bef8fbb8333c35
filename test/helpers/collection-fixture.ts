import type { Test } from 'tap';
import type { SQL } from 'drizzle-orm';
import { PgDialect, boolean, date, integer, numeric, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { CollectionSpec, FieldSpec } from '../../src/platform/http/collection.js';
import { AppError } from '../../src/platform/errors/app-error.js';

// The fixture of the collection grammar's unit tests (collection*.test.ts): a collection over a table
// with a column of every field type, drizzle's own Postgres dialect to render the SQL, and `refused`.

const dialect = new PgDialect();
export const render = (s: SQL | undefined) => {
  if (!s) throw new Error('expected SQL, got undefined');
  return dialect.sqlToQuery(s);
};

// A table with one column of every field type, so every branch of the grammar has something to read.
const things = pgTable('things', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  nickname: text('nickname'),
  size: integer('size'),
  price: numeric('price'),
  active: boolean('active'),
  seenAt: timestamp('seen_at', { withTimezone: true }),
  birthday: date('birthday'),
  ownerId: uuid('owner_id'),
  stage: text('stage'),
  tags: text('tags').array().notNull(),
  secret: text('secret'),
});

const idField: FieldSpec = { expr: things.id, type: 'uuid', nullable: false, sortable: true };
export const spec: CollectionSpec = {
  id: idField,
  defaultSort: '-seenAt',
  fields: {
    id: idField,
    name: { expr: things.name, type: 'string', nullable: false, sortable: true },
    nickname: { expr: things.nickname, type: 'string', nullable: true, sortable: true },
    size: { expr: things.size, type: 'integer', nullable: true, sortable: true },
    price: { expr: things.price, type: 'decimal', nullable: true, sortable: true },
    score: { expr: things.price, type: 'number', nullable: true, sortable: true },
    active: { expr: things.active, type: 'boolean', nullable: true },
    seenAt: { expr: things.seenAt, type: 'datetime', nullable: false, sortable: true },
    birthday: { expr: things.birthday, type: 'date', nullable: true, sortable: true },
    ownerId: { expr: things.ownerId, type: 'uuid', nullable: true },
    stage: { expr: things.stage, type: 'enum', nullable: true, values: ['open', 'won', 'lost'] },
    tags: { expr: things.tags, type: 'tags', nullable: false },
    secret: { expr: things.secret, type: 'string', nullable: true, filterable: false },
  },
  // custom.<key> fields are looked up at run time (custom-field definitions), not declared statically
  dynamicField: (name) =>
    name === 'custom.tier' ? { expr: things.nickname, type: 'string', nullable: true, sortable: true } : undefined,
};

export const U1 = '0190a1b2-0000-7000-8000-000000000001';
export const U2 = '0190a1b2-0000-7000-8000-000000000002';

/** Runs `fn`, expecting validation_failed; returns the field errors. */
export function refused(t: Test, fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    t.type(e, AppError);
    t.equal((e as AppError).code, 'validation_failed');
    t.equal((e as AppError).status, 400);
    return (e as AppError).errors ?? [];
  }
  t.fail('expected validation_failed');
  return [];
}
