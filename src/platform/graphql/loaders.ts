import type { IResolvers, MercuriusLoaders } from 'mercurius';

// The modules' GraphQL loaders (`Type.field: (queries, ctx) => results`, one call for every parent
// object of a level: no N+1) run as plain field resolvers that batch per request and per tick.
//
// Mercurius's own `loaders` option did the same batching, but keyed every query by a stable JSON
// string of its whole parent object (safe-stable-stringify of a contact DTO and its params, then a
// lookup by that string) so as to cache answers for the rest of the request: for `contact(id) {
// company { … } }` that keying cost more than the loader itself, and a list paid it once a row. The
// cache bought nothing here: a parent object is asked for a field once per selection, and a later
// level's parents are other objects. Each loader maps its queries one to one and reads each id once
// (a Set of ids), so a parent listed twice in a batch costs nothing more.

type Query = { obj: unknown; params: unknown };
type LoaderFn = (queries: Query[], ctx: unknown) => Promise<unknown[]>;

interface Batch {
  queries: Query[];
  settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[];
}

/** `loaders` as resolvers for mercurius's `resolvers` option (a loader wins over a resolver of the same field). */
export function loaderResolvers(loaders: MercuriusLoaders): IResolvers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [type, fields] of Object.entries(loaders)) {
    for (const [field, entry] of Object.entries(fields as Record<string, unknown>)) {
      const load = (typeof entry === 'function' ? entry : (entry as { loader: LoaderFn }).loader) as LoaderFn;
      (out[type] ??= {})[field] = batchedResolver(load, `${type}.${field}`);
    }
  }
  return out as IResolvers;
}

function batchedResolver(load: LoaderFn, name: string) {
  // one open batch per request context (a subscription's context serves each of its events in turn)
  const open = new WeakMap<object, Batch>();
  const run = (ctx: object, batch: Batch) => {
    open.delete(ctx);
    let loaded: Promise<unknown[]>;
    try {
      loaded = load(batch.queries, ctx);
    } catch (e) {
      loaded = Promise.reject(e);
    }
    loaded.then((results) => {
      if (!Array.isArray(results) || results.length !== batch.queries.length) {
        throw new Error(`loader ${name} answered ${Array.isArray(results) ? results.length : 'no array'} for ${batch.queries.length} queries`);
      }
      batch.settle.forEach((s, i) => s.resolve(results[i]));
    }).catch((e: unknown) => { for (const s of batch.settle) s.reject(e); });
  };
  return (obj: unknown, params: unknown, ctx: object) => new Promise((resolve, reject) => {
    let batch = open.get(ctx);
    if (!batch) {
      open.set(ctx, (batch = { queries: [], settle: [] }));
      const scheduled = batch;
      // after every resolver of this level has run: the promise jobs of one level drain before a tick
      process.nextTick(() => run(ctx, scheduled));
    }
    batch.queries.push({ obj, params });
    batch.settle.push({ resolve, reject });
  });
}
