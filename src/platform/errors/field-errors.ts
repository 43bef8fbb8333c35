import type { z } from 'zod';
import { type FieldError, validationFailed } from './app-error.js';

/** Fields no client may write: the service owns them (API.md §1). */
export const READ_ONLY_FIELDS = new Set(['id', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'mergedIntoId', 'emailOptInAt', 'smsOptInAt']);

interface IssueLike {
  code?: string;
  keyword?: string;
  path?: readonly PropertyKey[];
  instancePath?: string;
  message: string;
  keys?: string[];
  params?: { keys?: string[] };
}

function join(prefix: string, key: string): string {
  return prefix ? `${prefix}.${key}` : key;
}

/**
 * Zod issues (directly, or as Fastify validation items) → one FieldError per bad field with a
 * dotted path. Unknown keys get one entry each, and read-only ones say so.
 */
export function issuesToFieldErrors(issues: readonly IssueLike[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const i of issues) {
    const base = i.path
      ? i.path.map(String).join('.')
      : (i.instancePath ?? '').split('/').filter(Boolean).join('.');
    const path = prefix && base ? `${prefix}.${base}` : prefix || base;
    const code = i.code ?? i.keyword;
    const keys = i.keys ?? i.params?.keys;
    if (code === 'unrecognized_keys' && keys) {
      for (const k of keys) {
        out.push({ path: join(path, k), message: READ_ONLY_FIELDS.has(k) ? 'is read-only' : 'is not a known field' });
      }
    } else if (!out.some((e) => e.path === (path || '(root)'))) {
      // zod reports every failed check of a field ("sar": regex and refine); the first one says enough
      out.push({ path: path || '(root)', message: i.message });
    }
  }
  return out;
}

/** A body or argument parsed by its zod schema, or 400 validation_failed listing every bad field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) throw validationFailed(issuesToFieldErrors(r.error.issues));
  return r.data;
}
