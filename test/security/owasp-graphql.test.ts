import t, { type Test } from 'tap';
import { ROLES } from '../../src/platform/auth/actor.js';
import { startTestApp } from '../helpers/app.js';
import { expectedOutcome, restRule } from './support/access-rules.js';
import { badCredentials } from './support/bad-tokens.js';
import { changedTables, dbState } from './support/db-state.js';
import { type GraphqlOperation, graphqlOperations } from './support/graphql-operations.js';
import { assertGraphqlRefusal } from './support/problem-checks.js';
import { loadOperations } from './support/route-table.js';
import { FULL, sample } from './support/sampling.js';
import { buildWorld } from './support/world.js';

// The OWASP matrix through the other door: every root query and mutation of schema.graphql ×
// {no token, a bad token, each role}, expected to answer as its REST twin does (same services, same
// role table): refused with the same code and status, no data, no audit row, no table changed.

const h = await startTestApp();
t.teardown(() => h.close());
const world = await buildWorld(h);
const { operations: rest } = await loadOperations(h);
const { operations, unmatched } = graphqlOperations(rest, world);
const state = await dbState(h);
const bad = badCredentials(h);

let sequence = 0;
const tally = { refusals: 0, allowedQueries: 0, allowedMutations: 0 };
const CODE = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' } as const;

async function send(op: GraphqlOperation, authorization: string | undefined, fingerprint = op.kind === 'mutation') {
  const requestId = `owasp-gql-${++sequence}`;
  const before = fingerprint ? await state.fingerprint() : undefined;
  const res = await h.request({
    method: 'POST', url: '/graphql', headers: { 'x-request-id': requestId, ...(authorization ? { authorization } : {}) },
    payload: { query: op.document, variables: op.variables },
  });
  return { res, requestId, before };
}

async function refusal(t: Test, op: GraphqlOperation, authorization: string | undefined, status: 401 | 403 | 404, label: string, httpStatus?: number, fingerprint = op.kind === 'mutation') {
  const { res, requestId, before } = await send(op, authorization, fingerprint);
  tally.refusals++;
  if (httpStatus) t.equal(res.statusCode, httpStatus, `${label}: HTTP ${httpStatus}`);
  assertGraphqlRefusal(t, res, status, CODE[status], label);
  t.equal(await state.auditRows(requestId), 0, `${label}: no audit row`);
  if (before) t.same(changedTables(before, await state.fingerprint()), [], `${label}: no table changed`);
}

const guarded = operations.filter((op) => !op.twin.open);

t.test('every root field has a REST twin that gives its rule', async (t) => {
  t.same(unmatched, [], 'no query or mutation without a twin');
  t.ok(guarded.length >= 180, `${guarded.length} guarded operations`);
});

t.test('refusals: no token, bad tokens, roles the table refuses, other teams\' records', async (t) => {
  for (const [i, op] of guarded.entries()) {
    const rule = restRule(op.twin.method, op.twin.path);
    // no token reaches the resolver, which refuses the anonymous caller (GraphQL's login needs none)
    await refusal(t, op, undefined, 401, `${op.field} without a token`);
    const credential = bad[i % bad.length]!;
    // the auth hook answers a bad token before GraphQL runs: the whole-database check is for the full form
    await refusal(t, op, credential.authorization, 401, `${op.field} with a token ${credential.what}`, 401, FULL && op.kind === 'mutation');
    const refused = ROLES.map((role) => ({ role, outcome: expectedOutcome(rule, world.actors[role], world) })).filter((c) => c.outcome.status !== 'allowed');
    for (const { role, outcome } of sample(refused, i)) {
      if (outcome.status === 'allowed') continue;
      await refusal(t, op, world.actors[role].auth.authorization, outcome.status, `${op.field} as ${role}`);
    }
  }
});

t.test('allowed queries answer without errors; allowed mutations are not refused', async (t) => {
  const ordered = [...guarded.filter((o) => o.kind === 'query'), ...guarded.filter((o) => o.kind === 'mutation')];
  for (const [i, op] of ordered.entries()) {
    const allowed = ROLES.filter((role) => expectedOutcome(restRule(op.twin.method, op.twin.path), world.actors[role], world).status === 'allowed');
    for (const role of sample(allowed, i)) {
      const { res } = await send(op, world.actors[role].auth.authorization);
      const errors = (res.json() as { errors?: { message: string; extensions?: { code?: string } }[] }).errors ?? [];
      if (op.kind === 'query') {
        tally.allowedQueries++;
        t.same(errors.map((e) => e.extensions?.code ?? e.message), [], `${op.field} as ${role}`);
      } else {
        tally.allowedMutations++;
        const code = errors[0]?.extensions?.code;
        t.notOk(code === 'forbidden' || code === 'unauthenticated' || code === 'internal_error', `${op.field} as ${role}: ${code ?? 'ok'}`);
      }
    }
  }
});

t.test('figures', async (t) => {
  t.comment(`GraphQL matrix (${FULL ? 'full' : 'quick'} form): ${guarded.length} operations, ${tally.refusals} refusals, ${tally.allowedQueries} allowed queries, ${tally.allowedMutations} allowed mutations`);
  t.ok(tally.refusals + tally.allowedQueries + tally.allowedMutations >= 300, 'at least 300 cases');
});
