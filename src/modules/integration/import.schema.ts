import { z } from 'zod';
import { Timestamp, Uuid } from '../../platform/http/common.schema.js';
import type { Resource } from '../../platform/auth/permissions.js';
import { IMPORT_ENTITIES, IMPORT_FORMATS, IMPORT_STATUSES, type ImportRow } from './import.table.js';

// The imports contract (API.md §5 Integration, §5b Imports) and the columns each entity takes.

export type ImportEntity = (typeof IMPORT_ENTITIES)[number];
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** 1 GiB: imports stream, so this bounds disk and time, not memory (JSON bodies keep BODY_LIMIT_BYTES). */
export const IMPORT_MAX_BYTES = 1024 * 1024 * 1024;
/** GET /v1/imports/:id lists at most this many row errors (first rows first); `failed` counts them all. */
export const ERRORS_SHOWN = 1000;

/**
 * How a CSV cell becomes a JSON value. text: as written; number, boolean: parsed (left as text when it
 * does not parse, so the service names the field); list: `a;b` or a JSON array; json: a JSON value;
 * object: a JSON object in the cell, or one `<field>.<key>` column per key.
 */
export type ColumnKind = 'text' | 'number' | 'boolean' | 'list' | 'json' | 'object';

const owned = { ownerId: 'text', teamId: 'text' } as const;
const ADDRESS_KEYS = ['line1', 'line2', 'city', 'region', 'postalCode', 'country'];

export interface EntitySpec {
  /** the permission resource whose write the import needs */
  resource: Resource;
  /** the custom-field entity, when the entity has custom fields */
  customEntity?: 'contact' | 'company' | 'lead' | 'deal';
  /** the writable fields of the entity's create input (the test compares them with its zod schema) */
  columns: Record<string, ColumnKind>;
  /** natural-key columns the import resolves to ids per chunk: column → field it fills */
  relations: Record<string, 'companyId' | 'contactId' | 'contactIds'>;
  /** the keys of object columns written as `<field>.<key>`; undefined: any key (checked by the service) */
  objectKeys?: Record<string, readonly string[]>;
  /** idProperty values the entity's batch service matches by */
  idProperty: RegExp;
  /** the column (or `<object>.<key>` column) holding an idProperty's key */
  keyColumn: (idProperty: string) => string;
}

const externalKey = (p: string) => (p.startsWith('externalId.') ? `externalIds.${p.slice('externalId.'.length)}` : p);

export const ENTITY_SPECS: Record<ImportEntity, EntitySpec> = {
  contacts: {
    resource: 'customers',
    customEntity: 'contact',
    columns: {
      firstName: 'text', lastName: 'text', email: 'text', phone: 'text', additionalEmails: 'list', additionalPhones: 'list',
      jobTitle: 'text', companyId: 'text', address: 'object', tags: 'list', lifecycleStage: 'text', source: 'text',
      externalIds: 'object', emailOptIn: 'boolean', smsOptIn: 'boolean', consentSource: 'text', ...owned, custom: 'object',
    },
    relations: { companyDomain: 'companyId' },
    objectKeys: { address: ADDRESS_KEYS },
    idProperty: /^(id|email|externalId\.[a-z0-9][a-z0-9_-]{0,49})$/,
    keyColumn: externalKey,
  },
  companies: {
    resource: 'customers',
    customEntity: 'company',
    columns: {
      name: 'text', domain: 'text', industry: 'text', employees: 'number', annualRevenue: 'text', currency: 'text', phone: 'text',
      address: 'object', tags: 'list', externalIds: 'object', ...owned, custom: 'object',
    },
    relations: {},
    objectKeys: { address: ADDRESS_KEYS },
    idProperty: /^(id|domain|externalId\.[a-z0-9][a-z0-9_-]{0,49})$/,
    keyColumn: externalKey,
  },
  leads: {
    resource: 'leads',
    customEntity: 'lead',
    columns: {
      firstName: 'text', lastName: 'text', email: 'text', phone: 'text', companyName: 'text', companyDomain: 'text',
      source: 'text', status: 'text', ...owned, custom: 'object',
    },
    relations: {},
    idProperty: /^(id|email)$/,
    keyColumn: (p) => p,
  },
  deals: {
    resource: 'deals',
    customEntity: 'deal',
    columns: {
      name: 'text', pipelineId: 'text', stageId: 'text', amount: 'text', currency: 'text', expectedCloseDate: 'text',
      companyId: 'text', contactIds: 'list', lostReason: 'text', position: 'number', ...owned, custom: 'object',
    },
    relations: { companyDomain: 'companyId', contactEmail: 'contactIds' },
    idProperty: /^id$/,
    keyColumn: (p) => p,
  },
  orders: {
    resource: 'orders',
    columns: {
      externalId: 'text', contactId: 'text', status: 'text', total: 'text', currency: 'text', placedAt: 'text', lines: 'json',
    },
    relations: { contactEmail: 'contactId' },
    idProperty: /^(id|externalId)$/,
    keyColumn: (p) => p,
  },
};

