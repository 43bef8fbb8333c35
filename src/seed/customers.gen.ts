import type { CompanyInsert } from '../modules/customer/company.table.js';
import type { ContactInsert } from '../modules/customer/contact.table.js';
import { companySearchText } from '../modules/customer/company.repository.js';
import { contactSearchText } from '../modules/customer/contact.service.js';
import { companyNameKey, contactNameKey } from '../modules/customer/duplicate.repository.js';
import { Draw } from './draw.js';
import { fromMinor, minorOf } from './money.js';
import { type CompanyName, companyNameOf, personOf } from './people.js';
import {
  type World, companyId, contactCompanyIndex, contactCreatedAt, contactId, createdAtOf, emailOptedIn, isGulf, trait, usersOf,
} from './world.js';

// Companies, contacts and their external ids. Derived columns (search text, name keys, consent times,
// the external-id side table) come from the same functions the services write them with.

const INDUSTRIES = ['retail', 'banking', 'construction', 'healthcare', 'logistics', 'hospitality', 'energy', 'telecom', 'education', 'software'];
const CITIES: Record<string, string[]> = {
  SA: ['Riyadh', 'Jeddah', 'Dammam', 'Khobar'], AE: ['Dubai', 'Abu Dhabi', 'Sharjah'], KW: ['Kuwait City', 'Hawalli'],
  BH: ['Manama'], QA: ['Doha'], OM: ['Muscat'], DE: ['Berlin', 'Munich', 'Hamburg'], GB: ['London', 'Manchester'],
  FR: ['Paris', 'Lyon'], ES: ['Madrid', 'Barcelona'], IT: ['Milan', 'Rome'], NL: ['Amsterdam', 'Rotterdam'],
};
const LIFECYCLE = [['subscriber', 2], ['lead', 3], ['opportunity', 2], ['customer', 4], ['churned', 1]] as const;
const SOURCES = ['website', 'referral', 'event', 'import', 'instagram', 'whatsapp', 'partner'];
const TAGS = ['vip', 'newsletter', 'b2b', 'ramadan-offer', 'returning', 'wholesale', 'eid-campaign'];

function ownerOf(d: Draw, w: World) {
  const owner = d.pick(usersOf(w, 'sales', 'manager'));
  return { ownerId: owner.id, teamId: owner.teamIds[0] ?? null };
}

export function* companyRows(w: World): Generator<CompanyInsert> {
  const d = new Draw(w.seed, 'company');
  for (let i = 0; i < w.scale.companies; i++) {
    const gulf = isGulf(w, 'company', i);
    const { name, domain, country } = companyNameOf(d, i, gulf);
    const at = new Date(createdAtOf(w, 'company', i, w.scale.companies));
    const currency = gulf ? (country === 'KW' ? 'KWD' : country === 'AE' ? 'AED' : 'SAR') : 'EUR';
    const values = { name, domain };
    yield {
      id: companyId(w, i), createdAt: at, updatedAt: at, version: 1, deletedAt: null,
      name, domain, industry: d.pick(INDUSTRIES), employees: d.int(3, 5000),
      annualRevenue: fromMinor(minorOf(d.int(50, 50_000) * 1000, currency), currency), currency,
      phone: null, address: { city: d.pick(CITIES[country]!), country },
      tags: d.chance(0.3) ? [d.pick(TAGS)] : [], externalIds: hasErpId(w, i) ? { erp: erpIdOf(i) } : {},
      ...ownerOf(d, w), custom: {}, searchText: companySearchText(values), mergedIntoId: null, nameKey: companyNameKey(values),
    };
  }
}

/** half the companies come from the ERP with its customer number */
const hasErpId = (w: World, i: number) => trait(w, 'company', i, 8) < 0.5;
const erpIdOf = (i: number) => `C${String(100000 + i)}`;
/** a third of the contacts are shoppers of the web shop, known there by their customer id */
export const hasShopId = (w: World, i: number) => trait(w, 'contact', i, 8) < 0.33;
export const shopIdOf = (i: number) => String(8_000_000 + i);

/** contact `i` as generated: the same person whichever generator asks */
export function contactPerson(d: Draw, w: World, i: number) {
  const companyIndex = contactCompanyIndex(w, i);
  const gulf = isGulf(w, 'contact', i);
  const domain = companyIndex === undefined ? undefined : companyDomainOf(w, companyIndex);
  return { ...personOf(d, i, gulf, domain), companyIndex, gulf };
}

const companyDraws = new WeakMap<World, Draw>();
/** company `companyIndex`'s name and domain, as companyRows wrote them */
export function companyOf(w: World, companyIndex: number): CompanyName {
  let d = companyDraws.get(w);
  if (!d) companyDraws.set(w, (d = new Draw(w.seed, 'company')));
  return companyNameOf(d, companyIndex, isGulf(w, 'company', companyIndex));
}
const companyDomainOf = (w: World, companyIndex: number) => companyOf(w, companyIndex).domain;

export function* contactRows(w: World): Generator<ContactInsert> {
  const d = new Draw(w.seed, 'contact');
  for (let i = 0; i < w.scale.contacts; i++) {
    const p = contactPerson(d, w, i);
    const at = new Date(contactCreatedAt(w, i));
    const emailOptIn = emailOptedIn(w, i);
    const smsOptIn = d.chance(0.4);
    const values = { firstName: p.firstName, lastName: p.lastName, email: p.email, phone: p.phone, additionalEmails: [], additionalPhones: [] };
    yield {
      id: contactId(w, i), createdAt: at, updatedAt: at, version: 1, deletedAt: null,
      ...values, jobTitle: p.companyIndex === undefined ? null : d.en.person.jobTitle(),
      companyId: p.companyIndex === undefined ? null : companyId(w, p.companyIndex),
      address: { city: d.pick(CITIES[p.country]!), country: p.country },
      tags: d.chance(0.4) ? [d.pick(TAGS)] : [], lifecycleStage: d.weighted(LIFECYCLE), source: d.pick(SOURCES),
      externalIds: hasShopId(w, i) ? { shopify: shopIdOf(i) } : {},
      // consent was given on the sign-up form when the contact was created: both flags decided then
      emailOptIn, smsOptIn, consentSource: 'signup form', emailOptInAt: at, smsOptInAt: at,
      mergedIntoId: null, erasedAt: null, nameKey: contactNameKey(values),
      ...ownerOf(d, w), custom: {}, searchText: contactSearchText(values),
    };
  }
}

/** the external_ids side table, equal to the records' `externalIds` (platform/db/external-ids.ts) */
export function* externalIdRows(w: World) {
  for (let i = 0; i < w.scale.companies; i++) {
    if (hasErpId(w, i)) yield { entityType: 'company', system: 'erp', externalId: erpIdOf(i), entityId: companyId(w, i) };
  }
  for (let i = 0; i < w.scale.contacts; i++) {
    if (hasShopId(w, i)) yield { entityType: 'contact', system: 'shopify', externalId: shopIdOf(i), entityId: contactId(w, i) };
  }
}
