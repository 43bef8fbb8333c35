import type { TestApp } from './app.js';
import { startTestApp } from './app.js';

// A test app listening on a real port of 127.0.0.1, for clients that cannot use inject(): browsers.

export interface LiveApp extends TestApp {
  /** e.g. http://127.0.0.1:43121 */
  baseUrl: string;
  /** a real user with a password, created through POST /v1/users as an admin */
  createLogin(role: string, email: string, password: string): Promise<{ id: string; email: string; password: string }>;
}

export async function startLiveApp(o: { env?: Record<string, string> } = {}): Promise<LiveApp> {
  const h = await startTestApp(o.env ? { env: o.env } : {});
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as { port: number };
  const admin = h.user('admin');
  return {
    ...h,
    baseUrl: `http://127.0.0.1:${port}`,
    async createLogin(role, email, password) {
      const res = await h.request({ method: 'POST', url: '/v1/users', headers: admin.auth, payload: { email, password, name: `${role} user`, role, teamIds: [] } });
      if (res.statusCode !== 201) throw new Error(`creating ${email}: ${res.statusCode} ${res.body}`);
      return { id: res.json().id as string, email, password };
    },
  };
}