export const IDPROPERTY_HELP: Record<ImportEntity, string> = {
  contacts: 'id, email or externalId.<system>',
  companies: 'id, domain or externalId.<system>',
  leads: 'id or email',
  deals: 'id',
  orders: 'id or externalId',
};

export const ImportQuery = z
  .object({
    entity: z.enum(IMPORT_ENTITIES).describe('What the rows are'),
    idProperty: z.string().min(1).max(70).describe(
      'How rows find the record they update: contacts id|email|externalId.<system>, companies id|domain|externalId.<system>, '
        + 'leads id|email, deals id, orders id|externalId. With id, a row without one creates a record',
    ),
  })
  .strict();

export const ImportId = z.object({ id: Uuid });

export const ImportRowError = z
  .object({ row: z.number().int().describe('1 = the first data row'), message: z.string() })
  .meta({ id: 'ImportRowError' });

const jobFields = {
  id: Uuid,
  entity: z.enum(IMPORT_ENTITIES),
  idProperty: z.string(),
  format: z.enum(IMPORT_FORMATS),
  status: z.enum(IMPORT_STATUSES).describe('completed also when some rows failed (see failed and errors); failed: the whole job failed'),
  totalRows: z.number().int(),
  processed: z.number().int().describe('rows applied so far, in row order; the resume point'),
  created: z.number().int(),
  updated: z.number().int().describe('rows that matched an existing record, changed or not'),
  failed: z.number().int().describe('rows refused; their reasons are in errors'),
  failure: z.string().nullable().describe('why the whole job failed (status failed)'),
  createdById: z.string().describe('the user or API key that started it; rows are written with its permissions'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
};

export const ImportJob = z
  .object({ ...jobFields, errors: z.array(ImportRowError).describe(`row errors by row number, at most ${ERRORS_SHOWN}`) })
  .meta({ id: 'ImportJob' });
export const ImportJobSummary = z.object(jobFields).meta({ id: 'ImportJobSummary', description: 'An import job without its row errors' });
export const ImportJobList = z.object({ data: z.array(ImportJobSummary), nextCursor: z.string().nullable() }).meta({ id: 'ImportJobList' });
export const ImportAccepted = z
  .object({ id: Uuid, status: z.enum(IMPORT_STATUSES) })
  .meta({ id: 'ImportAccepted', description: 'The job is stored; GET /v1/imports/{id} follows it' });

export type ImportJobSummaryDto = z.infer<typeof ImportJobSummary>;
export type ImportJobDto = z.infer<typeof ImportJob>;
export type ImportRowErrorDto = z.infer<typeof ImportRowError>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toImportSummaryDto(r: ImportRow): ImportJobSummaryDto {
  return {
    id: r.id,
    entity: r.entity,
    idProperty: r.idProperty,
    format: r.format,
    status: r.status,
    totalRows: r.totalRows,
    processed: r.processed,
    created: r.created,
    updated: r.updated,
    failed: r.failed,
    failure: r.failure,
    createdById: String(r.actor.id ?? ''),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
  };
}

export function toImportDto(r: ImportRow, errors: { rowNo: number; message: string }[]): ImportJobDto {
  return { ...toImportSummaryDto(r), errors: errors.map((e) => ({ row: e.rowNo, message: e.message })) };
}
