import type { TestApp } from '../../helpers/app.js';

// The REST surface as the running server describes it: /openapi.json is built from the registered
// routes' own schemas, so a route added tomorrow shows up here without anyone touching the suites.

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface JsonSchema {
  [k: string]: unknown;
}

export interface Operation {
  method: HttpMethod;
  /** OpenAPI form: /v1/contacts/{id} */
  path: string;
  operationId: string;
  /** `security: []` in the spec: the route needs no token */
  open: boolean;
  body?: JsonSchema;
  /** the 2xx response schema, when the route answers JSON */
  success?: JsonSchema;
  /** query parameters the route requires */
  requiredQuery: { name: string; schema: JsonSchema }[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

function jsonContent(node: unknown): JsonSchema | undefined {
  const content = (node as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content;
  return content?.['application/json']?.schema;
}

export async function loadOperations(h: TestApp): Promise<{ document: OpenApiDocument; operations: Operation[] }> {
  const res = await h.request({ method: 'GET', url: '/openapi.json' });
  if (res.statusCode !== 200) throw new Error(`/openapi.json answered ${res.statusCode}`);
  const document = res.json() as OpenApiDocument;
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const m of METHODS) {
      const op = item[m] as Record<string, unknown> | undefined;
      if (!op) continue;
      const responses = (op.responses ?? {}) as Record<string, unknown>;
      const okStatus = Object.keys(responses).find((s) => s.startsWith('2'));
      const params = (op.parameters ?? []) as { in: string; name: string; required?: boolean; schema: JsonSchema }[];
      const body = jsonContent(op.requestBody);
      const success = okStatus ? jsonContent(responses[okStatus]) : undefined;
      operations.push({
        method: m.toUpperCase() as HttpMethod,
        path,
        operationId: String(op.operationId),
        open: Array.isArray(op.security) && op.security.length === 0,
        ...(body ? { body } : {}),
        ...(success ? { success } : {}),
        requiredQuery: params.filter((p) => p.in === 'query' && p.required).map((p) => ({ name: p.name, schema: p.schema })),
      });
    }
  }
  return { document, operations };
}

export const isWrite = (op: Operation) => op.method !== 'GET';
