import fc from 'fast-check';
import qs from 'qs';
import { type GenContext, invalidValue, validValue } from './arbitraries.js';
import { IdPool } from './id-pool.js';
import type { Operation, Parameter } from './openapi-operations.js';

// One generated HTTP request for an operation. Valid requests keep every part inside the document:
// path ids of records that exist (or random ones), query parameters from their schemas — with the
// field and operator lists the descriptions of `filter`, `sort`, `fields` and `include` name — and a
// body from the request schema. Invalid requests break exactly one part: the body, one query
// parameter, or a path parameter.

export interface GeneratedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** the raw body sent: JSON text, or deliberately malformed text */
  payload?: string;
  /** what was broken, for the failure report */
  broken?: string;
}

/** `Comma list of id, firstName, …; prefix -` → the names listed; `filter` says "with fields … and ops …". */
function listedNames(description: string | undefined, after: RegExp): string[] {
  const m = description?.match(after);
  return m?.[1] ? m[1].split(/,\s*|\s+and\s+|\s/).map((x) => x.replace(/[()]/g, '').trim()).filter((x) => /^[A-Za-z][\w.]*$/.test(x)) : [];
}

const FILTER_VALUES = fc.oneof(
  fc.string({ maxLength: 20 }), fc.integer().map(String), fc.constantFrom('true', 'false', '2026-01-01', '2026-01-01T00:00:00.000Z', 'a,b', '', 'null'),
  fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('2100-01-01') }).map((d) => d.toISOString()),
);

function filterArbitrary(p: Parameter, ctx: GenContext): fc.Arbitrary<unknown> {
  const fields = listedNames(p.description, /with fields (.+?) and ops/);
  const ops = listedNames(p.description, /and ops (.+)$/);
  if (!fields.length || !ops.length) return validValue(p.schema, ctx);
  const value = fc.oneof(FILTER_VALUES, fc.nat().map((n) => ctx.ids.pick(undefined, n)));
  return fc.dictionary(fc.constantFrom(...fields), fc.dictionary(fc.constantFrom(...ops), value, { minKeys: 1, maxKeys: 2 }), { minKeys: 1, maxKeys: 2 });
}

function commaListArbitrary(names: string[], descending: boolean): fc.Arbitrary<string> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...names), fc.boolean()), { minLength: 1, maxLength: 3, selector: ([n]) => n })
    .map((xs) => xs.map(([n, desc]) => (descending && desc ? `-${n}` : n)).join(','));
}

/** The members of the record an operation answers with: what `fields=` may list. */
function recordFieldNames(op: Operation, ctx: GenContext): string[] {
  const answer = op.responses['200']?.['application/json'];
  if (!answer) return [];
  const schema = ctx.resolve(answer);
  const items = schema.properties?.data?.items;
  return Object.keys(ctx.resolve(items ?? schema).properties ?? {});
}

function queryValueArbitrary(op: Operation, p: Parameter, ctx: GenContext): fc.Arbitrary<unknown> {
  if (p.name === 'filter') return filterArbitrary(p, ctx);
  const fields = p.name === 'fields' ? recordFieldNames(op, ctx) : [];
  if (fields.length) return commaListArbitrary(fields, false);
  const names = p.name === 'sort' ? listedNames(p.description, /Comma list of (.+?)(?:;|$)/) : listedNames(p.description, /: (.+)$/);
  if ((p.name === 'sort' || p.name === 'include') && names.length) return commaListArbitrary(names, p.name === 'sort');
  return validValue(p.schema, ctx, p.name).map((v) => (typeof v === 'object' && v !== null ? v : String(v)));
}

function pathValueArbitrary(op: Operation, p: Parameter, ctx: GenContext): fc.Arbitrary<string> {
  // ids of the collection the path names before this parameter: /v1/tickets/{id}/comments/{commentId}
  const before = op.path.slice(0, op.path.indexOf(`/{${p.name}}`));
  const collection = IdPool.collectionOf(p.name) ?? before;
  if (p.schema.format === 'uuid') {
    return fc.oneof({ weight: 5, arbitrary: fc.nat().map((n) => ctx.ids.pick(collection, n)) }, { weight: 1, arbitrary: fc.uuid({ version: 7 }) });
  }
  return validValue(p.schema, ctx, p.name).map(String);
}

