import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  GraphQLEnumType, GraphQLObjectType, GraphQLScalarType, type GraphQLSchema, type IntrospectionQuery,
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema, specifiedScalarTypes,
} from 'graphql';
import type { IResolvers } from 'mercurius';
import { createModules } from '../../src/app.js';
import { mergeResolvers, schemaPath } from '../../src/platform/graphql/index.js';
import { startTestApp, testConfig } from '../helpers/app.js';

// schema.graphql is hand-written and the resolvers are code: this file fails whenever they disagree,
// and when the schema the server answers with is not the committed one (API.md: "must never drift").

const sdl = readFileSync(schemaPath, 'utf8');
const schema = buildSchema(sdl);

type LoaderMap = Record<string, Record<string, unknown>>;

const isScalarImpl = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && ['serialize', 'parseValue', 'parseLiteral'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function');

/** A field resolver is a function; a subscription field's is mercurius' `{ subscribe, resolve? }`. */
const isResolver = (s: GraphQLSchema, typeName: string, r: unknown): boolean =>
  typeName === s.getSubscriptionType()?.name
    ? typeof r === 'object' && r !== null && typeof (r as { subscribe?: unknown }).subscribe === 'function'
    : typeof r === 'function';

/** Every way a resolver map (and loader map) and a schema can disagree, one line each; empty when they match. */
function mismatches(s: GraphQLSchema, resolvers: IResolvers, loaders: LoaderMap = {}): string[] {
  const out: string[] = [];
  const map = resolvers as Record<string, unknown>;
  // mercurius turns each loader into the resolver of its field, so a loader must name a real field too
  for (const [typeName, fields] of Object.entries(loaders)) {
    const type = s.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) {
      out.push(`loader for type ${typeName}, which the schema does not define as an object type`);
      continue;
    }
    for (const field of Object.keys(fields)) if (!type.getFields()[field]) out.push(`loader ${typeName}.${field}: the schema has no such field`);
  }
  for (const root of [s.getQueryType(), s.getMutationType(), s.getSubscriptionType()]) {
    if (!root) continue;
    const given = (map[root.name] ?? {}) as Record<string, unknown>;
    for (const field of Object.keys(root.getFields())) {
      if (!isResolver(s, root.name, given[field])) out.push(`${root.name}.${field} has no resolver`);
    }
  }
  for (const [typeName, impl] of Object.entries(map)) {
    const type = s.getType(typeName);
    if (!type) {
      out.push(`resolver for type ${typeName}, which the schema does not define`);
    } else if (type instanceof GraphQLScalarType) {
      if (!isScalarImpl(impl)) out.push(`scalar ${typeName}: implementation lacks serialize, parseValue or parseLiteral`);
    } else if (type instanceof GraphQLObjectType) {
      const fields = type.getFields();
      for (const [field, fn] of Object.entries(impl as Record<string, unknown>)) {
        if (field === 'isTypeOf' || field === '__resolveReference') continue;
        if (!fields[field]) out.push(`resolver ${typeName}.${field}: the schema has no such field`);
        else if (!isResolver(s, typeName, fn)) out.push(`resolver ${typeName}.${field} is not a function`);
      }
    } else if (type instanceof GraphQLEnumType) {
      const values = new Set(type.getValues().map((v) => v.name));
      for (const v of Object.keys(impl as object)) if (!values.has(v)) out.push(`enum ${typeName} has no value ${v}`);
    } else {
      out.push(`resolver for ${typeName}, a ${type.constructor.name}, which takes none`);
    }
  }
  const builtIn = new Set(specifiedScalarTypes.map((x) => x.name));
  for (const type of Object.values(s.getTypeMap())) {
    if (type instanceof GraphQLScalarType && !builtIn.has(type.name) && !isScalarImpl(map[type.name])) {
      out.push(`scalar ${type.name} has no implementation`);
    }
  }
  return out;
}

// The modules exactly as buildApp creates them; their services are never called here, so no database.
const modules = createModules({ config: testConfig(), db: undefined as never, signAccessToken: () => 'unused' });
const resolvers = mergeResolvers(modules.all.map((m) => m.graphql));
const loaders: LoaderMap = {};
for (const m of modules.all) {
  for (const [type, fields] of Object.entries((m.graphql.loaders ?? {}) as LoaderMap)) loaders[type] = { ...loaders[type], ...fields };
}

t.test('every schema field has a resolver and every resolver a schema field', async (t) => {
  t.same(mismatches(schema, resolvers, loaders), []);
  // the resolvers cover what the contract promises for companies, so an empty map cannot pass
  const query = (resolvers as Record<string, Record<string, unknown>>).Query ?? {};
  for (const f of ['company', 'companies', 'companiesCount']) t.type(query[f], 'function', `Query.${f}`);
});

t.test('the check itself catches each kind of disagreement', async (t) => {
  const map = resolvers as Record<string, Record<string, unknown>>;
  const { companiesCount: _dropped, ...queryWithoutOne } = map.Query ?? {};
  const { DateTime: _noScalar, ...withoutDateTime } = map;
  const broken = {
    ...withoutDateTime,
    Query: { ...queryWithoutOne, ghost: () => null },
    Company: { nosuchfield: () => null },
    Nowhere: { x: () => null },
  } as unknown as IResolvers;
  const found = mismatches(schema, broken, { Company: { ghostOwner: () => null }, Ghost: { x: () => null } });
  t.ok(found.includes('Query.companiesCount has no resolver'), 'missing resolver');
  t.ok(found.includes('resolver Query.ghost: the schema has no such field'), 'resolver without a field');
  t.ok(found.includes('resolver Company.nosuchfield: the schema has no such field'), 'nested field');
  t.ok(found.includes('resolver for type Nowhere, which the schema does not define'), 'unknown type');
  t.ok(found.includes('scalar DateTime has no implementation'), 'scalar without implementation');
  t.ok(found.includes('loader Company.ghostOwner: the schema has no such field'), 'loader without a field');
  t.ok(found.includes('loader for type Ghost, which the schema does not define as an object type'), 'loader of an unknown type');
});

t.test('the served schema is schema.graphql', async (t) => {
  const h = await startTestApp();
  t.teardown(() => h.close());
  const res = await h.gql(h.user('viewer'), getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
  t.equal(res.status, 200);
  t.notOk(res.body.errors, 'introspection is allowed outside production');
  const served = buildClientSchema(res.body.data as unknown as IntrospectionQuery);
  t.equal(
    printSchema(lexicographicSortSchema(served)),
    printSchema(lexicographicSortSchema(schema)),
    'introspection answers exactly what schema.graphql declares',
  );

  // The custom scalars the server runs are ours, not graphql-js's pass-through defaults.
  const live = (h.app as unknown as { graphql: { schema: GraphQLSchema } }).graphql.schema;
  const dateTime = live.getType('DateTime') as GraphQLScalarType;
  t.equal(dateTime.serialize(new Date(Date.UTC(2026, 10, 23, 17, 44, 11))), '2026-11-23T17:44:11.000Z');
  const decimal = live.getType('Decimal') as GraphQLScalarType;
  t.throws(() => decimal.parseValue(12.5), 'a JSON number is not a Decimal');
  t.equal(decimal.parseValue('1234.50'), '1234.50');
});
