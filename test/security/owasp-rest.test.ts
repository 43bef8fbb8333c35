import { PassThrough } from 'node:stream';
import t, { type Test } from 'tap';
import type { InjectOptions } from 'fastify';
import { ROLES } from '../../src/platform/auth/actor.js';
import { startTestApp } from '../helpers/app.js';
import { expectedOutcome, restRule } from './support/access-rules.js';
import { badCredentials } from './support/bad-tokens.js';
import { changedTables, dbState } from './support/db-state.js';
import { scanLogText } from './support/log-scanner.js';
import { assertProblem } from './support/problem-checks.js';
import { requestMaker } from './support/requests.js';
import { FULL, sample } from './support/sampling.js';
import { type Operation, isWrite, loadOperations } from './support/route-table.js';
import { buildWorld } from './support/world.js';

// OWASP API Top 10 (2023) — API1 broken object level authorization, API2 broken authentication,
// API5 broken function level authorization — for every REST operation the server serves, crossed
// with {no token, a bad token, each role}, aimed at records of another team. The operations come
// from the served OpenAPI document and the expected answers from the declared role table, so a new
// route is in the matrix the day it is added. Each refusal is checked for its status, a problem+json
// body holding no record data, no audit row under its request id and, for writes, no change in any
// table. Calls a role is allowed are made too: reads must answer 200, writes must not be refused.
// The server logs every one of these calls at info, captured, and at the end the log must hold no
// credential and no personal data: the matrix is the broadest sample of the API the suite has.

const logLines: string[] = [];
const logStream = new PassThrough();
logStream.on('data', (chunk: Buffer) => logLines.push(chunk.toString('utf8')));
const h = await startTestApp({ env: { LOG_LEVEL: 'info' }, logStream });
t.teardown(() => h.close());
const world = await buildWorld(h);
const { document, operations } = await loadOperations(h);
const state = await dbState(h);
const make = requestMaker(document, world);
const bad = badCredentials(h);
const guarded = operations.filter((op) => op.path.startsWith('/v1/') && !op.open);

let sequence = 0;
const tally = { refusals: 0, allowedReads: 0, allowedWrites: 0 };

async function send(op: Operation, authorization: string | undefined, fingerprint = isWrite(op)) {
  const requestId = `owasp-rest-${++sequence}`;
  const base: InjectOptions = make(op);
  const headers = { ...(base.headers as Record<string, string> | undefined), 'x-request-id': requestId, ...(authorization ? { authorization } : {}) };
  const before = fingerprint ? await state.fingerprint() : undefined;
  const res = await h.request({ ...base, headers });
  return { res, requestId, before };
}

async function refusal(t: Test, op: Operation, authorization: string | undefined, status: number, code: string, label: string, fingerprint = isWrite(op)) {
  const { res, requestId, before } = await send(op, authorization, fingerprint);
  tally.refusals++;
  t.equal(res.statusCode, status, `${label}: ${status}${res.statusCode === status ? '' : ` (got ${res.statusCode}: ${res.body.slice(0, 200)})`}`);
  assertProblem(t, res, status, code, label);
  t.equal(await state.auditRows(requestId), 0, `${label}: no audit row`);
  if (before) t.same(changedTables(before, await state.fingerprint()), [], `${label}: no table changed`);
}

const CODE = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' } as const;

t.test('the route table is the whole REST surface', async (t) => {
  t.ok(guarded.length >= 190, `${guarded.length} guarded operations`);
  for (const op of guarded) t.doesNotThrow(() => restRule(op.method, op.path), `${op.method} ${op.path} has a resource`);
});

