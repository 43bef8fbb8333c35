import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { queryRows } from '../db/execute.js';
import { type ErasureTarget, erasureCandidates, personalKeysOf, scrubSide } from '../audit/erasure.js';

interface EventCandidate { id: string; entity_type: string; entity_id: string; data: { before: unknown; after: unknown } }

/**
 * Removes the person's data from the outbox, so the change feed and webhook (re)deliveries no longer
 * carry it. Events keep their ids, types and order: readers still see that a change happened.
 */
export async function eraseFromEvents(tx: Executor, target: ErasureTarget): Promise<number> {
  const { rows } = await queryRows<EventCandidate>(tx, sql`
    SELECT id, entity_type, entity_id, data FROM events WHERE ${erasureCandidates(['data'], target)}`);
  const keysOf = personalKeysOf(target);
  let changed = 0;
  for (const r of rows) {
    const keys = keysOf(r.entity_type, r.entity_id);
    const before = scrubSide(r.data.before, keys, target.needles);
    const after = scrubSide(r.data.after, keys, target.needles);
    if (!before && !after) continue;
    const data = { before: before?.value ?? r.data.before, after: after?.value ?? r.data.after };
    await tx.execute(sql`UPDATE events SET data = ${JSON.stringify(data)}::jsonb WHERE id = ${r.id}`);
    changed += 1;
  }
  return changed;
}
