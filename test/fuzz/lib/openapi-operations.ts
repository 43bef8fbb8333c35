import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// The committed openapi.yaml read as the list of operations the fuzzer drives. The document is the
// contract under test, so everything the fuzzer sends and expects comes from it, not from the code.

export type JsonSchema = Record<string, any>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
  description?: string;
}

export interface Operation {
  method: string;
  /** the path template, `/v1/contacts/{id}` */
  path: string;
  operationId: string;
  parameters: Parameter[];
  /** the JSON request body's schema, when the operation takes one */
  body?: JsonSchema;
  bodyRequired: boolean;
  /** status key (`200`, `4XX`) → content type → schema (undefined for a body-less answer) */
  responses: Record<string, Record<string, JsonSchema | undefined>>;
}

export interface ApiDocument {
  operations: Operation[];
  schemas: Record<string, JsonSchema>;
  /** follows a `#/components/schemas/X` reference */
  resolve(schema: JsonSchema): JsonSchema;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function loadApiDocument(file = 'openapi.yaml'): ApiDocument {
  const doc = parse(readFileSync(file, 'utf8')) as {
    paths: Record<string, Record<string, any>>;
    components: { schemas: Record<string, JsonSchema> };
  };
  const schemas = doc.components.schemas;
  const resolve = (s: JsonSchema): JsonSchema => {
    let cur = s;
    for (let i = 0; i < 10 && typeof cur?.$ref === 'string'; i++) {
      const name = (cur.$ref as string).replace('#/components/schemas/', '');
      const next = schemas[name];
      if (!next) throw new Error(`openapi.yaml: unresolved ${cur.$ref}`);
      cur = next;
    }
    return cur;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const responses: Operation['responses'] = {};
      for (const [status, r] of Object.entries<any>(op.responses ?? {})) {
        responses[status] = {};
        for (const [type, c] of Object.entries<any>(r.content ?? {})) responses[status][type] = c.schema;
      }
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        parameters: (op.parameters ?? []) as Parameter[],
        body: op.requestBody?.content?.['application/json']?.schema,
        bodyRequired: Boolean(op.requestBody?.required),
        responses,
      });
    }
  }
  return { operations, schemas, resolve };
}
