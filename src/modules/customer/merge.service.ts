import { inArray } from 'drizzle-orm';
import type { z } from 'zod';
import type { Executor } from '../../platform/db/client.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { syncExternalIds } from '../../platform/db/external-ids.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, inScope } from '../../platform/auth/permissions.js';
import { AppError, notFound, validationFailed } from '../../platform/errors/app-error.js';
import { issuesToFieldErrors } from '../../platform/errors/field-errors.js';
import { type AuditEntry, recordAudit } from '../../platform/audit/audit.js';
import { type EmitInput, emit } from '../../platform/events/outbox.js';
import { type ContactDto, toContactDto } from './contact.schema.js';
import { type CompanyDto, toCompanyDto } from './company.schema.js';
import { type ContactRow, contacts } from './contact.table.js';
import type { CompanyRow } from './company.table.js';
import { contactSearchText } from './contact.service.js';
import { updateContact } from './contact.repository.js';
import { companySearchText, updateCompany } from './company.repository.js';
import { companyNameKey, contactNameKey, refreshCompanyCandidates } from './duplicate.repository.js';
import { queueContactRefresh, queueContactRefreshOf } from './duplicate-queue.js';
import { type Fill, companyFill, contactFill } from './merge-fields.js';
import { CompanyMerge, ContactMerge, type MergeInput, type MovedCounts } from './merge.schema.js';
import * as repo from './merge.repository.js';

/**
 * Moves links another module owns (deals, leads, tickets, campaign members) from the duplicates to
 * the primary inside the merge's transaction; answers what it moved per kind, e.g. `{deals: 2}`.
 */
export type LinkMover = (tx: Executor, ctx: RequestContext, primaryId: string, duplicateIds: readonly string[]) => Promise<MovedCounts>;
type Entity = 'contact' | 'company';
type Base = { id: string; deletedAt: Date | null; mergedIntoId: string | null; ownerId: string | null; teamId: string | null; externalIds: Record<string, string> };

/** How one entity merges: the parts that differ between contacts and companies. */
interface Kind<R extends Base, D> {
  entity: Entity;
  label: string;
  input: z.ZodType<MergeInput>;
  lock: (tx: Executor, ids: readonly string[]) => Promise<R[]>;
  /** the links this module owns; audits each moved row as an update of its record */
  moveOwn: (tx: Executor, ctx: RequestContext, primaryId: string, duplicateIds: readonly string[]) => Promise<MovedCounts>;
  fill: (primary: R, dups: R[]) => Fill;
  /** an update of the record with its derived columns (search text, name key) kept right */
  update: (tx: Executor, current: R, values: Record<string, unknown>) => Promise<R>;
  toDto: (row: R) => D;
  refresh: (tx: Executor, row: R) => Promise<void>;
}

/** Points one foreign key at the primary and audits every moved row as an update of its record. */
async function moveAudited(
  tx: Executor, ctx: RequestContext, primaryId: string, duplicateIds: readonly string[],
  link: { table: string; column: string; field: string; entityType: string; versioned: boolean },
): Promise<repo.Relinked[]> {
  const moved = await repo.relink(tx, link.table, link.column, primaryId, duplicateIds, link.versioned);
  await recordAudit(tx, ctx, moved.map((m): AuditEntry => ({
    action: 'update', entityType: link.entityType, entityId: m.id, before: { [link.field]: m.old }, after: { [link.field]: primaryId },
  })));
  return moved;
}

const contactKind: Kind<ContactRow, ContactDto> = {
  entity: 'contact',
  label: 'Contact',
  input: ContactMerge,
  lock: repo.lockContacts,
  async moveOwn(tx, ctx, primaryId, dups) {
    const by = (table: string, entityType: string, versioned: boolean) =>
      moveAudited(tx, ctx, primaryId, dups, { table, column: 'contact_id', field: 'contactId', entityType, versioned });
    const activities = await by('activities', 'activity', true);
    const orders = await by('orders', 'order', true);
    const feedback = await by('feedback', 'feedback', true);
    const loyalty = await repo.moveLoyalty(tx, primaryId, dups);
    await recordAudit(tx, ctx, loyalty.transactions.map((m): AuditEntry => ({
      action: 'update', entityType: 'loyalty_transaction', entityId: m.id, before: { contactId: m.old }, after: { contactId: primaryId },
    })));
    return {
      activities: activities.length, orders: orders.length, feedback: feedback.length,
      loyaltyTransactions: loyalty.transactions.length, loyaltyPoints: loyalty.points,
    };
  },
  fill: contactFill,
  update(tx, current, values) {
    const next = { ...current, ...values };
    return updateContact(tx, current.id, { ...values, searchText: contactSearchText(next), nameKey: contactNameKey(next) });
  },
  toDto: toContactDto,
  refresh: queueContactRefreshOf,
};

const companyKind: Kind<CompanyRow, CompanyDto> = {
  entity: 'company',
  label: 'Company',
  input: CompanyMerge,
  lock: repo.lockCompanies,
  async moveOwn(tx, ctx, primaryId, dups) {
    const by = (table: string, entityType: string) =>
      moveAudited(tx, ctx, primaryId, dups, { table, column: 'company_id', field: 'companyId', entityType, versioned: true });
    const people = await by('contacts', 'contact');
    const activities = await by('activities', 'activity');
    // same_company is part of a contact pair's score: the moved contacts' pairs are scored again
    const moved = people.length ? await tx.select().from(contacts).where(inArray(contacts.id, people.map((p) => p.id))) : [];
    await queueContactRefresh(tx, moved.map((row) => ({ row })));
    return { contacts: people.length, activities: activities.length };
  },
  fill: companyFill,
  update(tx, current, values) {
    const next = { ...current, ...values };
    return updateCompany(tx, current.id, { ...values, searchText: companySearchText(next), nameKey: companyNameKey(next) });
  },
  toDto: toCompanyDto,
  refresh: refreshCompanyCandidates,
};