const BAD_PATH_VALUES = fc.constantFrom('not-a-uuid', '0', '-1', '%27%20OR%201%3D1', 'x'.repeat(300), '%00', '..%2F..', '00000000-0000-0000-0000-00000000000g');

interface Parts {
  path: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

function partsArbitrary(op: Operation, ctx: GenContext): fc.Arbitrary<Parts> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const path = fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathValueArbitrary(op, p, ctx)])));
  const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, queryValueArbitrary(op, p, ctx)])), {
    requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name),
  });
  const body = op.body ? validValue(op.body, ctx) : fc.constant(undefined);
  return fc.record({ path, query, body });
}

/** URLs carry UTF-8: a lone surrogate cannot be percent-encoded, so it becomes U+FFFD (bodies keep theirs, as JSON escapes). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const wellFormedText = (s: string) => s.replace(LONE_SURROGATE, '\uFFFD');

function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return wellFormedText(v);
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [wellFormedText(k), wellFormed(x)]));
  return v;
}

function toRequest(op: Operation, parts: Parts, auth: string, broken?: string, rawBody?: string): GeneratedRequest {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = wellFormedText(parts.path[name] ?? '');
    return /%[0-9A-F]{2}/i.test(v) ? v : encodeURIComponent(v);
  });
  const search = qs.stringify(wellFormed(parts.query), { encodeValuesOnly: false, allowDots: false });
  const hasBody = rawBody !== undefined || parts.body !== undefined;
  return {
    method: op.method,
    url: search ? `${path}?${search}` : path,
    headers: { authorization: auth, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    ...(hasBody ? { payload: rawBody ?? JSON.stringify(parts.body) } : {}),
    ...(broken ? { broken } : {}),
  };
}

export function validRequests(op: Operation, ctx: GenContext, auth: string): fc.Arbitrary<GeneratedRequest> {
  return partsArbitrary(op, ctx).map((parts) => toRequest(op, parts, auth));
}

export function invalidRequests(op: Operation, ctx: GenContext, auth: string): fc.Arbitrary<GeneratedRequest> {
  const parts = partsArbitrary(op, ctx);
  const ways: fc.Arbitrary<GeneratedRequest>[] = [];
  if (op.body) {
    ways.push(fc.tuple(parts, invalidValue(op.body, ctx)).map(([p, body]) => toRequest(op, { ...p, body }, auth, 'body')));
    ways.push(fc.tuple(parts, fc.constantFrom('{', '{"a":', 'nul', '[1,]', '"\\ud800"', '{"__proto__": {"x": 1}}', '{"constructor": {"prototype": {}}}')).map(([p, raw]) => toRequest(op, p, auth, 'malformed JSON', raw)));
  }
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  if (queryParams.length) {
    const bad = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('-1', '0', '1e400', 'NaN', '[]', 'true', '2026-13-45', 'x'.repeat(3000), '%00'), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
    ways.push(fc.tuple(parts, fc.constantFrom(...queryParams.map((p) => p.name)), bad).map(([p, name, value]) => toRequest(op, { ...p, query: { ...p.query, [name]: value } }, auth, `query ${name}`)));
    // an unknown query parameter
    ways.push(fc.tuple(parts, fc.string({ minLength: 1, maxLength: 8 })).map(([p, v]) => toRequest(op, { ...p, query: { ...p.query, [`zz${v}`]: v } }, auth, 'unknown query parameter')));
  }
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  if (pathParams.length) {
    ways.push(fc.tuple(parts, fc.constantFrom(...pathParams.map((p) => p.name)), BAD_PATH_VALUES).map(([p, name, value]) => toRequest(op, { ...p, path: { ...p.path, [name]: value } }, auth, `path ${name}`)));
  }
  if (!ways.length) ways.push(parts.map((p) => toRequest(op, p, auth, 'nothing to break')));
  return fc.oneof(...ways);
}
