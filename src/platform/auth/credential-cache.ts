import { createHash } from 'node:crypto';
import type { Actor } from './actor.js';

// An API key used to cost every request a database lookup (and an UPDATE of last_used_at). Its
// actor is now kept for a short time, keyed by the key's SHA-256 (the key itself is never kept).
// Revocation through this process forgets the key at once; another process of a deployment
// (docs/scale-out.md) refuses it within API_KEY_CACHE_MS at the latest (docs/security.md).

/** How long a verified API key is trusted without asking the database again. */
export const API_KEY_CACHE_MS = 10_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  actor: Actor;
  /** the API key row's id: what revocation names */
  keyId: string;
  until: number;
}

export interface VerifiedKey {
  actor: Actor;
  keyId: string;
  /** the key's own expiry, if any: the cache never trusts it past that */
  expiresAt: Date | null;
}

export interface ApiKeyCache {
  /** the cached actor, or the result of `load` (cached when it is a valid key) */
  verify(key: string, load: () => Promise<VerifiedKey | undefined>): Promise<Actor | undefined>;
  /** forgets a key by its row id (revocation) */
  forget(keyId: string): void;
}

export function createApiKeyCache(o: { ttlMs?: number; now?: () => number; maxEntries?: number } = {}): ApiKeyCache {
  const ttl = o.ttlMs ?? API_KEY_CACHE_MS;
  const now = o.now ?? Date.now;
  const max = o.maxEntries ?? MAX_ENTRIES;
  // Map keeps insertion order: the first entry is the oldest, evicted when full
  const entries = new Map<string, Entry>();
  const hash = (key: string) => createHash('sha256').update(key).digest('base64');

  return {
    async verify(key, load) {
      const h = hash(key);
      const hit = entries.get(h);
      if (hit && hit.until > now()) return hit.actor;
      if (hit) entries.delete(h);
      const found = await load();
      if (!found) return undefined;
      const until = Math.min(now() + ttl, found.expiresAt?.getTime() ?? Infinity);
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(h, { actor: found.actor, keyId: found.keyId, until });
      return found.actor;
    },
    forget(keyId) {
      for (const [h, e] of entries) if (e.keyId === keyId) entries.delete(h);
    },
  };
}