export function createMergeService({ db }: { db: Executor }) {
  const movers: Record<Entity, LinkMover[]> = { contact: [], company: [] };

  /** Checks every record: it exists (404), is live and not merged (409), and the caller may write it (403). */
  function assertMergeable<R extends Base>(kind: Kind<R, unknown>, ctx: RequestContext, ids: string[], rows: Map<string, R>): void {
    const scope = assertCan(ctx.actor, 'customers', 'write');
    for (const id of ids) {
      const r = rows.get(id);
      if (!r) throw notFound(kind.label);
      if (r.mergedIntoId) {
        throw new AppError('conflict', `${kind.label} ${id} was already merged into ${r.mergedIntoId}`, { extensions: { mergedIntoId: r.mergedIntoId } });
      }
      if (r.deletedAt) throw new AppError('conflict', `${kind.label} ${id} is deleted; restore it before merging`);
      if (!inScope(ctx.actor, scope, r)) {
        throw new AppError('forbidden', `Your role may merge only ${kind.entity === 'contact' ? 'contacts' : 'companies'} of yours, your teams or nobody`);
      }
    }
  }

  async function merge<R extends Base, D>(kind: Kind<R, D>, ctx: RequestContext, raw: unknown): Promise<D> {
    assertCan(ctx.actor, 'customers', 'write');
    const parsed = kind.input.safeParse(raw);
    if (!parsed.success) throw validationFailed(issuesToFieldErrors(parsed.error.issues));
    const { primaryId, duplicateIds } = parsed.data;
    if (duplicateIds.includes(primaryId)) {
      throw new AppError('conflict', `A ${kind.entity} cannot be merged into itself`, {
        errors: [{ path: `duplicateIds.${duplicateIds.indexOf(primaryId)}`, message: 'is the primaryId' }],
      });
    }
    return inTransaction(db, async (tx) => {
      const rows = new Map((await kind.lock(tx, [primaryId, ...duplicateIds])).map((r) => [r.id, r]));
      assertMergeable(kind, ctx, [primaryId, ...duplicateIds], rows);
      const primary = rows.get(primaryId) as R;
      const dups = duplicateIds.map((id) => rows.get(id) as R);

      const moved: MovedCounts = await kind.moveOwn(tx, ctx, primaryId, duplicateIds);
      for (const mover of movers[kind.entity]) Object.assign(moved, await mover(tx, ctx, primaryId, duplicateIds));

      // the duplicates go first: that frees their unique email or domain and external ids for the primary
      const audits: AuditEntry[] = [];
      const events: EmitInput[] = [];
      const deleted: R[] = [];
      for (const dup of dups) {
        const after = await kind.update(tx, dup, { deletedAt: new Date(), mergedIntoId: primaryId });
        await syncExternalIds(tx, kind.entity, dup.id, {});
        const b = kind.toDto(dup) as Record<string, unknown>;
        const a = { ...(kind.toDto(after) as Record<string, unknown>), mergedIntoId: primaryId };
        audits.push({ action: 'delete', entityType: kind.entity, entityId: dup.id, before: b, after: a });
        events.push({ type: `${kind.entity}.deleted`, entityType: kind.entity, entityId: dup.id, before: b, after: a });
        deleted.push(after);
      }

      const fill = kind.fill(primary, dups);
      let survivor = primary;
      if (Object.keys(fill.changes).length) {
        survivor = await kind.update(tx, primary, fill.changes);
        if (fill.changes.externalIds) await syncExternalIds(tx, kind.entity, primaryId, survivor.externalIds);
        const b = kind.toDto(primary) as Record<string, unknown>;
        const a = kind.toDto(survivor) as Record<string, unknown>;
        audits.push({ action: 'update', entityType: kind.entity, entityId: primaryId, before: b, after: a });
        events.push({ type: `${kind.entity}.updated`, entityType: kind.entity, entityId: primaryId, before: b, after: a });
      }
      Object.assign(moved, fill.gained);
      const summary = { primaryId, duplicateIds, moved };
      // external ids the primary already had in that system: the primary's kept, the duplicate's recorded here
      audits.push({ action: 'merge', entityType: kind.entity, entityId: primaryId, before: null, after: { ...summary, externalIdConflicts: fill.conflicts } });
      events.push({ type: `${kind.entity}.merged`, entityType: kind.entity, entityId: primaryId, before: null, after: summary });
      await recordAudit(tx, ctx, audits);
      await emit(tx, ctx, events);

      for (const row of deleted) await kind.refresh(tx, row);
      await kind.refresh(tx, survivor);
      return kind.toDto(survivor);
    });
  }

  return {
    /** Another module's links of contacts or companies, moved by every merge of that entity. */
    registerLinkMover(entity: Entity, mover: LinkMover): void {
      movers[entity].push(mover);
    },
    mergeContacts: (ctx: RequestContext, input: unknown): Promise<ContactDto> => merge(contactKind, ctx, input),
    mergeCompanies: (ctx: RequestContext, input: unknown): Promise<CompanyDto> => merge(companyKind, ctx, input),
  };
}

export type MergeService = ReturnType<typeof createMergeService>;
