import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { AppError, validationFailed } from '../errors/app-error.js';
import { idempotencyKeys } from './idempotency.table.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { principal: string; key: string };
  }
}

const TTL_HOURS = 24;
const WAIT_MS = 10_000;
/** a claim this old belongs to a process that died mid-request; it may be taken over */
const STALE_MS = 120_000;
const REPLAYED_HEADERS = ['content-type', 'location', 'etag'];

const hashOf = (method: string, url: string, body: unknown) =>
  createHash('sha256').update(`${method} ${url}\n${JSON.stringify(body ?? null)}`).digest('hex');

/**
 * `Idempotency-Key` on POST (API.md §3): the first request claims the key, later ones with the same
 * body get its reply replayed, with another body a 422; one arriving while the first still runs
 * waits for it, and gets 409 if it takes too long. The claim is a row, so this holds across processes.
 */
export const idempotencyPlugin = fp<{ db: Executor }>(async (app, { db }) => {
  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (request.method !== 'POST' || key === undefined || !request.actor) return;
    if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
      throw validationFailed([{ path: 'Idempotency-Key', message: 'must be 1 to 255 characters' }]);
    }
    const principal = `${request.actor.type}:${request.actor.id}`;
    const hash = hashOf(request.method, request.url, request.body);
    const where = and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key));
    await db.delete(idempotencyKeys).where(and(where, lt(idempotencyKeys.expiresAt, sql`now()`)));

    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const claimed = await db
        .insert(idempotencyKeys)
        .values({ principal, key, requestHash: hash, state: 'in_progress', expiresAt: sql`now() + interval '${sql.raw(String(TTL_HOURS))} hours'` })
        .onConflictDoNothing()
        .returning({ key: idempotencyKeys.key });
      if (claimed.length) {
        request.idempotency = { principal, key };
        return;
      }
      const [prior] = await db.select().from(idempotencyKeys).where(where);
      if (!prior) continue; // expired and removed between our two statements: claim again
      if (prior.requestHash !== hash) {
        throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used with another request');
      }
      if (prior.state === 'completed') {
        const headers = prior.responseHeaders ?? {};
        for (const [h, v] of Object.entries(headers)) reply.header(h, v);
        reply.header('idempotent-replayed', 'true');
        return reply.code(prior.responseStatus ?? 200).send(prior.responseBody ?? '');
      }
      if (Date.now() - prior.createdAt.getTime() > STALE_MS) {
        await db.delete(idempotencyKeys).where(and(where, eq(idempotencyKeys.state, 'in_progress')));
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError('conflict', 'A request with this Idempotency-Key is still being processed; retry later');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = undefined;
    const where = and(eq(idempotencyKeys.principal, claim.principal), eq(idempotencyKeys.key, claim.key));
    if (reply.statusCode >= 500) {
      // nothing was acknowledged: free the key so the client's retry runs for real
      await db.delete(idempotencyKeys).where(where).catch(() => undefined);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) {
      const v = reply.getHeader(h);
      if (v !== undefined) headers[h] = String(v);
    }
    // If the reply cannot be stored (database gone), the claim stays in_progress and later turns
    // stale; the client then re-runs the request, which is the safe side for a reply it never got.
    await db
      .update(idempotencyKeys)
      .set({
        state: 'completed',
        responseStatus: reply.statusCode,
        responseHeaders: headers,
        responseBody: typeof payload === 'string' ? payload : payload == null ? '' : String(payload),
      })
      .where(where)
      .catch((err: unknown) => request.log.warn({ err }, 'could not store idempotent reply'));
    return payload;
  });
});
