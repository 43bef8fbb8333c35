import t, { type Test } from 'tap';
import { type GqlBody, type TestApp, type TestUser, startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { type ResolverCounter, countRootResolverCalls } from '../helpers/resolver-counter.js';

// API.md §5b: queries deeper than 10 levels (fragments counted), with more than 50 root fields or aliases,
// or costing more than GRAPHQL_MAX_COST are refused before any resolver runs; batches are refused;
// introspection and "Did you mean" suggestions are off in production, GraphiQL too.
//
// "Before any resolver runs" is proven by counting calls of the resolvers themselves: every root field
// of Query and Mutation on the schema mercurius executes against is wrapped with a counter. graphql-js
// reaches every other resolver (edges, node, …) only through a root field, and every refused query
// below selects the real root field `companies`, which would call CompanyService (and the database) if
// execution had begun. Each refusal has a control query just under the limit that does move the counter,
// so a counter that never counts cannot make the refusals pass.

function assertRefused(t: Test, res: { status: number; body: GqlBody }, message: RegExp) {
  t.equal(res.status, 400, 'HTTP 400');
  t.equal(res.body.data, null, 'no data');
  t.equal(res.body.errors?.length ? res.body.errors[0]?.extensions.code : undefined, 'validation_failed');
  t.match(res.body.errors?.map((e) => e.message).join('\n'), message);
}

/** POSTs and reports how many resolvers ran for it. */
async function run(h: TestApp, c: ResolverCounter, u: TestUser, query: string) {
  const before = c.calls;
  const res = await h.gql(u, query);
  return { ...res, resolverCalls: c.calls - before };
}

const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');

/**
 * The schema holds companies only (companies → edges → node → address → city is 5 levels), so depth
 * beyond 10 is built from `__type` introspection, which is a real, valid selection the armor rule
 * counts (it exempts only `__schema`). The chain is split across fragments so that no single
 * fragment is deep: only flattening them (fragments counted) reveals the depth.
 * Levels: __type 1, fields 2, type 3, F2's two ofType 4–5, F3's ofTypes 6.., name last.
 */
function deepQuery(depth: number): string {
  const inner = depth - 6; // ofType levels in F3 so that `name` sits at `depth`
  let f3 = 'name';
  for (let i = 0; i < inner; i++) f3 = `ofType { ${f3} }`;
  return `
    query Deep { companies { edges { node { id } } } ...D }
    fragment D on Query { __type(name: "Company") { ...F1 } }
    fragment F1 on __Type { fields { type { ...F2 } } }
    fragment F2 on __Type { ofType { ofType { ...F3 } } }
    fragment F3 on __Type { ${f3} }`;
}

t.test('GraphQL abuse limits', async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.close());
  const dev = await startTestApp({ db });
  t.teardown(() => dev.close());
  const devCalls = countRootResolverCalls(dev.app);
  const admin = dev.user('admin');

  t.test('the control query runs its resolver, so the counter sees execution', async (t) => {
    const res = await run(dev, devCalls, admin, '{ companies { edges { node { id } } } }');
    t.equal(res.status, 200);
    t.ok(Array.isArray(res.body.data?.companies?.edges), 'answered with a connection');
    t.equal(res.resolverCalls, 1);
  });

  t.test('depth over 10 is refused, also when hidden in fragments', async (t) => {
    const ok = await run(dev, devCalls, admin, deepQuery(10));
    t.equal(ok.status, 200, 'depth 10 is allowed');
    t.ok(ok.body.data?.__type?.fields?.length > 0, 'the deep part was answered');
    t.equal(ok.resolverCalls, 1);

    const deep = await run(dev, devCalls, admin, deepQuery(11));
    assertRefused(t, deep, /depth limit of 10 exceeded, found 11/);
    t.equal(deep.resolverCalls, 0, 'no resolver ran');

    // a fragment spread many times does not make the walk lose count either
    const twice = await run(dev, devCalls, admin, deepQuery(11).replace('...D }', '...D ...D }'));
    assertRefused(t, twice, /depth limit/);
    t.equal(twice.resolverCalls, 0);
  });

  t.test('more than 50 root fields are refused, fragments included', async (t) => {
    const ok = await run(dev, devCalls, admin, `{ ${repeat(50, () => 'companiesCount')} }`);
    t.equal(ok.status, 200, '50 root fields are allowed');
    t.type(ok.body.data?.companiesCount, 'number');
    t.ok(ok.resolverCalls > 0);

    const flat = await run(dev, devCalls, admin, `{ companies { edges { cursor } } ${repeat(50, () => 'companiesCount')} }`);
    assertRefused(t, flat, /Too many root fields: 51/);
    t.equal(flat.resolverCalls, 0);

    const hidden = await run(
      dev, devCalls, admin,
      `{ companies { edges { cursor } } ...A ... on Query { ${repeat(20, () => 'companiesCount')} } }
       fragment A on Query { ${repeat(30, () => 'companiesCount')} }`,
    );
    assertRefused(t, hidden, /Too many root fields: 51/);
    t.equal(hidden.resolverCalls, 0);
  });

  t.test('more than 50 aliases are refused, fragments included', async (t) => {
    const ok = await run(dev, devCalls, admin, `{ companies { edges { node { ${repeat(50, (i) => `a${i}: id`)} } } } }`);
    t.equal(ok.status, 200, '50 aliases are allowed');
    t.equal(ok.resolverCalls, 1);

    const many = await run(dev, devCalls, admin, `{ companies { edges { node { ${repeat(51, (i) => `a${i}: id`)} } } } }`);
    assertRefused(t, many, /Aliases limit of 50 exceeded, found 51/);
    t.equal(many.resolverCalls, 0);

    const hidden = await run(
      dev, devCalls, admin,
      `{ c: companies { edges { node { ...N } } } } fragment N on Company { ${repeat(50, (i) => `a${i}: name`)} }`,
    );
    assertRefused(t, hidden, /Aliases limit of 50 exceeded, found 51/);
    t.equal(hidden.resolverCalls, 0);
  });

  t.test('a batched request (JSON array body) is refused', async (t) => {
    const before = devCalls.calls;
    const res = await dev.request({
      method: 'POST',
      url: '/graphql',
      headers: admin.auth,
      payload: [{ query: '{ companies { edges { cursor } } }' }, { query: '{ companiesCount }' }] as never,
    });
    t.equal(res.statusCode, 400);
    const body = res.json() as GqlBody;
    t.equal(body.errors?.[0]?.extensions.code, 'validation_failed');
    t.equal(devCalls.calls, before, 'no resolver ran');
  });

  t.test('introspection, suggestions and GraphiQL are available outside production', async (t) => {
    const intro = await run(dev, devCalls, admin, '{ __schema { queryType { name } } }');
    t.equal(intro.status, 200);
    t.equal(intro.body.data?.__schema?.queryType?.name, 'Query');

    const typo = await run(dev, devCalls, admin, '{ compani }');
    assertRefused(t, typo, /Did you mean "company"/);

    const ide = await dev.request({ method: 'GET', url: '/graphiql' });
    t.equal(ide.statusCode, 200);
    t.match(String(ide.headers['content-type']), /text\/html/);
    // the page and its scripts come from this server, not a CDN (test/browser/graphiql.test.ts runs it)
    t.notMatch(ide.body, /https?:\/\//);
    const script = await dev.request({ method: 'GET', url: '/graphiql/assets/graphiql.js' });
    t.equal(script.statusCode, 200);
    t.match(String(script.headers['content-type']), /javascript/);
    t.equal((await dev.request({ method: 'GET', url: '/graphiql/assets/secrets.js' })).statusCode, 404);
  });

  t.test('cost over GRAPHQL_MAX_COST is refused', async (t) => {
    const cheap = await startTestApp({ db, env: { GRAPHQL_MAX_COST: '100' } });
    t.teardown(() => cheap.close());
    const calls = countRootResolverCalls(cheap.app);
    const u = cheap.user('admin');
    // graphql-armor's cost: `first: N` multiplies the cost of the selection, here 16.25 per item
    const query = (n: number) => `{ companies(first: ${n}) { edges { node { id name } } } }`;

    const small = await run(cheap, calls, u, query(1));
    t.equal(small.status, 200, 'a cheap query passes');
    t.equal(small.resolverCalls, 1);

    const costly = await run(cheap, calls, u, query(50));
    assertRefused(t, costly, /Cost limit of 100 exceeded/);
    t.equal(costly.resolverCalls, 0, 'no resolver ran');

    // fragments do not hide cost
    const viaFragment = await run(cheap, calls, u, `{ companies(first: 50) { ...E } } fragment E on CompanyConnection { edges { node { id name } } }`);
    assertRefused(t, viaFragment, /Cost limit of 100 exceeded/);
    t.equal(viaFragment.resolverCalls, 0);

    // the limit is the configured one: the default (5000) lets the same query through
    const same = await run(dev, devCalls, admin, query(50));
    t.equal(same.status, 200);
    t.equal(same.resolverCalls, 1);
  });

  t.test('production: no introspection, no suggestions, no GraphiQL', async (t) => {
    // the overload guard is off: this test is about GraphQL in production, not about a loaded CI machine
    const prod = await startTestApp({ db, env: { NODE_ENV: 'production', MAX_EVENT_LOOP_DELAY_MS: '0' } });
    t.teardown(() => prod.close());
    t.equal(prod.config.env, 'production');
    const calls = countRootResolverCalls(prod.app);
    const u = prod.user('admin');

    const control = await run(prod, calls, u, '{ companies { edges { cursor } } }');
    t.equal(control.status, 200);
    t.equal(control.resolverCalls, 1);

    const schemaQ = await run(prod, calls, u, '{ companies { edges { cursor } } __schema { types { name } } }');
    assertRefused(t, schemaQ, /introspection/i);
    t.equal(schemaQ.resolverCalls, 0);

    const typeQ = await run(prod, calls, u, '{ companies { edges { cursor } } __type(name: "Company") { name } }');
    assertRefused(t, typeQ, /introspection/i);
    t.equal(typeQ.resolverCalls, 0);

    const typo = await run(prod, calls, u, '{ companies { edges { cursor } } compani }');
    assertRefused(t, typo, /Cannot query field "compani"/);
    for (const e of typo.body.errors ?? []) t.notMatch(e.message, /Did you mean/, 'no suggestion');
    t.equal(typo.resolverCalls, 0);

    const badArg = await run(prod, calls, u, '{ companies(frist: 1) { edges { cursor } } }');
    assertRefused(t, badArg, /Unknown argument "frist"/);
    for (const e of badArg.body.errors ?? []) t.notMatch(e.message, /Did you mean/, 'no suggestion');

    // the limits hold in production as well
    const aliases = await run(prod, calls, u, `{ companies { edges { node { ${repeat(51, (i) => `a${i}: id`)} } } } }`);
    assertRefused(t, aliases, /Aliases limit of 50 exceeded/);
    t.equal(aliases.resolverCalls, 0);

    const ide = await prod.request({ method: 'GET', url: '/graphiql' });
    t.equal(ide.statusCode, 404);
    t.equal((await prod.request({ method: 'GET', url: '/graphiql/assets/graphiql.js' })).statusCode, 404);
  });
});
