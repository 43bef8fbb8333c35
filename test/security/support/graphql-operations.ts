import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import {
  type GraphQLField, type GraphQLInputType, type GraphQLOutputType, buildSchema, getNamedType, isEnumType, isInputObjectType,
  isListType, isNonNullType, isObjectType, isAbstractType, isScalarType,
} from 'graphql';
import { schemaPath } from '../../../src/platform/graphql/index.js';
import type { Operation } from './route-table.js';
import type { World } from './world.js';

// Every root query and mutation of schema.graphql as a runnable operation with its required
// arguments filled in, and the REST operation it mirrors (the two doors share services, so they
// share the rule of who may call them). Argument values only need to be valid GraphQL: services
// check the role before they look at the input.

export interface GraphqlOperation {
  kind: 'query' | 'mutation';
  field: string;
  document: string;
  variables: Record<string, unknown>;
  /** the REST twin, whose path and method give the access rule */
  twin: Operation;
}

/** GraphQL fields whose REST twin is not named after them. */
const TWINS: Record<string, string> = {
  loyalty: 'getContactLoyalty', feedbacks: 'listFeedback', feedbacksCount: 'countFeedback', importJob: 'getImport', importJobs: 'listImports',
  contactExport: 'exportContactData', upsertCompanies: 'batchCompanies', upsertContacts: 'batchContacts', eraseContact: 'eraseContactData',
  recordCampaignEvents: 'ingestCampaignEvents',
};

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** salesWinRate → analyticsSalesWinRate */
const candidates = (f: string) => [TWINS[f], f, `get${cap(f)}`, `list${cap(f)}`, `count${cap(f).replace(/Count$/, '')}`, `analytics${cap(f)}`];

/** The fixture an id argument points at: `id` is the twin's collection, `contactId` the contact, … */
function idFor(world: World, arg: string, twin: Operation): string {
  if (arg === 'id' || arg === 'primaryId') return world.records[twin.path.split('/')[2] ?? ''] ?? randomUUID();
  const entity = arg.replace(/Id$/, '');
  const plural = entity.endsWith('y') ? `${entity.slice(0, -1)}ies` : `${entity}s`;
  return world.records[plural] ?? world.nested[arg] ?? randomUUID();
}

function valueFor(type: GraphQLInputType, world: World, arg: string, twin: Operation): unknown {
  if (isNonNullType(type)) return valueFor(type.ofType, world, arg, twin);
  if (isListType(type)) return [valueFor(type.ofType, world, arg, twin)];
  if (isEnumType(type)) return type.getValues()[0]?.value;
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) if (isNonNullType(f.type)) out[f.name] = valueFor(f.type, world, f.name, twin);
    return out;
  }
  switch (isScalarType(type) ? type.name : '') {
    case 'ID': return idFor(world, arg, twin);
    case 'Int': return 1;
    case 'Float': return 1;
    case 'Boolean': return false;
    case 'Decimal': return '1.00';
    case 'DateTime': return '2026-01-01T00:00:00.000Z';
    case 'JSON': return {};
    default: return arg.toLowerCase().includes('email') ? 'someone@matrix.example' : 'matrix';
  }
}

const selectionOf = (type: GraphQLOutputType) => {
  const named = getNamedType(type);
  return isObjectType(named) || isAbstractType(named) ? ' { __typename }' : '';
};

function operationOf(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, twin: Operation, world: World): GraphqlOperation {
  const required = field.args.filter((a) => isNonNullType(a.type));
  const decl = required.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const pass = required.map((a) => `${a.name}: $${a.name}`).join(', ');
  const document = `${kind}${decl ? `(${decl})` : ''} { ${field.name}${pass ? `(${pass})` : ''}${selectionOf(field.type)} }`;
  const variables = Object.fromEntries(required.map((a) => [a.name, valueFor(a.type, world, a.name, twin)]));
  return { kind, field: field.name, document, variables, twin };
}

export function graphqlOperations(rest: Operation[], world: World): { operations: GraphqlOperation[]; unmatched: string[] } {
  const schema = buildSchema(readFileSync(schemaPath, 'utf8'));
  const byId = new Map(rest.map((op) => [op.operationId, op]));
  const operations: GraphqlOperation[] = [];
  const unmatched: string[] = [];
  for (const [kind, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const twin = candidates(field.name).map((c) => (c ? byId.get(c) : undefined)).find(Boolean);
      if (twin) operations.push(operationOf(kind, field, twin, world));
      else unmatched.push(field.name);
    }
  }
  return { operations, unmatched };
}
