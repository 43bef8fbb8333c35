import { type SQL, and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { assertCan, assertManagerial, inScope, scopeCondition } from '../../platform/auth/permissions.js';
import { notFound } from '../../platform/errors/app-error.js';
import { type ContactDto, toContactDto } from './contact.schema.js';
import { contacts } from './contact.table.js';
import { type CompanyDto, toCompanyDto } from './company.schema.js';
import { companies } from './company.table.js';
import { ownedColumns } from './contact.repository.js';
import { mergedInto } from './merge.schema.js';

// GraphQL `contact(id) { … company { … } }`, the commonest shape of a contact query, in one statement
// instead of two: the contact LEFT JOIN its live company, by id. The separate company statement (the
// Contact.company loader) cost as much server and database CPU as the contact's own read.
//
// Same rules as ContactService.get followed by CompanyService.getMany: `customers:read` (contacts and
// companies share it), the contact filtered by the caller's record scope in SQL as get does, and the
// company shown only when live and in the caller's scope — checked with inScope, the same rule as the
// scopeCondition getMany puts in its WHERE. A company out of scope is null, as the loader makes it.

const joinedQuery = (db: Executor, scope?: SQL) =>
  db.select({ contact: contacts, company: companies }).from(contacts)
    .leftJoin(companies, and(eq(companies.id, contacts.companyId), isNull(companies.deletedAt)))
    .where(and(eq(contacts.id, sql.placeholder('id')), scope)).limit(1);
// prepared once per database handle (a named statement), as findContact's; a scoped read builds its own
const prepared = new WeakMap<Executor, ReturnType<ReturnType<typeof joinedQuery>['prepare']>>();

export interface ContactWithCompany {
  contact: ContactDto;
  /** the live company in the caller's scope, or null (none, deleted, or out of scope) */
  company: CompanyDto | null;
}

export function contactWithCompanyReader(db: Executor) {
  return async (ctx: RequestContext, id: string, o: { includeDeleted?: boolean } = {}): Promise<ContactWithCompany> => {
    const scope = assertCan(ctx.actor, 'customers', 'read');
    if (o.includeDeleted) assertManagerial(ctx.actor, 'read deleted records');
    const where = scopeCondition(ctx.actor, scope, ownedColumns);
    let query = where ? undefined : prepared.get(db);
    if (!where && !query) prepared.set(db, (query = joinedQuery(db).prepare('contact_with_company_by_id')));
    const rows = query ? await query.execute({ id }) : await joinedQuery(db, where).execute({ id });
    const row = rows[0];
    if (!row || (row.contact.deletedAt && !o.includeDeleted)) throw notFound('Contact', mergedInto(row?.contact));
    const company = row.company && inScope(ctx.actor, scope, row.company) ? toCompanyDto(row.company) : null;
    return { contact: toContactDto(row.contact), company };
  };
}
