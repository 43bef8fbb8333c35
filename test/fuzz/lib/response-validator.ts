import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { ApiDocument, JsonSchema, Operation } from './openapi-operations.js';

// Judges a response by the document alone: its status must be declared for the operation (exactly
// or as 4XX/5XX), its content type must be one declared there, and a JSON body must validate against
// the declared schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). A problem's `status` member
// must equal the HTTP status.

export interface ResponseLike {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

const ROOT = 'openapi';

/** `#/components/schemas/X` → `openapi#/components/schemas/X`, so every schema can point into the one registered root */
function rehome(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(rehome);
  if (!s || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${ROOT}${v}` : rehome(v);
  return out;
}

/** The schema with no member required: what a sparse fieldset (`fields=`) answers (API.md §2). */
function withoutRequired(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(withoutRequired);
  if (!s || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'required' && Array.isArray(v)) continue;
    out[k] = k === 'properties' && v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, withoutRequired(sub)]))
      : withoutRequired(v);
  }
  return out;
}

export function responseValidator(doc: ApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  (addFormats as unknown as (a: unknown) => void)(ajv);
  ajv.addSchema({ $id: ROOT, components: { schemas: rehome(doc.schemas) } });
  // openapi.yaml describes whole records; with `fields=` the API leaves the unlisted ones out, which
  // JSON Schema cannot tie to a query parameter. Those answers are judged with nothing required.
  const toSparse = (schema: unknown) => JSON.parse(JSON.stringify(withoutRequired(schema)).replaceAll(`"${ROOT}#`, `"${ROOT}-sparse#`));
  ajv.addSchema({ $id: `${ROOT}-sparse`, components: { schemas: toSparse(rehome(doc.schemas)) } });
  const compiled = new Map<string, Map<JsonSchema, ValidateFunction>>([['whole', new Map()], ['sparse', new Map()]]);
  const compile = (schema: JsonSchema, sparse: boolean) => {
    const cache = compiled.get(sparse ? 'sparse' : 'whole') as Map<JsonSchema, ValidateFunction>;
    let v = cache.get(schema);
    if (!v) {
      const rehomed = rehome(schema);
      v = ajv.compile((sparse ? toSparse(rehomed) : rehomed) as JsonSchema);
      cache.set(schema, v);
    }
    return v;
  };

  /** What is wrong with `res` as an answer to `op`; undefined when nothing is. */
  return function problemWith(op: Operation, res: ResponseLike, o: { sparse?: boolean } = {}): string | undefined {
    const status = res.statusCode;
    if (status >= 500) return `${status}: ${res.body.slice(0, 300)}`;
    const declared = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;
    if (!declared) return `status ${status} is not declared (${Object.keys(op.responses).join(', ')}): ${res.body.slice(0, 200)}`;
    const type = String(res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    if (Object.keys(declared).length === 0) return undefined;
    if (type === 'application/json' || type === 'application/problem+json') {
      const schema = declared['application/json'] ?? declared['application/problem+json'];
      if (!schema) return `status ${status} answered ${type}, declared ${Object.keys(declared).join(', ')}`;
      let body: unknown;
      try {
        body = JSON.parse(res.body);
      } catch {
        return `status ${status}: body is not JSON: ${res.body.slice(0, 200)}`;
      }
      const validate = compile(schema, Boolean(o.sparse) && status < 300);
      if (!validate(body)) return `status ${status}: body does not match its schema: ${ajv.errorsText(validate.errors)}; body ${res.body.slice(0, 300)}`;
      if (type === 'application/problem+json' && (body as { status?: unknown }).status !== status) return `problem status member ${(body as { status?: unknown }).status} on HTTP ${status}`;
      return undefined;
    }
    if (declared[type]) return undefined;
    if (status === 204 || status === 302) return undefined;
    return `status ${status} answered content type "${type}", declared ${Object.keys(declared).join(', ')}`;
  };
}
