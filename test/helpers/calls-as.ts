import type { TestApp, TestUser } from './app.js';

/**
 * Calls through both doors as one user, for tests about what a write does rather than how it is
 * answered: `ok` and `gql` throw on a refusal, so a broken setup step fails loudly where it happens.
 */
export function callsAs(h: TestApp, user: TestUser) {
  async function send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
    return h.request({ method, url, headers: user.auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  }
  async function ok(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
    const res = await send(method, url, payload);
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.statusCode === 204 ? null : res.json();
  }
  async function gql(query: string, variables: Record<string, unknown>) {
    const res = await h.gql(user, query, variables);
    if (res.body.errors?.length) throw new Error(JSON.stringify(res.body.errors));
    return res.body.data as Record<string, unknown>;
  }
  return { send, ok, gql };
}
