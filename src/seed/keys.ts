// Deterministic keys of generated rows. Every relation between generated rows is a pure function of
// (seed, entity, index): contact 812's id, creation time and company can be computed by any
// generator without keeping a million ids in memory, and the same --seed gives the same database.

/** A 32-bit integer hash (murmur3's finaliser) of any number of 32-bit inputs. */
export function mix32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A fraction in [0, 1) fixed by its inputs. */
export const unitOf = (...parts: number[]) => mix32(...parts) / 2 ** 32;

/** An integer in [0, n) fixed by its inputs. */
export const indexOf = (n: number, ...parts: number[]) => Math.floor(unitOf(...parts) * n);

/** Entity tags, one per generated table: part of every id, so ids of two entities never collide. */
export const ENTITY = {
  company: 1, contact: 2, deal: 3, activity: 4, ticket: 5, comment: 6, order: 7, orderLine: 8,
  lead: 9, loyalty: 10, feedback: 11, campaign: 12, recipient: 13, campaignEvent: 14, history: 15,
  pipeline: 16, stage: 17, slaPolicy: 18, segment: 19,
} as const;
export type EntityName = keyof typeof ENTITY;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * A UUID v7 (API.md §1: time-ordered) whose timestamp is `at` and whose random bits are the entity
 * tag, the seed and the row index: unique per (seed, entity, index), ordered by time like the ids
 * the service makes.
 */
export function uuidV7At(at: number, seed: number, entity: EntityName, index: number): string {
  const ms = hex(Math.max(0, Math.floor(at)), 12);
  const randA = hex(mix32(seed, ENTITY[entity], index) & 0xfff, 3);
  // variant 10xx, then 6 bits of entity tag and 8 of seed, then the index in 48 bits
  const variant = hex(0x8000 | ((ENTITY[entity] & 0x3f) << 8) | (seed & 0xff), 4);
  const tail = hex(index, 12);
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${randA}-${variant}-${tail}`;
}
