import { type EntityName, ENTITY, unitOf, uuidV7At } from './keys.js';
import type { Scale } from './scale.js';
import { type Currency, GULF_CURRENCIES } from './money.js';

// What every generator knows about the others: the seed, the scale, the time span, the people and
// the configuration rows, and pure functions from a row's index to its id, time and relations.

export const DAY = 86_400_000;

/**
 * A fixed trait of row `i` (its company, region, currency…), on numbers apart from the row's Draw
 * stream so the two never correlate.
 */
export const trait = (w: World, entity: EntityName, i: number, salt: number) => unitOf(w.seed, 1000 + ENTITY[entity], i, salt);
export const traitIndex = (n: number, w: World, entity: EntityName, i: number, salt: number) => Math.floor(trait(w, entity, i, salt) * n);
/** how far back the generated history reaches */
export const HISTORY_DAYS = 3 * 365;

export interface SeedUser { id: string; email: string; name: string; role: string; teamIds: string[] }
export interface SeedStage { id: string; name: string; probability: number; position: number; kind: 'open' | 'won' | 'lost' }
export interface SeedPipeline { id: string; name: string; stages: SeedStage[] }

export interface World {
  seed: number;
  scale: Scale;
  /** the end of the generated history (exclusive): rows are created in [start, until) */
  until: number;
  start: number;
  users: SeedUser[];
  byRole: Record<string, SeedUser[]>;
  pipelines: SeedPipeline[];
}

/** Row `i` of `n` is created at an evenly spread, jittered moment of the history: creation order = index order. */
export function createdAtOf(w: World, entity: EntityName, i: number, n: number): number {
  const slot = (w.until - w.start) / n;
  return Math.floor(w.start + (i + trait(w, entity, i, 1)) * slot);
}

export const idOf = (w: World, entity: EntityName, i: number, n: number) => uuidV7At(createdAtOf(w, entity, i, n), w.seed, entity, i);

export const companyId = (w: World, i: number) => idOf(w, 'company', i, w.scale.companies);
export const contactId = (w: World, i: number) => idOf(w, 'contact', i, w.scale.contacts);
export const contactCreatedAt = (w: World, i: number) => createdAtOf(w, 'contact', i, w.scale.contacts);

/** 70 % of people and companies are in the Gulf and carry Arabic names; the rest are European. */
export const isGulf = (w: World, entity: EntityName, i: number) => trait(w, entity, i, 2) < 0.7;

/** The company of contact `i`, or undefined (one in five works for no known company). */
export function contactCompanyIndex(w: World, i: number): number | undefined {
  if (trait(w, 'contact', i, 3) < 0.2) return undefined;
  // companies created before the contact, so the company existed when the contact joined it
  const before = Math.max(1, Math.floor((i / w.scale.contacts) * w.scale.companies));
  return traitIndex(before, w, 'contact', i, 4);
}

/** The currency a contact pays in: Gulf people in SAR, AED or KWD, Europeans in EUR, some in USD. */
export function contactCurrency(w: World, i: number): Currency {
  if (trait(w, 'contact', i, 5) < 0.1) return 'USD';
  return isGulf(w, 'contact', i) ? GULF_CURRENCIES[traitIndex(GULF_CURRENCIES.length, w, 'contact', i, 6)]! : 'EUR';
}

/** A contact that existed at `at`: drawn among those created before it. */
export function contactBefore(w: World, at: number, u: number): number {
  const share = Math.min(1, Math.max(0, (at - w.start) / (w.until - w.start)));
  return Math.min(w.scale.contacts - 1, Math.floor(u * Math.max(1, share * w.scale.contacts)));
}

/** contacts who agreed to email when they signed up: a trait, so campaigns know their audience */
export const emailOptedIn = (w: World, i: number) => trait(w, 'contact', i, 9) < 0.7;

export function usersOf(w: World, ...roles: string[]): SeedUser[] {
  return roles.flatMap((r) => w.byRole[r] ?? []);
}

export const iso = (ms: number) => new Date(ms);
