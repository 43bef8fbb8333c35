import { Pool } from 'undici';

// Real HTTP to a listening app, for tests about concurrency: inject() runs requests one at a time
// through the router and never opens a socket, so it cannot show what many connections at once do.

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  text: string;
  json<T = any>(): T;
}

export interface HttpClient {
  request(method: string, path: string, o?: { headers?: Record<string, string>; body?: unknown }): Promise<HttpReply>;
  close(): Promise<void>;
}

/** A pool of `connections` keep-alive connections to `origin`; requests beyond that queue in the pool. */
export function httpClient(origin: string, connections: number): HttpClient {
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  return {
    async request(method, path, o = {}) {
      const res = await pool.request({
        method: method as 'GET',
        path,
        headers: { ...(o.body === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers },
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
      });
      const text = await res.body.text();
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers, text, json: () => JSON.parse(text) };
    },
    close: () => pool.close(),
  };
}
