import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Config, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/app.js';
import type { Role } from '../../src/platform/auth/actor.js';
import { type TestDatabase, createTestDatabase } from './database.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-0123456789';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET, RATE_LIMIT_MAX: '100000', ...env });
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

// TEST_LOG_DIR set (npm run test:logs): every test app logs at info into <dir>/<pid>.log, so a
// scan of a whole suite's logs can prove no credential or personal data is ever written there.
let capturedLog: NodeJS.WritableStream | undefined;
function captureLog(): NodeJS.WritableStream | undefined {
  const dir = process.env.TEST_LOG_DIR;
  if (!dir) return undefined;
  if (!capturedLog) {
    mkdirSync(dir, { recursive: true });
    capturedLog = createWriteStream(join(dir, `${process.pid}.log`), { flags: 'a' });
  }
  return capturedLog;
}

export async function startTestApp(o: { env?: Record<string, string>; db?: TestDatabase; startWorkers?: boolean; logStream?: NodeJS.WritableStream } = {}): Promise<TestApp> {
  const db = o.db ?? (await createTestDatabase());
  const captured = o.logStream ? undefined : captureLog();
  const config = testConfig(captured ? { LOG_LEVEL: 'info', ...o.env } : o.env);
  const logStream = o.logStream ?? captured;
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
