import type { paths } from './generated/openapi.js';

// Keyset pagination (API.md §2): each page answers `{ data, nextCursor }` and the next page is asked
// for with `cursor=<nextCursor>`, until nextCursor is null. The types below pick, from the generated
// paths, every GET that takes a `cursor` and answers such a page, so `pages('/v1/contacts', …)` is
// checked against the contract and yields Contact records.

interface Page<T> { data: T[]; nextCursor: string | null }

type GetOf<P extends keyof paths> = paths[P] extends { get: infer G } ? G : never;
type JsonOk<G> = G extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;

/** Paths of the collections that page with a cursor. */
export type PagedPath = {
  [P in keyof paths]: GetOf<P> extends { parameters: { query?: { cursor?: string } } }
    ? JsonOk<GetOf<P>> extends Page<unknown> ? P : never
    : never;
}[keyof paths];

/** The query a paged path takes, without the cursor, which the iterator manages. */
export type PageQuery<P extends PagedPath> = GetOf<P> extends { parameters: { query?: infer Q } } ? Omit<NonNullable<Q>, 'cursor'> : never;
type PathParams<P extends PagedPath> = GetOf<P> extends { parameters: { path: infer X } } ? X : never;

/** Arguments of a paged path: `path` only where the URL has placeholders (`/v1/segments/{id}/contacts`). */
export type PageParams<P extends PagedPath> = [PathParams<P>] extends [never]
  ? { query?: PageQuery<P> }
  : { path: PathParams<P>; query?: PageQuery<P> };

/** The arguments after the path: optional for plain collections, required where the path has placeholders. */
export type PageArgs<P extends PagedPath> = [PathParams<P>] extends [never] ? [params?: PageParams<P>] : [params: PageParams<P>];

export type PageItem<P extends PagedPath> = JsonOk<GetOf<P>> extends Page<infer T> ? T : never;

/** The one call the iterators need: a GET of one page, throwing on errors. */
export type GetPage = (path: string, params: { path?: unknown; query: Record<string, unknown> }) => Promise<Page<unknown>>;

/** Every page of a collection, fetched one at a time as the loop asks for it. */
export async function* iteratePages<P extends PagedPath>(getPage: GetPage, path: P, ...[params]: PageArgs<P>): AsyncGenerator<Page<PageItem<P>>> {
  const { query = {}, ...rest } = (params ?? {}) as { query?: Record<string, unknown>; path?: unknown };
  let cursor: string | null | undefined;
  do {
    const page = (await getPage(path, { ...rest, query: cursor ? { ...query, cursor } : query })) as Page<PageItem<P>>;
    yield page;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Every record of a collection, page after page. */
export async function* iterateItems<P extends PagedPath>(getPage: GetPage, path: P, ...args: PageArgs<P>): AsyncGenerator<PageItem<P>> {
  for await (const page of iteratePages(getPage, path, ...args)) yield* page.data;
}
