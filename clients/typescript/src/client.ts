import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './generated/openapi.js';
import { unwrap } from './errors.js';
import { idempotencyMiddleware } from './idempotency.js';
import { type GetPage, type PageArgs, type PageItem, type PagedPath, iterateItems, iteratePages } from './pagination.js';
import { serializeQuery } from './query.js';
import { type RetryOptions, retryingFetch } from './retry.js';

export interface CrmClientOptions {
  /** where the CRM answers, e.g. `http://localhost:3000` (the paths carry `/v1`) */
  baseUrl: string;
  /** an access token from POST /v1/auth/login or an API key (`crm_…`); a function is asked before every request, so a refreshed token is picked up */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** retries of lost connections, 429 and 502–504; `false` turns them off */
  retry?: RetryOptions | false;
  /** another fetch (tests, proxies); default the global one */
  fetch?: typeof fetch;
  /** sent with every request, e.g. `{ 'X-Request-Id': … }` */
  headers?: Record<string, string>;
}

/**
 * The openapi-fetch client typed by openapi.yaml (`GET`, `POST`, `PATCH`, `DELETE`, … answering
 * `{ data, error, response }`), plus the helpers of this package.
 */
export interface CrmClient extends Client<paths> {
  /** every page of a cursor-paged collection (API.md §2) */
  pages<P extends PagedPath>(path: P, ...args: PageArgs<P>): AsyncGenerator<{ data: PageItem<P>[]; nextCursor: string | null }>;
  /** every record of a cursor-paged collection */
  items<P extends PagedPath>(path: P, ...args: PageArgs<P>): AsyncGenerator<PageItem<P>>;
}

function authMiddleware(token: NonNullable<CrmClientOptions['token']>): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === 'function' ? await token() : token;
      if (value) request.headers.set('Authorization', `Bearer ${value}`);
      return request;
    },
  };
}

export function createCrmClient(o: CrmClientOptions): CrmClient {
  const baseFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const client = createClient<paths>({
    baseUrl: o.baseUrl,
    fetch: o.retry === false ? baseFetch : retryingFetch(baseFetch, o.retry),
    querySerializer: serializeQuery,
    ...(o.headers ? { headers: o.headers } : {}),
  });
  if (o.token) client.use(authMiddleware(o.token));
  client.use(idempotencyMiddleware);

  // The iterators go through the typed client; its GET is generic over every path, so here it is
  // called through a plain signature the pagination types have already checked.
  const get = client.GET as unknown as (path: string, init: { params: unknown }) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  const getPage: GetPage = async (path, params) => (await unwrap(get(path, { params }))) as Awaited<ReturnType<GetPage>>;

  return Object.assign(client, {
    pages: <P extends PagedPath>(path: P, ...args: PageArgs<P>) => iteratePages(getPage, path, ...args),
    items: <P extends PagedPath>(path: P, ...args: PageArgs<P>) => iterateItems(getPage, path, ...args),
  });
}
