import t from 'tap';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { toProblem } from '../../src/platform/errors/problem.js';
import { AppError } from '../../src/platform/errors/app-error.js';
import { type ErrorCode, errorCodes, typeOf } from '../../src/platform/errors/codes.js';
import { drizzle } from 'drizzle-orm/node-postgres';
import { type Executor, connectPostgres, openPglite } from '../../src/platform/db/client.js';

// Every failure becomes an RFC 9457 problem with one status per code (API.md §1, §5b). Database
// errors are translated by what the client did (duplicate → 409, dangling reference → 422) or by
// whether the database is there at all (503 + Retry-After); anything else is a 500 that says nothing.

const RID = 'req-123';

async function scratchDatabase(): Promise<{ db: Executor; close: () => Promise<void> }> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return { db: drizzle({ client }) as unknown as Executor, close: () => client.end() };
  }
  const database = await openPglite(undefined);
  return { db: database.db, close: () => database.close() };
}

/** A node-postgres error as the driver raises it, wrapped by drizzle as it reaches our code. */
function pgError(fields: { code: string; detail?: string; column?: string; constraint?: string }, message = 'db said no') {
  const e = new pg.DatabaseError(message, message.length, 'error');
  Object.assign(e, fields);
  return new DrizzleQueryError('INSERT INTO secret_table VALUES ($1)', ['top secret param'], e);
}

t.test('every AppError code answers with its one status, title and type', async (t) => {
  // the statuses API.md §5b promises
  const promised: Partial<Record<ErrorCode, number>> = {
    validation_failed: 400, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409,
    insufficient_points: 409, version_conflict: 412, payload_too_large: 413, unsupported_media_type: 415,
    idempotency_key_reused: 422, rate_limited: 429, service_unavailable: 503,
  };
  for (const code of Object.keys(errorCodes) as ErrorCode[]) {
    const { problem, unexpected } = toProblem(new AppError(code, `detail of ${code}`), RID);
    t.equal(problem.status, errorCodes[code].status, code);
    if (promised[code]) t.equal(problem.status, promised[code], `${code} as API.md says`);
    t.equal(problem.code, code);
    t.equal(problem.title, errorCodes[code].title);
    t.equal(problem.type, typeOf(code));
    t.equal(problem.detail, `detail of ${code}`);
    t.equal(problem.requestId, RID);
    t.notOk(unexpected, `${code} is a known failure`);
  }
});

t.test('validation_failed always carries errors[]; others only when they have some', async (t) => {
  t.same(toProblem(new AppError('validation_failed'), RID).problem.errors, []);
  const listed = toProblem(new AppError('validation_failed', 'bad', { errors: [{ path: 'custom.tier', message: 'x' }] }), RID);
  t.same(listed.problem.errors, [{ path: 'custom.tier', message: 'x' }]);
  t.notOk('errors' in toProblem(new AppError('not_found'), RID).problem);
});

t.test('extensions and headers of an AppError reach the problem', async (t) => {
  const r = toProblem(new AppError('version_conflict', 'stale', { extensions: { current: { id: 'c1', version: 3 } } }), RID);
  t.same(r.problem.current, { id: 'c1', version: 3 });
  t.same(toProblem(new AppError('rate_limited'), RID).headers, { 'retry-after': '5' }, '429 always has Retry-After');
  t.same(toProblem(new AppError('rate_limited', 'slow', { headers: { 'retry-after': '30' } }), RID).headers, { 'retry-after': '30' });
});

t.test('a unique violation is a 409 conflict naming the fields in camelCase', async (t) => {
  const r = toProblem(pgError({ code: '23505', detail: 'Key (team_id, external_id)=(1, x) already exists.' }), RID);
  t.equal(r.problem.status, 409);
  t.equal(r.problem.code, 'conflict');
  t.same(r.problem.errors?.map((e) => e.path), ['teamId', 'externalId']);
  t.notOk(r.unexpected);
  // expression indexes: the column inside lower(...) is the field
  const lower = toProblem(pgError({ code: '23505', detail: 'Key (lower(email_address))=(a@b.co) already exists.' }), RID);
  t.same(lower.problem.errors?.map((e) => e.path), ['emailAddress']);
  t.notMatch(JSON.stringify(r.problem), /secret/, 'neither the SQL nor its parameters leak');
});

t.test('a foreign key violation is 422 invalid_reference, or 409 while the row is still referenced', async (t) => {
  const missing = toProblem(pgError({ code: '23503', detail: 'Key (owner_id)=(42) is not present in table "users".' }), RID);
  t.equal(missing.problem.status, 422);
  t.equal(missing.problem.code, 'invalid_reference');
  t.same(missing.problem.errors, [{ path: 'ownerId', message: 'does not reference an existing record' }]);

  const referenced = toProblem(pgError({ code: '23503', detail: 'Key (id)=(1) is still referenced from table "deals".' }), RID);
  t.equal(referenced.problem.status, 409);
  t.equal(referenced.problem.code, 'conflict');
});

