import t, { type Test } from 'tap';
import type { InjectOptions } from 'fastify';
import { sample } from 'openapi-sampler';
import { startTestApp } from '../helpers/app.js';
import { changedTables, dbState } from './support/db-state.js';
import { assertProblem } from './support/problem-checks.js';
import { requestMaker } from './support/requests.js';
import { FULL, sample as pick } from './support/sampling.js';
import { type JsonSchema, type OpenApiDocument, type Operation, loadOperations } from './support/route-table.js';
import { buildWorld } from './support/world.js';

// OWASP API3 (broken object property level authorization), generated from the served OpenAPI
// document: for every create and update whose answer is the record, each field the record has but
// the body may not carry (id, version, timestamps, computed fields) is sent in an otherwise valid
// body, and must be refused 400 naming it, with nothing written. Role-restricted fields (ownerId and
// teamId given to someone else) are sent by each role that may write the record but not them: 403
// naming the field, nothing written.

const h = await startTestApp();
t.teardown(() => h.close());
const world = await buildWorld(h);
const { document, operations } = await loadOperations(h);
const state = await dbState(h);
const make = requestMaker(document, world);
const admin = world.actors.admin;

function resolve(schema: JsonSchema | undefined, doc: OpenApiDocument): JsonSchema | undefined {
  const ref = schema?.$ref;
  if (typeof ref !== 'string') return schema;
  return doc.components?.schemas?.[ref.split('/').pop() ?? ''];
}
const propertiesOf = (s: JsonSchema | undefined) => Object.keys((s?.properties as Record<string, JsonSchema> | undefined) ?? {});

interface Target {
  op: Operation;
  readOnly: { field: string; value: unknown }[];
  writable: string[];
}

// Creates and updates that answer with the record: the record's fields minus the body's are read-only.
const targets: Target[] = operations
  .filter((op) => (op.method === 'POST' || op.method === 'PATCH') && op.body && op.success)
  .flatMap((op) => {
    const body = resolve(op.body, document);
    const record = resolve(op.success, document);
    const writable = propertiesOf(body);
    if (!writable.length || !propertiesOf(record).includes('id') || op.operationId.startsWith('batch')) return [];
    const recordProps = (record?.properties ?? {}) as Record<string, JsonSchema>;
    const readOnly = propertiesOf(record)
      .filter((f) => !writable.includes(f))
      .map((field) => ({ field, value: field === 'id' ? world.records.contacts : sample(recordProps[field] as never, { quiet: true }, document) ?? 'x' }));
    return [{ op, readOnly, writable }];
  });

let sequence = 0;
const tally = { readOnly: 0, restricted: 0 };

async function refusedWrite(t: Test, request: InjectOptions, status: number, code: string, field: string, label: string) {
  const requestId = `mass-${++sequence}`;
  const before = await state.fingerprint();
  const res = await h.request({ ...request, headers: { ...(request.headers as Record<string, string>), 'x-request-id': requestId } });
  t.equal(res.statusCode, status, `${label}: ${status}${res.statusCode === status ? '' : ` (got ${res.statusCode}: ${res.body.slice(0, 200)})`}`);
  assertProblem(t, res, status, code, label);
  const paths = ((res.json().errors ?? []) as { path: string }[]).map((e) => e.path);
  t.ok(paths.includes(field), `${label}: names ${field} (${paths.join(', ')})`);
  t.equal(await state.auditRows(requestId), 0, `${label}: no audit row`);
  t.same(changedTables(before, await state.fingerprint()), [], `${label}: no table changed`);
}

t.test('read-only and computed fields in any write body are refused', async (t) => {
  t.ok(targets.length >= 40, `${targets.length} create and update operations`);
  for (const [i, { op, readOnly }] of targets.entries()) {
    const base = make(op);
    // id and version in every body; the other read-only fields rotate in the quick form
    const always = readOnly.filter((r) => r.field === 'id' || r.field === 'version');
    const others = readOnly.filter((r) => r.field !== 'id' && r.field !== 'version');
    for (const { field, value } of [...always, ...pick(others, i, 2)]) {
      tally.readOnly++;
      const payload = { ...(base.payload as Record<string, unknown>), [field]: value };
      await refusedWrite(t, { ...base, headers: admin.auth, payload }, 400, 'validation_failed', field, `${op.operationId} with ${field}`);
    }
  }
});

t.test('ownerId and teamId of others are refused to roles that may write the record but not give it away', async (t) => {
  const owned = targets.filter((x) => x.writable.includes('ownerId') && x.op.method === 'POST');
  t.ok(owned.length >= 4, `${owned.length} creates of owned records`);
  // roles that write customers or leads without being managerial
  const writers = (['sales', 'support', 'marketing'] as const).map((r) => world.actors[r]);
  for (const [i, { op }] of owned.entries()) {
    for (const caller of pick(writers, i, 2)) {
      const base = make(op);
      const probe = await h.request({ ...base, headers: caller.auth });
      if (probe.statusCode === 403 && (probe.json().errors ?? []).length === 0) continue; // the role may not create these at all
      if (probe.statusCode === 201 && op.path.split('/').length === 3) {
        // the created record is the caller's own: updating it is allowed, giving it away is not
        const patch = operations.find((o) => o.method === 'PATCH' && o.path === `${op.path}/{id}`);
        if (patch) {
          const url = `${op.path}/${probe.json().id}`;
          tally.restricted += 2;
          await refusedWrite(t, { method: 'PATCH', url, headers: caller.auth, payload: { ownerId: world.ownerB.id } }, 403, 'forbidden', 'ownerId', `${patch.operationId} as ${caller.role}: ownerId`);
          await refusedWrite(t, { method: 'PATCH', url, headers: caller.auth, payload: { teamId: world.teamB } }, 403, 'forbidden', 'teamId', `${patch.operationId} as ${caller.role}: teamId`);
        }
      }
      tally.restricted += 2;
      const payload = base.payload as Record<string, unknown>;
      await refusedWrite(t, { ...base, headers: caller.auth, payload: { ...payload, ownerId: world.ownerB.id } }, 403, 'forbidden', 'ownerId', `${op.operationId} as ${caller.role}: ownerId`);
      await refusedWrite(t, { ...base, headers: caller.auth, payload: { ...payload, teamId: world.teamB } }, 403, 'forbidden', 'teamId', `${op.operationId} as ${caller.role}: teamId`);
    }
  }
});

t.test('figures', async (t) => {
  t.comment(`mass assignment (${FULL ? 'full' : 'quick'} form): ${targets.length} operations, ${tally.readOnly} read-only field cases, ${tally.restricted} role-restricted field cases`);
  t.ok(tally.readOnly + tally.restricted > 100);
});
