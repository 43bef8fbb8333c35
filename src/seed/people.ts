import type { Draw } from './draw.js';
import { ARABIC_COMPANY_KINDS, ARABIC_FAMILY_NAMES, ARABIC_FEMALE_NAMES, ARABIC_MALE_NAMES } from './names.js';
import { EUROPEAN_PLANS, GULF_PLANS, phoneFrom } from './phones.js';

// A person or company as generated: names in Arabic or a European language, a Latin email local
// part, an E.164 mobile. Emails and domains end in `.example` (RFC 2606), so no demo message can
// ever reach a real mailbox; the row index in them keeps them unique among live records.

export interface Person {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  country: string;
}

const ascii = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '');

export function personOf(d: Draw, i: number, gulf: boolean, domain: string | undefined): Person {
  d.at(i);
  let first: string; let last: string; let latinFirst: string; let latinLast: string; let country: string; let phone: string;
  if (gulf) {
    const f = d.chance(0.5) ? d.pick(ARABIC_MALE_NAMES) : d.pick(ARABIC_FEMALE_NAMES);
    const l = d.pick(ARABIC_FAMILY_NAMES);
    [first, last, latinFirst, latinLast] = [f.ar, l.ar, f.latin, l.latin];
    const plan = d.weighted(GULF_PLANS.map((p, k) => [p, k < 3 ? 5 : 1] as const));
    [country, phone] = [plan.country, phoneFrom(d, plan)];
  } else {
    const plan = d.pick(EUROPEAN_PLANS);
    const faker = plan.country === 'DE' ? d.de : plan.country === 'FR' ? d.fr : d.en;
    [first, last] = [faker.person.firstName(), faker.person.lastName()];
    [latinFirst, latinLast] = [ascii(first), ascii(last)];
    [country, phone] = [plan.country, phoneFrom(d, plan)];
  }
  const host = domain && d.chance(0.6) ? domain : 'mail.example';
  return { firstName: first, lastName: last, email: `${latinFirst}.${latinLast}.${i}@${host}`, phone, country };
}

export interface CompanyName { name: string; domain: string; country: string }

export function companyNameOf(d: Draw, i: number, gulf: boolean): CompanyName {
  d.at(i);
  if (gulf) {
    const family = d.pick(ARABIC_FAMILY_NAMES);
    const kind = d.pick(ARABIC_COMPANY_KINDS);
    const country = d.pick(['SA', 'SA', 'SA', 'AE', 'AE', 'KW', 'BH', 'QA', 'OM']);
    return { name: `شركة ${family.ar} ${kind.ar}`, domain: `${family.latin}-${kind.latin}-${i}.example`, country };
  }
  const name = d.en.company.name();
  return { name, domain: `${ascii(name).slice(0, 30)}-${i}.example`, country: d.pick(['DE', 'GB', 'FR', 'ES', 'IT', 'NL']) };
}
