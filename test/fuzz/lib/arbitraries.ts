import fc from 'fast-check';
import type { JsonSchema } from './openapi-operations.js';
import { IdPool } from './id-pool.js';

// JSON Schema (the subset openapi.yaml uses: objects, arrays, anyOf, enum/const, string formats and
// patterns, bounded numbers) → fast-check arbitraries. `validValue` stays inside the schema;
// `invalidValue` breaks it in one of the ways clients do: wrong types, unknown or missing fields,
// out-of-range values, malformed JSON. Strings include control characters, NUL and lone surrogates.

export interface GenContext {
  resolve(s: JsonSchema): JsonSchema;
  ids: IdPool;
}

const MAX_DEPTH = 5;
const anyJson = fc.jsonValue({ maxDepth: 2 });

/** Text that is awkward for a server: NUL, control characters, surrogates, RTL, emoji, SQL and filter syntax. */
const awkwardText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', "'; DROP TABLE contacts; --", '%', '_', '\\', 'محمد', '𝔘𝔫𝔦', ' ', '..', '[]', '{}', 'null'),
);

function stringArbitrary(s: JsonSchema, ctx: GenContext, name: string | undefined): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 60, 60);
  const pattern = typeof s.pattern === 'string' ? new RegExp(s.pattern) : undefined;
  const fits = (x: string) => x.length >= (s.minLength ?? 0) && x.length <= (s.maxLength ?? Infinity) && (!pattern || pattern.test(x));
  switch (s.format) {
    case 'uuid': {
      const collection = name ? IdPool.collectionOf(name) : undefined;
      return fc.oneof({ weight: 4, arbitrary: fc.nat().map((n) => ctx.ids.pick(collection, n)) }, { weight: 1, arbitrary: fc.uuid({ version: 7 }) });
    }
    case 'date-time':
      return fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'date':
      return fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress().filter(fits);
    case 'uri':
      return fc.webUrl().filter(fits);
  }
  if (pattern) {
    try {
      return fc.stringMatching(pattern).filter(fits);
    } catch {
      // fast-check cannot build strings from lookarounds (the domain pattern): draw likely candidates and keep those that match
      return fc.oneof(fc.domain(), fc.emailAddress(), fc.string({ maxLength: 20 })).filter(fits);
    }
  }
  return fc.oneof(awkwardText, fc.string({ minLength: min, maxLength: max })).filter(fits);
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  let min = typeof s.minimum === 'number' ? s.minimum : -1e9;
  const max = typeof s.maximum === 'number' ? s.maximum : 1e9;
  if (typeof s.exclusiveMinimum === 'number') min = integer ? s.exclusiveMinimum + 1 : s.exclusiveMinimum + 1e-6;
  const lo = Math.max(min, -1e12);
  const hi = Math.min(max, 1e12);
  if (integer) return fc.oneof(fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }), fc.constantFrom(Math.ceil(lo), Math.floor(hi)));
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

export function validValue(schema: JsonSchema, ctx: GenContext, name?: string, depth = 0): fc.Arbitrary<unknown> {
  const s = ctx.resolve(schema);
  if ('const' in s) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  const alternatives = s.anyOf ?? s.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((a: JsonSchema) => validValue(a, ctx, name, depth + 1)));
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((t: string) => validValue({ ...s, type: t }, ctx, name, depth + 1)));
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return numberArbitrary(s, true);
    case 'number':
      return numberArbitrary(s, false);
    case 'string':
      return stringArbitrary(s, ctx, name);
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 3, depth >= MAX_DEPTH ? minLength : 3));
      return fc.array(validValue(s.items ?? {}, ctx, name, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(s, ctx, depth);
  }
  return depth >= MAX_DEPTH ? fc.constant(null) : anyJson;
}

function objectArbitrary(s: JsonSchema, ctx: GenContext, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = (s.required ?? []) as string[];
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) {
    if (depth >= MAX_DEPTH && !required.includes(k)) continue;
    model[k] = validValue(v, ctx, k, depth + 1);
  }
  const fixed = fc.record(model, { requiredKeys: required.filter((k) => k in model) });
  const extra = s.additionalProperties;
  if (!extra || depth >= MAX_DEPTH || Object.keys(props).length) return fixed;
  // a map ({"shopify": "8812"}, custom values): keys from propertyNames, values from additionalProperties
  const key = s.propertyNames ? (validValue({ type: 'string', ...s.propertyNames }, ctx, undefined, depth + 1) as fc.Arbitrary<string>) : fc.string({ maxLength: 12 });
  const value = extra === true ? anyJson : validValue(extra, ctx, undefined, depth + 1);
  return fc.dictionary(key, value, { maxKeys: 3 });
}

const wrongType = fc.oneof(
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 5000 }), fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }), fc.constant(1e308), fc.constant(-1), fc.constant(''), fc.constant('9'.repeat(40)),
);

/** A value the schema refuses (or, for loose schemas, one at its edges). */
export function invalidValue(schema: JsonSchema, ctx: GenContext): fc.Arbitrary<unknown> {
  const s = ctx.resolve(schema);
  const valid = validValue(s, ctx);
  const breakers: fc.Arbitrary<unknown>[] = [wrongType, anyJson];
  if (s.type === 'object' || s.properties) {
    const keys = Object.keys(s.properties ?? {});
    const required = (s.required ?? []) as string[];
    breakers.push(
      // an unknown field
      fc.tuple(valid, fc.string({ minLength: 1, maxLength: 10 }), anyJson).map(([v, k, x]) => ({ ...(v as object), [`x${k}`]: x })),
    );
    if (keys.length) {
      // one known field of the wrong type or out of range
      breakers.push(fc.tuple(valid, fc.constantFrom(...keys), wrongType).map(([v, k, x]) => ({ ...(v as object), [k]: x })));
    }
    if (required.length) {
      breakers.push(fc.tuple(valid, fc.constantFrom(...required)).map(([v, k]) => {
        const copy = { ...(v as Record<string, unknown>) };
        delete copy[k];
        return copy;
      }));
    }
  }
  return fc.oneof(...breakers);
}
