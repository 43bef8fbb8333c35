import { z } from 'zod';
import { Uuid, recordFields, iso } from '../../platform/http/common.schema.js';
import type { CustomFieldRow } from './custom-field.table.js';

export const CUSTOM_ENTITIES = ['contact', 'company', 'deal', 'lead', 'ticket'] as const;
export type CustomEntity = (typeof CUSTOM_ENTITIES)[number];

export const CUSTOM_TYPES = [
  'text', 'number', 'boolean', 'date', 'datetime', 'select', 'multiselect', 'email', 'url', 'phone', 'currency',
] as const;
export type CustomType = (typeof CUSTOM_TYPES)[number];

/** Types whose values come from `options`. */
export const OPTION_TYPES: readonly CustomType[] = ['select', 'multiselect'];
/** Types a unique index makes no sense for (two values, or a set compared as a whole). */
export const NON_UNIQUE_TYPES: readonly CustomType[] = ['boolean', 'multiselect'];

const Options = z.array(z.string().trim().min(1).max(100)).max(200)
  .refine((o) => new Set(o).size === o.length, 'must not repeat a value');

export const CustomFieldCreate = z
  .object({
    entity: z.enum(CUSTOM_ENTITIES),
    key: z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'must be lower-case letters, digits and _, starting with a letter (≤ 50)'),
    label: z.string().trim().min(1).max(200),
    type: z.enum(CUSTOM_TYPES),
    options: Options.optional().describe('required for select and multiselect, refused otherwise'),
    required: z.boolean().optional().describe('default false'),
    unique: z.boolean().optional().describe('default false; enforced by a database index'),
  })
  .strict()
  .meta({ id: 'CustomFieldCreate' });

/**
 * What may change after creation. `entity`, `key`, `type` and `unique` may not: stored values were
 * validated, indexed and (phone, email, datetime) normalised for that key and type, and the unique
 * index is built on that key; changing them would leave existing records silently invalid under the
 * new rules. Create a new field instead.
 */
export const CustomFieldPatch = z
  .object({
    label: CustomFieldCreate.shape.label,
    options: Options,
    required: z.boolean(),
  })
  .partial()
  .strict()
  .meta({ id: 'CustomFieldPatch', description: 'label, options and required only; entity, key, type and unique are fixed' });

export type CustomFieldCreateInput = z.infer<typeof CustomFieldCreate>;
export type CustomFieldPatchInput = z.infer<typeof CustomFieldPatch>;

export const CustomField = z
  .object({
    ...recordFields,
    entity: z.enum(CUSTOM_ENTITIES),
    key: z.string(),
    label: z.string(),
    type: z.enum(CUSTOM_TYPES),
    options: z.array(z.string()),
    required: z.boolean(),
    unique: z.boolean(),
  })
  .meta({ id: 'CustomField' });

export type CustomFieldDto = z.infer<typeof CustomField>;

export const CustomFieldList = z
  .object({ data: z.array(CustomField), nextCursor: z.string().nullable() })
  .meta({ id: 'CustomFieldList' });

export const CustomFieldId = z.object({ id: Uuid });

export function toCustomFieldDto(r: CustomFieldRow): CustomFieldDto {
  return {
    id: r.id, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), version: r.version, deletedAt: iso(r.deletedAt),
    entity: r.entity as CustomEntity,
    key: r.key,
    label: r.label,
    type: r.type as CustomType,
    options: r.options,
    required: r.required,
    unique: r.unique,
  };
}