t.test('other constraint errors are the client\'s: 400 validation_failed', async (t) => {
  const notNull = toProblem(pgError({ code: '23502', column: 'first_name' }), RID);
  t.equal(notNull.problem.status, 400);
  t.same(notNull.problem.errors, [{ path: 'firstName', message: 'is required' }]);
  for (const code of ['23514', '22001', '22003', '22P02']) {
    t.equal(toProblem(pgError({ code }), RID).problem.code, 'validation_failed', code);
  }
});

t.test('the database being away is 503 with Retry-After, not a 500', async (t) => {
  const causes: [string, unknown][] = [
    ['ECONNREFUSED', new DrizzleQueryError('select 1', [], Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))],
    // node tries IPv4 and IPv6 and reports both refusals in one AggregateError
    ['AggregateError', new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })], '')],
    ['admin shutdown', pgError({ code: '57P01' })],
    ['statement timeout', pgError({ code: '57014' })],
    ['connection exception class 08', pgError({ code: '08006' })],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
    ['connection terminated', new Error('Connection terminated unexpectedly')],
  ];
  for (const [name, err] of causes) {
    const r = toProblem(err, RID);
    t.equal(r.problem.status, 503, name);
    t.equal(r.problem.code, 'service_unavailable', name);
    t.ok(Number(r.headers['retry-after']) > 0, `${name}: Retry-After is a number of seconds`);
    t.notOk(r.unexpected, `${name}: an outage is not a bug`);
    t.notMatch(r.problem.detail, /select|127\.0\.0\.1|secret/i, `${name}: no internals`);
  }
});

t.test('a real refused connection (nothing listens on 127.0.0.1:1) becomes 503', async (t) => {
  const db = connectPostgres({ url: 'postgres://nobody@127.0.0.1:1/none', poolMax: 1, statementTimeoutMs: 1000 });
  t.teardown(() => db.close());
  const err = await db.db.execute(sql`SELECT 1`).then(() => undefined, (e: unknown) => e);
  t.ok(err, 'the query failed');
  const r = toProblem(err, RID);
  t.equal(r.problem.status, 503);
  t.ok(r.headers['retry-after']);
});

t.test('an unknown error is a 500 whose body says nothing about it', async (t) => {
  for (const err of [
    new TypeError("Cannot read properties of undefined (reading 'password_hash')"),
    pgError({ code: '42P01' }, 'relation "secret_table" does not exist'),
    'a thrown string',
    undefined,
    null,
  ]) {
    const r = toProblem(err, RID);
    t.equal(r.problem.status, 500);
    t.equal(r.problem.code, 'internal_error');
    t.ok(r.unexpected, 'flagged for the error log');
    t.match(r.problem.detail, /quote the requestId/);
    t.notMatch(JSON.stringify(r.problem), /password|secret|relation|thrown string/, 'the message does not leak');
    t.notOk('errors' in r.problem);
    t.same(r.headers, {});
  }
});

t.test('the errors a real database raises map the same way', async (t) => {
  // The detail texts parsed above, as PostgreSQL really writes them: on the test server through
  // node-postgres when there is one (temporary tables, one session, nothing left behind), else PGlite.
  const { db, close } = await scratchDatabase();
  t.teardown(close);
  await db.execute(sql`CREATE TEMP TABLE parent (id int PRIMARY KEY, team_id int, external_id text, UNIQUE (team_id, external_id))`);
  await db.execute(sql`CREATE TEMP TABLE child (id int, parent_id int REFERENCES parent (id), first_name text NOT NULL)`);
  await db.execute(sql`INSERT INTO parent VALUES (1, 7, 'x')`);
  await db.execute(sql`INSERT INTO child VALUES (1, 1, 'Ann')`);
  const fail = (q: ReturnType<typeof sql>) =>
    db.execute(q).then(
      () => {
        t.fail('expected an error');
        return undefined;
      },
      (e: unknown) => toProblem(e, RID).problem,
    );

  const dup = await fail(sql`INSERT INTO parent VALUES (2, 7, 'x')`);
  t.equal(dup?.status, 409);
  t.same(dup?.errors?.map((e) => e.path), ['teamId', 'externalId']);

  const dangling = await fail(sql`INSERT INTO child VALUES (2, 99, 'Bo')`);
  t.equal(dangling?.code, 'invalid_reference');
  t.same(dangling?.errors?.map((e) => e.path), ['parentId']);

  const referenced = await fail(sql`DELETE FROM parent WHERE id = 1`);
  t.equal(referenced?.status, 409);
  t.equal(referenced?.code, 'conflict');

  const missing = await fail(sql`INSERT INTO child VALUES (3, 1, NULL)`);
  t.equal(missing?.status, 400);
  t.same(missing?.errors, [{ path: 'firstName', message: 'is required' }]);

  const broken = await fail(sql`SELECT * FROM no_such_table`);
  t.equal(broken?.status, 500, 'our own SQL mistake is not the client\'s fault');
  t.notMatch(broken?.detail ?? '', /no_such_table/);
});