t.test('refusals: no token, bad tokens, roles the table refuses, other teams\' records', async (t) => {
  for (const [i, op] of guarded.entries()) {
    const name = `${op.method} ${op.path}`;
    const rule = restRule(op.method, op.path);
    // the auth hook answers these before any handler: the whole-database check is for the full form
    await refusal(t, op, undefined, 401, CODE[401], `${name} without a token`, FULL && isWrite(op));
    const credential = bad[i % bad.length]!;
    await refusal(t, op, credential.authorization, 401, CODE[401], `${name} with a token ${credential.what}`, FULL && isWrite(op));
    const refused = ROLES.map((role) => ({ role, outcome: expectedOutcome(rule, world.actors[role], world) })).filter((c) => c.outcome.status !== 'allowed');
    for (const { role, outcome } of sample(refused, i)) {
      if (outcome.status === 'allowed') continue;
      await refusal(t, op, world.actors[role].auth.authorization, outcome.status, CODE[outcome.status], `${name} as ${role}`);
    }
  }
});

t.test('allowed reads answer 200', async (t) => {
  for (const [i, op] of guarded.filter((o) => !isWrite(o)).entries()) {
    const allowed = ROLES.filter((role) => expectedOutcome(restRule(op.method, op.path), world.actors[role], world).status === 'allowed');
    for (const role of sample(allowed, i)) {
      const { res } = await send(op, world.actors[role].auth.authorization);
      tally.allowedReads++;
      t.equal(res.statusCode, 200, `${op.method} ${op.path} as ${role}${res.statusCode === 200 ? '' : `: ${res.body.slice(0, 200)}`}`);
    }
  }
});

t.test('allowed writes are not refused, and their bodies pass validation', async (t) => {
  // Run last: they change the fixtures (a delete, an erase). They may end in 404, 409 or 422 where
  // a sampled body names a record that does not exist; what matters here is that the role is let through.
  for (const [i, op] of guarded.filter(isWrite).entries()) {
    const allowed = ROLES.filter((role) => expectedOutcome(restRule(op.method, op.path), world.actors[role], world).status === 'allowed');
    for (const role of sample(allowed, i)) {
      const { res } = await send(op, world.actors[role].auth.authorization);
      tally.allowedWrites++;
      const label = `${op.method} ${op.path} as ${role} → ${res.statusCode}`;
      t.notOk([400, 401, 403].includes(res.statusCode) || res.statusCode >= 500, res.statusCode < 300 ? label : `${label}: ${res.body.slice(0, 200)}`);
    }
  }
});

t.test('the log of the whole matrix holds no credential and no personal data', async (t) => {
  // People are looked up by their data too: searches and filters put it in the query string.
  const sales = world.actors.sales.auth;
  const searches: Record<string, string>[] = [
    { q: 'fixture-contact@world.example' }, { q: '+966501234567' }, { 'filter[email][eq]': 'someone.else@world.example' },
    { 'filter[phone][eq]': '+966501234568' }, { 'filter[lastName][eq]': 'Contact', 'filter[email][in]': 'a@world.example,b@world.example' },
  ];
  for (const query of searches) t.equal((await h.request({ method: 'GET', url: '/v1/contacts', query, headers: sales })).statusCode, 200);
  await new Promise((r) => setImmediate(r));
  const text = logLines.join('');
  t.ok(text.split('\n').length > 2 * (tally.refusals + tally.allowedReads), 'every call was logged (request and response lines)');
  const known = new Map<string, string>([['password', 'world passphrase'], ['matrix password', 'a matrix passphrase']]);
  for (const [role, u] of Object.entries(world.actors)) known.set(`${role} token`, u.token);
  for (const b of bad) known.set(`token ${b.what}`, b.authorization.slice(7));
  const findings = scanLogText(text, known);
  t.same(findings.slice(0, 20), [], `${findings.length} secrets or personal data in ${text.length} bytes of log`);
});

t.test('figures', async (t) => {
  t.comment(`REST matrix (${FULL ? 'full' : 'quick'} form): ${guarded.length} operations, ${tally.refusals} refusals, ${tally.allowedReads} allowed reads, ${tally.allowedWrites} allowed writes`);
  t.ok(tally.refusals + tally.allowedReads + tally.allowedWrites >= 300, 'at least 300 cases');
});
