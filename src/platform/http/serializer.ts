import { z } from 'zod';
import fastJson from 'fast-json-stringify';

// Responses are serialised by fast-json-stringify from the same zod schemas that document them,
// instead of re-validating every response with zod (DESIGN.md: that costs on large pages).
// `required` is dropped so sparse fieldsets (`fields=`) can leave fields out; properties not in
// the schema are still never written, so nothing undocumented leaks.

type Json = Record<string, unknown>;

function relax(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relax);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    // the names under `properties` are fields, not keywords: a field called `required` must stay
    if (k === 'properties' && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([name, sub]) => [name, relax(sub)]));
      continue;
    }
    if (k === 'required' || k === 'pattern' || k === '$schema' || k === 'propertyNames') continue;
    out[k] = relax(v);
  }
  return out;
}

/**
 * `X | null` comes out of zod as `anyOf: [X, {type: 'null'}]`, and fast-json-stringify picks an anyOf
 * branch by *validating* the value against each option with ajv: a uuid regexp or a date-time parse
 * per nullable field, a whole ajv pass over an address or an embedded company — 10 such fields per
 * contact, 500 per list page, the largest part of a page's serialisation. When X has one `type` (after
 * following a `$ref` into `definitions`), the same output comes from `type: [X's type, 'null']`,
 * which fast-json-stringify tells apart with `=== null`. Other unions keep their anyOf.
 */
function nullableAsTypeList(node: unknown, definitions: Json): unknown {
  if (Array.isArray(node)) return node.map((n) => nullableAsTypeList(n, definitions));
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    out[k] = k === 'properties' && v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v as Json).map(([name, sub]) => [name, nullableAsTypeList(sub, definitions)]))
      : nullableAsTypeList(v, definitions);
  }
  const options = out.anyOf;
  if (!Array.isArray(options) || options.length !== 2) return out;
  const nullAt = options.findIndex((o) => (o as Json).type === 'null' && Object.keys(o as Json).length === 1);
  if (nullAt < 0) return out;
  let other = options[1 - nullAt] as Json;
  const ref = typeof other.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(other.$ref)?.[1] : undefined;
  if (ref !== undefined) {
    const target = definitions[ref] as Json | undefined;
    if (!target || Object.keys(other).length !== 1) return out;
    other = target;
  }
  if (typeof other.type !== 'string' || other.type === 'null' || 'anyOf' in other || 'oneOf' in other || 'allOf' in other || '$ref' in other) return out;
  const { anyOf: _anyOf, ...siblings } = out;
  return { ...other, ...siblings, type: [other.type, 'null'] };
}

export function toSerializableJsonSchema(schema: z.ZodType): Json {
  const relaxed = relax(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any', target: 'draft-7' })) as Json;
  // twice: the second pass rewrites the nullable fields inside the definitions the first one inlined
  const once = nullableAsTypeList(relaxed, (relaxed.definitions ?? {}) as Json) as Json;
  return nullableAsTypeList(once, (once.definitions ?? {}) as Json) as Json;
}

// Fastify asks for a serializer per route and status code: ~800 requests for ~80 distinct schemas
// (one entity schema answers its GET, PATCH, POST, restore, …). Compiling each schema once cut
// buildApp from ~1.4 s to ~0.45 s; serializers are pure functions of their schema, so sharing is safe.
// They are compiled on a route's first reply, not at start: a process (each test file, each CLI
// command, each cluster worker) pays only for the routes it answers.
const compiled = new WeakMap<z.ZodType, (data: unknown) => string>();

function compile(schema: z.ZodType): (data: unknown) => string {
  let serialize = compiled.get(schema);
  if (!serialize) {
    serialize = fastJson(toSerializableJsonSchema(schema) as never) as (d: unknown) => string;
    compiled.set(schema, serialize);
  }
  return serialize;
}

/** A Fastify serializerCompiler: zod schema → fast-json-stringify function (one per schema, built on first use). */
export function zodFastSerializerCompiler({ schema }: { schema: unknown }): (data: unknown) => string {
  if (!(schema instanceof z.ZodType)) return (data) => JSON.stringify(data);
  const ready = compiled.get(schema);
  if (ready) return ready;
  let serialize: ((data: unknown) => string) | undefined;
  return (data) => (serialize ??= compile(schema))(data);
}
