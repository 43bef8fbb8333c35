import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Config, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/app.js';
import type { Role } from '../../src/platform/auth/actor.js';
import { type TestDatabase, createTestDatabase } from './database.js';
import { testLogStream } from './log-capture.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET, RATE_LIMIT_MAX: '100000', ...env });
}

/**
 * What a test that calls buildApp itself (with a pool of its own, a route added…) passes for
 * `config` and `logStream`: the test configuration, logging into the capture when TEST_LOG_DIR is set.
 */
export function testAppLogging(env: Record<string, string> = {}): { config: Config; logStream?: NodeJS.WritableStream } {
  const { logStream, level } = testLogStream();
  return { config: testConfig(level ? { LOG_LEVEL: level, ...env } : env), ...(logStream ? { logStream } : {}) };
}

export interface TestUser {
  id: string;
  role: Role;
  teamIds: string[];
  token: string;
  /** Authorization header for inject() */
  auth: { authorization: string };
}

export interface TestApp {
  app: FastifyInstance;
  db: TestDatabase;
  config: Config;
  /** a signed access token for a user with this role (ids are random unless given) */
  user(role: Role, o?: { id?: string; teamIds?: string[] }): TestUser;
  /** POST /graphql as `user`; returns status and parsed body */
  gql(user: TestUser | undefined, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: GqlBody }>;
  request(o: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface GqlBody {
  data: Record<string, any> | null;
  errors?: { message: string; extensions: { code: string; status: number; requestId: string; errors?: { path: string; message: string }[]; [k: string]: unknown } }[];
}

export async function startTestApp(o: { env?: Record<string, string>; db?: TestDatabase; startWorkers?: boolean; logStream?: NodeJS.WritableStream } = {}): Promise<TestApp> {
  const db = o.db ?? (await createTestDatabase());
  // TEST_LOG_DIR set (npm run test:logs): the app's log lines also go to the capture the scan reads
  const { logStream, level } = testLogStream(o.logStream);
  const config = testConfig(level ? { LOG_LEVEL: level, ...o.env } : o.env);
  const app = await buildApp({ config, database: db.database, startWorkers: o.startWorkers ?? false, ...(logStream ? { logStream } : {}) });
  await app.ready();
  const user = (role: Role, u: { id?: string; teamIds?: string[] } = {}): TestUser => {
    const id = u.id ?? randomUUID();
    const teamIds = u.teamIds ?? [];
    const token = app.jwt.sign({ sub: id, role, teamIds });
    return { id, role, teamIds, token, auth: { authorization: `Bearer ${token}` } };
  };
  return {
    app,
    db,
    config,
    user,
    request: (opts) => app.inject(opts),
    async gql(u, query, variables) {
      const res = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: u ? u.auth : {},
        payload: { query, variables },
      });
      return { status: res.statusCode, body: res.json() as GqlBody };
    },
    async close() {
      await app.close();
      if (!o.db) await db.close();
    },
  };
}
