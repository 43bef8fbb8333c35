import { and, eq, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { ERASED } from '../../platform/audit/erasure.js';
import type { Person, PersonalDataPart } from '../customer/index.js';
import { leads } from './lead.table.js';
import { deals, dealContacts } from './deal.table.js';
import { dealColumns, dealSearchText } from './deal.repository.js';
import { findLeads, leadSearchText } from './lead.repository.js';
import { toLeadDto } from './lead.schema.js';
import { type DealRecord, toDealDto } from './deal.schema.js';

// What the pipeline holds about a person (GDPR, issue #5): the leads they were (converted into their
// contact, or carrying their email or phone) and the deals they take part in. Leads are personal data
// through and through; deals are business records, kept, except where their name spells the person.

const LEAD_PERSONAL_KEYS = ['firstName', 'lastName', 'email', 'phone', 'custom'];

const leadsOf = (p: Person) => or(
  inArray(leads.convertedContactId, p.contactIds),
  p.emails.length ? inArray(leads.email, p.emails) : undefined,
  p.phones.length ? inArray(leads.phone, p.phones) : undefined,
);

async function dealsOf(db: Executor, p: Person): Promise<DealRecord[]> {
  return db.select(dealColumns).from(deals)
    .where(inArray(deals.id, db.select({ id: dealContacts.dealId }).from(dealContacts).where(inArray(dealContacts.contactId, p.contactIds))));
}

const mentions = (text: string, p: Person) => p.needles.some((n) => text.toLowerCase().includes(n));

export const pipelineGdprPart: PersonalDataPart = {
  key: 'pipeline',

  async export(db, person) {
    const ids = (await db.select({ id: leads.id }).from(leads).where(leadsOf(person))).map((r) => r.id);
    return {
      leads: (await findLeads(db, ids)).map(toLeadDto),
      deals: (await dealsOf(db, person)).map(toDealDto),
    };
  },

  async erase(tx, person, at) {
    const erasedLeads = await tx.update(leads).set({
      firstName: null, lastName: null, email: null, phone: null, custom: {},
      searchText: '', updatedAt: at, version: sql`${leads.version} + 1`,
    }).where(leadsOf(person)).returning({ id: leads.id, companyName: leads.companyName });
    // the search text keeps the company name only
    for (const l of erasedLeads.filter((x) => x.companyName)) {
      await tx.update(leads).set({ searchText: leadSearchText({ companyName: l.companyName }) }).where(eq(leads.id, l.id));
    }
    const named = (await dealsOf(tx, person)).filter((d) => mentions(d.name, person));
    for (const d of named) {
      const name = person.needles.reduce((n, needle) => n.replace(new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), ERASED), d.name);
      const safe = mentions(name, person) ? `${ERASED} deal` : name;
      await tx.update(deals).set({ name: safe, searchText: dealSearchText({ name: safe }), updatedAt: at, version: sql`${deals.version} + 1` })
        .where(and(eq(deals.id, d.id), isNotNull(deals.name)));
    }
    return [
      { entityType: 'lead', ids: erasedLeads.map((l) => l.id), personalKeys: LEAD_PERSONAL_KEYS },
      { entityType: 'deal', ids: named.map((d) => d.id), personalKeys: [] },
    ];
  },
};
