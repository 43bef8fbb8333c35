import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan } from '../../platform/auth/permissions.js';
import { AppError } from '../../platform/errors/app-error.js';
import { inTransaction } from '../../platform/db/transaction.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { emit } from '../../platform/events/outbox.js';
import { type ErasureTarget, eraseFromAuditLog } from '../../platform/audit/erasure.js';
import { eraseFromEvents } from '../../platform/events/erasure.js';
import type { ContactRow } from './contact.table.js';
import { toContactDto } from './contact.schema.js';
import { toActivityDto } from './activity.schema.js';
import { toOrderDto } from './order.schema.js';
import { toFeedbackDto } from './feedback.schema.js';
import { toLoyaltyTransactionDto } from './loyalty.schema.js';
import { normaliseSearchText } from './search.js';
import * as repo from './gdpr.repository.js';

// GDPR (API.md §4, §5 Customer): everything held about a person as one document, and erasure of their
// personal data everywhere while non-personal aggregates (order totals, scores, loyalty points) stay.
// Other modules add what they hold about the person through `addPart` (deals and leads, tickets).

/** The person an export or erasure is about: their contacts (merged ones too) and strong identifiers. */
export interface Person {
  contactIds: string[];
  emails: string[];
  /** E.164 */
  phones: string[];
  /** lower-case strings whose appearance anywhere identifies the person: emails, phones, full names */
  needles: string[];
}

export type ErasedRecords = ErasureTarget['records'][number];

export interface PersonalDataPart {
  /** the property of the export document this part fills */
  key: string;
  export(db: Executor, person: Person): Promise<unknown>;
  /** removes the person's data from the module's tables (inside the erasure's transaction); answers the records changed */
  erase(tx: Executor, person: Person, at: Date): Promise<ErasedRecords[]>;
}

const CONTACT_PERSONAL_KEYS = [
  'firstName', 'lastName', 'email', 'phone', 'additionalEmails', 'additionalPhones', 'jobTitle', 'address', 'custom', 'externalIds',
];

function personOf(rows: readonly ContactRow[]): Person {
  const emails = [...new Set(rows.flatMap((c) => [c.email, ...c.additionalEmails]).filter((e): e is string => !!e).map((e) => e.toLowerCase()))];
  const phones = [...new Set(rows.flatMap((c) => [c.phone, ...c.additionalPhones]).filter((p): p is string => !!p))];
  const names = rows.filter((c) => c.firstName && c.lastName).map((c) => `${c.firstName} ${c.lastName}`);
  const needles = new Set([
    ...emails, ...phones, ...phones.map((p) => p.replace(/^\+/, '')),
    ...names.map((n) => n.toLowerCase()), ...names.map(normaliseSearchText),
  ]);
  return { contactIds: rows.map((c) => c.id), emails, phones, needles: [...needles].filter((n) => n.length >= 5) };
}

export function createGdprService({ db }: { db: Executor }) {
  const parts: PersonalDataPart[] = [];

  async function load(tx: Executor, id: string, lock = false): Promise<ContactRow[]> {
    const rows = await repo.personRows(tx, id, lock);
    if (rows.length === 0) throw new AppError('not_found', 'Contact not found');
    return rows;
  }

  return {
    addPart(part: PersonalDataPart): void {
      parts.push(part);
    },

    /** Everything held about the person, as one JSON document; the export itself is audited. */
    async export(ctx: RequestContext, id: string): Promise<Record<string, unknown>> {
      assertCan(ctx.actor, 'gdpr', 'read');
      const rows = await load(db, id);
      const person = personOf(rows);
      const [primary, ...merged] = rows as [ContactRow, ...ContactRow[]];
      const data = await repo.customerDataOf(db, person.contactIds);
      const doc: Record<string, unknown> = {
        exportedAt: new Date().toISOString(),
        contact: toContactDto(primary),
        mergedContacts: merged.map(toContactDto),
        consent: {
          emailOptIn: primary.emailOptIn, emailOptInAt: primary.emailOptInAt?.toISOString() ?? null,
          smsOptIn: primary.smsOptIn, smsOptInAt: primary.smsOptInAt?.toISOString() ?? null, consentSource: primary.consentSource,
        },
        activities: data.activities.map(toActivityDto),
        orders: data.orders.map(toOrderDto),
        loyalty: {
          balance: person.contactIds.reduce((sum, c) => sum + (data.balances.get(c) ?? 0), 0),
          transactions: data.loyaltyTransactions.map(toLoyaltyTransactionDto),
        },
        feedback: data.feedback.map(toFeedbackDto),
        history: data.audit.map((a) => ({ ...a, occurredAt: a.occurredAt.toISOString() })),
      };
      for (const part of parts) doc[part.key] = await part.export(db, person);
      await inTransaction(db, (tx) => recordAudit(tx, ctx, {
        action: 'export', entityType: 'contact', entityId: primary.id, before: null, after: { parts: Object.keys(doc).filter((k) => k !== 'exportedAt') },
      }));
      return doc;
    },

    /**
     * Removes the person's personal data everywhere in one transaction: their contacts, activities,
     * feedback comments, the records other modules hold, the audit log (digests kept, chain intact),
     * the outbox and cached copies. Irreversible; a second erasure is 409.
     */
    async erase(ctx: RequestContext, id: string) {
      assertCan(ctx.actor, 'gdpr', 'write');
      return inTransaction(db, async (tx) => {
        const rows = await load(tx, id, true);
        const primary = rows[0] as ContactRow;
        if (primary.erasedAt) throw new AppError('conflict', `Contact ${primary.id} was already erased at ${primary.erasedAt.toISOString()}`);
        const person = personOf(rows);
        const at = new Date();
        const records: ErasedRecords[] = [{ entityType: 'contact', ids: person.contactIds, personalKeys: CONTACT_PERSONAL_KEYS }];
        records.push({ entityType: 'activity', ids: await repo.eraseActivities(tx, person.contactIds, at), personalKeys: ['subject', 'body'] });
        records.push({ entityType: 'activity', ids: await repo.eraseMentions(tx, person.needles, at), personalKeys: [] });
        records.push({ entityType: 'feedback', ids: await repo.eraseFeedbackComments(tx, person.contactIds, at), personalKeys: ['comment'] });
        for (const part of parts) records.push(...(await part.erase(tx, person, at)));
        await repo.eraseContacts(tx, person.contactIds, at);
        const target: ErasureTarget = { records, needles: person.needles };
        const auditRows = await eraseFromAuditLog(tx, target);
        const events = await eraseFromEvents(tx, target);
        await repo.eraseCopies(tx, person.needles);
        const result = {
          id: primary.id, erasedAt: at.toISOString(), contactIds: person.contactIds,
          records: records.reduce((n, r) => n + r.ids.length, 0), auditRows, events,
        };
        await recordAudit(tx, ctx, { action: 'erase', entityType: 'contact', entityId: primary.id, before: null, after: result });
        await emit(tx, ctx, { type: 'contact.erased', entityType: 'contact', entityId: primary.id, before: null, after: { id: primary.id, erasedAt: result.erasedAt, contactIds: person.contactIds } });
        return result;
      });
    },
  };
}

export type GdprService = ReturnType<typeof createGdprService>;
