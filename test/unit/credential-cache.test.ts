import t from 'tap';
import type { Actor } from '../../src/platform/auth/actor.js';
import { API_KEY_CACHE_MS, createApiKeyCache, type VerifiedKey } from '../../src/platform/auth/credential-cache.js';

// The API-key cache (docs/security.md): a valid key is trusted for at most API_KEY_CACHE_MS without
// asking the database, never past its own expiry, and forgotten at once when this process revokes it.

const actor: Actor = { type: 'api_key', id: 'k1', role: 'viewer', teamIds: [] };

function fixture(o: { maxEntries?: number } = {}) {
  let clock = 1_000_000;
  const db = new Map<string, VerifiedKey>([['crm_one', { actor, keyId: 'k1', expiresAt: null }]]);
  let lookups = 0;
  const cache = createApiKeyCache({ now: () => clock, ...o });
  const verify = (key: string) => cache.verify(key, async () => (lookups++, db.get(key)));
  return { cache, db, verify, advance: (ms: number) => void (clock += ms), lookups: () => lookups, now: () => clock };
}

t.test('a valid key is looked up once within the bound, again after it', async (t) => {
  const f = fixture();
  t.same(await f.verify('crm_one'), actor);
  t.same(await f.verify('crm_one'), actor);
  t.equal(f.lookups(), 1, 'the second request did not ask the database');
  f.advance(API_KEY_CACHE_MS + 1);
  t.same(await f.verify('crm_one'), actor);
  t.equal(f.lookups(), 2, 'asked again once the bound passed');
});

t.test('a key revoked elsewhere (another process) is refused within the bound', async (t) => {
  const f = fixture();
  t.same(await f.verify('crm_one'), actor);
  f.db.delete('crm_one'); // the other process revoked it: the database no longer accepts it
  f.advance(API_KEY_CACHE_MS + 1);
  t.equal(await f.verify('crm_one'), undefined);
});

t.test('revocation in this process is at once', async (t) => {
  const f = fixture();
  t.same(await f.verify('crm_one'), actor);
  f.db.delete('crm_one');
  f.cache.forget('k1');
  t.equal(await f.verify('crm_one'), undefined);
});

t.test('never trusted past the key\'s own expiry', async (t) => {
  const f = fixture();
  f.db.set('crm_soon', { actor, keyId: 'k2', expiresAt: new Date(f.now() + 1000) });
  t.same(await f.verify('crm_soon'), actor);
  f.db.delete('crm_soon'); // expired: the database lookup refuses it from now on
  f.advance(1001);
  t.equal(await f.verify('crm_soon'), undefined);
});

t.test('invalid keys are not remembered, and the cache is bounded', async (t) => {
  const f = fixture({ maxEntries: 2 });
  t.equal(await f.verify('crm_nope'), undefined);
  f.db.set('crm_nope', { actor, keyId: 'k3', expiresAt: null }); // created afterwards
  t.same(await f.verify('crm_nope'), actor, 'a refusal is not cached');
  f.db.set('crm_two', { actor, keyId: 'k4', expiresAt: null });
  await f.verify('crm_one');
  await f.verify('crm_two'); // evicts the oldest (crm_nope)
  const before = f.lookups();
  await f.verify('crm_nope');
  t.equal(f.lookups(), before + 1, 'the evicted key was looked up again');
});
