import type { ContactRow } from './contact.table.js';
import type { CompanyRow } from './company.table.js';

// What the surviving record takes from the duplicates (API.md §5 merge: "fills its empty fields").
// Pure functions: the primary's own values always win; an empty field takes the first non-empty value
// in the order of duplicateIds; lists are unioned; custom and external ids fill missing keys only.
// Consent (emailOptIn, smsOptIn, consentSource) and ownership are never taken from a duplicate:
// consent is the person's statement on that record, and ownership is not the merger's to reassign.

export interface ExternalIdConflict {
  system: string;
  /** the primary's id in that system, kept */
  kept: string;
  /** the duplicate's id in that system, dropped with the duplicate */
  dropped: string;
  from: string;
}

export interface Fill {
  changes: Record<string, unknown>;
  conflicts: ExternalIdConflict[];
  /** per kind, what the primary gained: externalIds, customValues, tags */
  gained: Record<string, number>;
}

type Row = { id: string; tags: string[]; custom: Record<string, unknown>; externalIds: Record<string, string> };

const isEmpty = (v: unknown) =>
  v === null || v === undefined || v === '' || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const union = (lists: readonly (readonly (string | null)[])[]) => [...new Set(lists.flat().filter((v): v is string => !!v))];

function fillScalars<R extends Record<string, unknown>>(primary: R, dups: R[], fields: readonly (keyof R & string)[], out: Record<string, unknown>) {
  for (const f of fields) {
    if (!isEmpty(primary[f])) continue;
    const from = dups.find((d) => !isEmpty(d[f]));
    if (from) out[f] = from[f];
  }
}

/** tags, custom values and external ids: the parts contacts and companies share */
function fillShared(primary: Row, dups: Row[], out: Record<string, unknown>): Pick<Fill, 'conflicts' | 'gained'> {
  const tags = union([primary.tags, ...dups.map((d) => d.tags)]);
  if (tags.length !== primary.tags.length) out.tags = tags;
  const custom = { ...primary.custom };
  for (const d of dups) for (const [k, v] of Object.entries(d.custom)) if (!(k in custom) && v !== null) custom[k] = v;
  const customGained = Object.keys(custom).length - Object.keys(primary.custom).length;
  if (customGained) out.custom = custom;
  const ids = { ...primary.externalIds };
  const conflicts: ExternalIdConflict[] = [];
  for (const d of dups) {
    for (const [system, id] of Object.entries(d.externalIds)) {
      const held = ids[system];
      if (held === undefined) ids[system] = id;
      else if (held !== id) conflicts.push({ system, kept: held, dropped: id, from: d.id });
    }
  }
  const idsGained = Object.keys(ids).length - Object.keys(primary.externalIds).length;
  if (idsGained) out.externalIds = ids;
  return { conflicts, gained: { externalIds: idsGained, customValues: customGained, tags: tags.length - primary.tags.length } };
}

const CONTACT_SCALARS = ['firstName', 'lastName', 'email', 'phone', 'jobTitle', 'companyId', 'address', 'lifecycleStage', 'source'] as const;

/** A duplicate's other emails and phones become the primary's additional ones: none is lost. */
export function contactFill(primary: ContactRow, dups: ContactRow[]): Fill {
  const out: Record<string, unknown> = {};
  fillScalars(primary as unknown as Record<string, unknown>, dups as unknown as Record<string, unknown>[], CONTACT_SCALARS, out);
  const email = (out.email ?? primary.email) as string | null;
  const emails = union([primary.additionalEmails, ...dups.flatMap((d) => [[d.email], d.additionalEmails])]).filter((e) => e !== email);
  if (!same(emails, primary.additionalEmails)) out.additionalEmails = emails;
  const phone = (out.phone ?? primary.phone) as string | null;
  const phones = union([primary.additionalPhones, ...dups.flatMap((d) => [[d.phone], d.additionalPhones])]).filter((p) => p !== phone);
  if (!same(phones, primary.additionalPhones)) out.additionalPhones = phones;
  return { changes: out, ...fillShared(primary, dups, out) };
}

const COMPANY_SCALARS = ['domain', 'industry', 'employees', 'phone', 'address'] as const;

/** Revenue and its currency travel together, and only where the primary's currency agrees. */
export function companyFill(primary: CompanyRow, dups: CompanyRow[]): Fill {
  const out: Record<string, unknown> = {};
  fillScalars(primary as unknown as Record<string, unknown>, dups as unknown as Record<string, unknown>[], COMPANY_SCALARS, out);
  if (primary.annualRevenue === null) {
    const from = dups.find((d) => d.annualRevenue !== null && (primary.currency === null || d.currency === primary.currency));
    if (from) Object.assign(out, { annualRevenue: from.annualRevenue, currency: from.currency });
  }
  return { changes: out, ...fillShared(primary, dups, out) };
}
