import t from 'tap';
import { and, eq } from 'drizzle-orm';
import type { z } from 'zod';
import { startTestApp } from '../helpers/app.js';
import { createModules } from '../../src/app.js';
import type { Executor } from '../../src/platform/db/client.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';
import type { CustomerServices } from '../../src/modules/customer/index.js';
import type { PipelineServices } from '../../src/modules/pipeline/index.js';
import { createImportService } from '../../src/modules/integration/import.service.js';
import { ENTITY_SPECS } from '../../src/modules/integration/import.schema.js';
import { importRows, imports as importTable } from '../../src/modules/integration/import.table.js';
import { ContactCreate } from '../../src/modules/customer/contact.schema.js';
import { CompanyCreate } from '../../src/modules/customer/company.schema.js';
import { OrderCreate } from '../../src/modules/customer/order.schema.js';
import { LeadCreate } from '../../src/modules/pipeline/lead.schema.js';
import { DealCreate } from '../../src/modules/pipeline/deal.schema.js';

// Bulk imports (API.md §5 Integration, §5b Imports): CSV/NDJSON stored before the 202, applied by the
// worker through each entity's batch service; per-row errors with row numbers; roles; resumption.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db as Executor;
const admin = h.user('admin');
const manager = h.user('manager');
const team = '01900000-0000-7000-8000-0000000000aa';
const sales = h.user('sales', { teamIds: [team] });
const support = h.user('support');
const marketing = h.user('marketing');
const viewer = h.user('viewer');
type Who = ReturnType<typeof h.user>;

// The worker as the server runs it (registered by the integration module), and a service of our own
// for passes with test options (a crash after one chunk).
const { all } = createModules({ config: h.config, db, signAccessToken: (c) => h.app.jwt.sign(c) });
const [, customer, pipeline] = all as unknown as [unknown, { services: CustomerServices }, { services: PipelineServices }];
const worker = all.flatMap((m) => m.workers ?? []).find((w) => w.name === 'imports');
const imports = createImportService({ db, customer: customer.services, pipeline: pipeline.services });
async function drain() {
  while ((await worker!.run(db)) > 0);
}

const req = (method: 'GET' | 'POST', url: string, payload?: unknown, who: Who | null = admin, headers: Record<string, string> = {}) =>
  h.request({ method, url, headers: { ...(who?.auth ?? {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as string }) });
const upload = (entity: string, idProperty: string, body: string, who: Who | null = admin, type = 'text/csv', headers: Record<string, string> = {}) =>
  req('POST', `/v1/imports?entity=${entity}&idProperty=${encodeURIComponent(idProperty)}`, body, who, { 'content-type': type, ...headers });

async function imported(entity: string, idProperty: string, body: string, who: Who = admin, type = 'text/csv') {
  const res = await upload(entity, idProperty, body, who, type);
  if (res.statusCode !== 202) throw new Error(`import refused: ${res.body}`);
  await drain();
  return (await req('GET', `/v1/imports/${res.json().id}`, undefined, who)).json();
}
async function created(url: string, body: Record<string, unknown>) {
  const res = await req('POST', url, JSON.stringify(body), admin, { 'content-type': 'application/json' });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.body}`);
  return res.json();
}
const byEmail = async (email: string) =>
  (await req('GET', `/v1/contacts?filter[email][eq]=${encodeURIComponent(email)}`)).json().data as Record<string, any>[];

// Defined before any worker pass: the worker's services (another instance, as another process would
// be) cache definitions for 2 s.
for (const [key, type, options] of [['tier', 'select', ['gold', 'silver']], ['visits', 'number'], ['vip', 'boolean'], ['topics', 'multiselect', ['a', 'b', 'c']]] as const) {
  await created('/v1/custom-fields', { entity: 'contact', key, label: key, type, ...(options ? { options } : {}) });
}

t.test('the column tables list exactly the writable fields of each entity\'s create input', async (t) => {
  const writable = (s: z.ZodObject) =>
    Object.entries(s.shape).filter(([, f]) => !/^read-only/.test((f as z.ZodType).description ?? (f as any).unwrap?.().description ?? '')).map(([k]) => k).sort();
  const schemas = { contacts: ContactCreate, companies: CompanyCreate, orders: OrderCreate, leads: LeadCreate, deals: DealCreate };
  for (const [entity, schema] of Object.entries(schemas)) {
    t.same(Object.keys(ENTITY_SPECS[entity as keyof typeof schemas].columns).sort(), writable(schema as unknown as z.ZodObject), entity);
  }
});

t.test('a messy CSV: BOM, CRLF, quotes, embedded newlines, blank lines, Arabic; stored before 202, then applied', async (t) => {
  const csv = '\uFEFFfirstName,lastName,email,jobTitle,tags,address.city,externalIds.shop,emailOptIn\r\n'
    + 'محمد,العلي,mohammed@import.test,"Head of ""Sales"", MENA",vip;ar,الرياض,m-1,true\r\n'
    + '\r\n'
    + 'Ana,"Multi\r\nLine",ana@import.test,,"[""a"",""b""]",,,\r\n'
    + ',,,,,,,\r\n'
    + 'Bad,Email,not-an-email,,,,,\r\n'
    + 'Too,Many,cells@import.test,,,,,,extra\r\n'
    + 'Noemail,Person,,,,,,no\r\n';
  const res = await upload('contacts', 'email', csv);
  t.equal(res.statusCode, 202);
  const { id } = res.json();
  t.same(res.json(), { id, status: 'queued' });
  t.equal(res.headers.location, `/v1/imports/${id}`);
  const before = (await req('GET', `/v1/imports/${id}`)).json();
  t.match(before, { id, entity: 'contacts', idProperty: 'email', format: 'csv', status: 'queued', totalRows: 5, processed: 0, errors: [] });
  t.equal((await db.select().from(importRows).where(eq(importRows.importId, id))).length, 5, 'rows stored before the answer');

  await drain();
  const job = (await req('GET', `/v1/imports/${id}`)).json();
  t.match(job, { status: 'completed', totalRows: 5, processed: 5, created: 2, updated: 0, failed: 3 });
  t.ok(job.startedAt && job.finishedAt);
  t.match(job.errors, [
    { row: 3, message: /email: must be an email address/ },
    { row: 4, message: /9 cells; the header has 8/ },
    { row: 5, message: /email: is required to match by email/ },
  ], 'rows count from 1, blank lines not counted');
  t.equal(job.errors.length, 3);
  const [m] = await byEmail('mohammed@import.test');
  t.match(m, {
    firstName: 'محمد', lastName: 'العلي', jobTitle: 'Head of "Sales", MENA', tags: ['vip', 'ar'], address: { city: 'الرياض' },
    externalIds: { shop: 'm-1' }, emailOptIn: true, ownerId: admin.id,
  });
  const [ana] = await byEmail('ana@import.test');
  t.match(ana, { lastName: 'Multi\r\nLine', tags: ['a', 'b'], jobTitle: null }, 'empty cells are absent');
  t.same((await req('GET', '/v1/contacts?filter[lastName][eq]=Person')).json().data, [], 'a row without its key is refused');
  t.equal((await db.select().from(importRows).where(eq(importRows.importId, id))).length, 0, 'applied rows are removed');
});

t.test('upserting the same file twice updates, never duplicates; NDJSON rows and their errors', async (t) => {
  const ndjson = [
    '\uFEFF{"name":"Acme","domain":"acme.import.test","employees":10,"tags":["a"]}',
    '',
    '{"name":"Beta","domain":"BETA.import.test","custom":{"nope":1}}',
    '{"name": broken',
    '[1,2]',
    '{"name":"Gamma","domain":"gamma.import.test","address":{"city":"دبي"}}\r',
  ].join('\n');
  const first = await imported('companies', 'domain', ndjson, admin, 'application/x-ndjson');
  t.match(first, { format: 'ndjson', status: 'completed', totalRows: 5, created: 2, updated: 0, failed: 3 });
  t.match(first.errors, [
    { row: 2, message: /custom\.nope: is not a defined custom field/ },
    { row: 3, message: 'is not valid JSON' },
    { row: 4, message: 'is not a JSON object' },
  ]);
  const again = await imported('companies', 'domain', ndjson.replace('"employees":10', '"employees":12'), admin, 'application/x-ndjson');
  t.match(again, { status: 'completed', created: 0, updated: 2, failed: 3 }, 'matched by domain: updated (changed or not)');
  const acme = (await req('GET', '/v1/companies?filter[domain][in]=acme.import.test,gamma.import.test&sort=domain')).json().data;
  t.match(acme, [{ name: 'Acme', employees: 12, version: 2 }, { name: 'Gamma', address: { city: 'دبي' }, version: 1 }]);
  t.equal(acme.length, 2, 'no duplicates');

  const csv = 'email,firstName\ntwice@import.test,One\n';
  t.match(await imported('contacts', 'email', csv), { created: 1, updated: 0 });
  t.match(await imported('contacts', 'email', csv.replace('One', 'Two')), { created: 0, updated: 1 });
  t.match(await byEmail('twice@import.test'), [{ firstName: 'Two', version: 2 }]);

  const nul = await imported('contacts', 'email', 'email,firstName\nnul1@import.test,A\u0000B\nnul2@import.test,Fine\n');
  t.match(nul, { status: 'completed', created: 1, failed: 1, errors: [{ row: 1, message: /NUL character/ }] }, 'a NUL is that row\'s error, not a 500');
  const nulJson = await imported('contacts', 'email', '{"email":"nul3@import.test","firstName":"A\\u0000B"}\n', admin, 'application/x-ndjson');
  t.match(nulJson, { failed: 1, errors: [{ row: 1, message: /NUL character/ }] });
});

t.test('natural keys: companyDomain and contactEmail resolve to ids; an unknown key is a row error', async (t) => {
  const company = await created('/v1/companies', { name: 'Keyed', domain: 'keyed.import.test' });
  const c1 = await created('/v1/contacts', { firstName: 'K1', email: 'k1@import.test' });
  const c2 = await created('/v1/contacts', { firstName: 'K2', email: 'k2@import.test' });
  const contacts = await imported('contacts', 'externalId.crm', 'externalIds.crm,firstName,companyDomain\n'
    + 'x1,Linked,KEYED.import.test\nx2,Lost,nowhere.import.test\n');
  t.match(contacts, { created: 1, failed: 1, errors: [{ row: 2, message: 'companyDomain: no live company has the domain nowhere.import.test' }] });
  t.match((await req('GET', '/v1/contacts?filter[firstName][eq]=Linked')).json().data, [{ companyId: company.id, externalIds: { crm: 'x1' } }]);

  const orders = await imported('orders', 'externalId', 'externalId,contactEmail,total,currency,lines\n'
    + 'o-1,K1@import.test,10.00,EUR,"[{""name"":""Pen"",""quantity"":2,""unitPrice"":""5.00""}]"\n'
    + 'o-2,ghost@import.test,1.00,EUR,\n'
    + 'o-3,k2@import.test,1.00,EUR,"[oops"\n');
  t.match(orders, { created: 1, failed: 2 });
  t.match(orders.errors, [{ row: 2, message: /contactEmail: no live contact has the email ghost@import.test/ }, { row: 3, message: 'lines: is not valid JSON' }]);
  t.match((await req('GET', '/v1/orders?filter[externalId][eq]=o-1')).json().data, [{ contactId: c1.id, total: '10.00' }]);

  const p = await created('/v1/pipelines', { name: 'Imports', stages: [{ name: 'New', probability: 10 }] });
  const deals = await imported('deals', 'id', `name,pipelineId,stageId,amount,currency,companyDomain,contactEmail\n`
    + `Big,${p.id},${p.stages[0].id},100.00,EUR,keyed.import.test,k1@import.test;k2@import.test\n`
    + `Bad,${p.id},${p.stages[0].id},,,,nobody@import.test\n`);
  t.match(deals, { created: 1, failed: 1, errors: [{ row: 2, message: /contactEmail: no live contact/ }] });
  t.match((await req('GET', '/v1/deals?filter[name][eq]=Big')).json().data, [{ companyId: company.id, contactIds: [c1.id, c2.id], amount: '100.00' }]);
  const both = await imported('contacts', 'email', `email,companyId,companyDomain\nboth@import.test,${company.id},keyed.import.test\n`);
  t.match(both.errors, [{ row: 1, message: 'companyDomain: give companyId or companyDomain, not both' }]);
  t.equal(c2.email, 'k2@import.test');
});

t.test('custom.<key> columns fill custom, typed by the field\'s definition', async (t) => {
  const job = await imported('contacts', 'email', 'email,custom.tier,custom.visits,custom.vip,custom.topics\n'
    + 'custom1@import.test,gold,12,yes,a;c\ncustom2@import.test,bronze,many,,\ncustom3@import.test,,,,\n');
  t.match(job, { created: 2, failed: 1, errors: [{ row: 2, message: /custom\.tier: .*gold, silver.*custom\.visits: must be a finite number/ }] });
  t.match(await byEmail('custom1@import.test'), [{ custom: { tier: 'gold', visits: 12, vip: true, topics: ['a', 'c'] } }]);
  t.same((await byEmail('custom3@import.test'))[0]!.custom, {}, 'empty custom cells are absent');
});

t.test('idProperty=id: a row with an id updates that record, a row without one creates', async (t) => {
  const existing = await created('/v1/contacts', { firstName: 'Before', email: 'byid@import.test' });
  const job = await imported('contacts', 'id', `id,firstName,lastName\n${existing.id},After,\n,New,ById\n01900000-0000-7000-8000-00000000dead,Ghost,\nnot-a-uuid,Bad,\n`);
  t.match(job, { created: 1, updated: 1, failed: 2 });
  t.match(job.errors, [{ row: 3, message: 'Contact not found' }, { row: 4, message: /id: must be a UUID/ }]);
  t.match(await byEmail('byid@import.test'), [{ id: existing.id, firstName: 'After', version: 2 }]);
  t.match((await req('GET', '/v1/contacts?filter[lastName][eq]=ById')).json().data, [{ firstName: 'New' }]);
});

t.test('a job whose starter may no longer write fails as a whole, with the reason', async (t) => {
  await drain();
  const res = await upload('contacts', 'email', 'email\nfails@import.test\n');
  const id = res.json().id;
  // as if the API key had been re-issued with a read-only role before the worker got to it
  await db.update(importTable).set({ actor: { type: 'api_key', id: admin.id, role: 'viewer', teamIds: [] } }).where(eq(importTable.id, id));
  await drain();
  const job = (await req('GET', `/v1/imports/${id}`)).json();
  t.match(job, { status: 'failed', failure: /viewer role may not change customers/, processed: 0, created: 0 });
  t.ok(job.finishedAt);
  t.same(await byEmail('fails@import.test'), []);
  t.equal((await db.select().from(importRows).where(eq(importRows.importId, id))).length, 0, 'its rows are dropped');
});

t.test('a file that cannot be imported is a 400 and nothing is stored', async (t) => {
  const jobs = async () => (await db.select().from(importTable)).length;
  const before = await jobs();
  const unknown = await upload('contacts', 'email', 'email,shoeSize,custom.nope,address.planet\na@import.test,42,x,Mars\n');
  t.equal(unknown.statusCode, 400);
  t.match(unknown.json(), {
    code: 'validation_failed',
    errors: [
      { path: 'shoeSize', message: 'is not a field of contacts' },
      { path: 'custom.nope', message: 'is not a defined custom field' },
      { path: 'address.planet', message: /is not a key of address/ },
    ],
  });
  const quoting = await upload('contacts', 'email', 'email,firstName\na@import.test,"unclosed\nb@import.test,Bee\n');
  t.equal(quoting.statusCode, 400, 'broken quoting');
  t.match(quoting.json(), { code: 'validation_failed', errors: [{ path: 'body', message: /Quote/i }] });
  t.match((await upload('contacts', 'email', '')).json(), { code: 'validation_failed', errors: [{ path: 'body' }] }, 'an empty CSV has no header');
  t.match((await upload('contacts', 'email', 'firstName\nAna\n')).json(), { errors: [{ path: 'email', message: /needed to match rows by email/ }] });
  t.match((await upload('contacts', 'id', 'id,email\n')).statusCode, 202, 'a header alone is an empty import');
  t.match((await upload('contacts', 'email', 'id,email\n')).json(), { errors: [{ path: 'id', message: 'only with idProperty=id' }] });
  t.match((await upload('deals', 'email', 'name\n')).json(), { errors: [{ path: 'idProperty', message: 'must be id for deals' }] });
  t.match((await upload('tickets', 'id', 'id\n')).json(), { code: 'validation_failed', errors: [{ path: 'entity' }] });
  const json = await req('POST', '/v1/imports?entity=contacts&idProperty=email', '{"email":"a@b.c"}', admin, { 'content-type': 'application/json' });
  t.equal(json.statusCode, 415);
  t.equal((await upload('contacts', 'email', 'email\n', admin, 'text/plain')).statusCode, 415);
  const huge = await upload('contacts', 'email', 'email\n', admin, 'text/csv', { 'content-length': String(2 ** 31) });
  t.match({ status: huge.statusCode, code: huge.json().code }, { status: 413, code: 'payload_too_large' }, 'over 1 GiB announced: refused before reading');
  t.equal(await jobs(), before + 1, 'only the header-only import was stored');
  t.equal((await upload('contacts', 'email', 'email\nx@import.test\n', admin, 'text/csv; charset=utf-8')).statusCode, 202, 'charset parameter');
});

t.test('roles: write access to the entity; sales rows limited by its write scope; readers of a job', async (t) => {
  const theirs = await created('/v1/contacts', { firstName: 'Theirs', email: 'theirs@import.test', ownerId: manager.id });
  const res = await upload('contacts', 'email', 'email,firstName\nmine@import.test,Mine\ntheirs@import.test,Changed\n', sales);
  t.equal(res.statusCode, 202, 'sales may import contacts');
  await drain();
  const job = (await req('GET', `/v1/imports/${res.json().id}`, undefined, sales)).json();
  t.match(job, { status: 'completed', created: 1, failed: 1, createdById: sales.id, errors: [{ row: 2, message: /only contacts of yours/ }] });
  t.match(await byEmail('mine@import.test'), [{ ownerId: sales.id, teamId: team }], 'written as the actor who started it');
  t.match(await byEmail('theirs@import.test'), [{ firstName: 'Theirs', version: theirs.version }]);
  const audit = await db.select().from(auditLogs).where(and(eq(auditLogs.entityType, 'contact'), eq(auditLogs.actorId, sales.id)));
  t.equal(audit.length, 1, 'audited as the starter');

  t.equal((await req('GET', `/v1/imports/${job.id}`, undefined, manager)).statusCode, 200, 'manager reads any job');
  t.equal((await req('GET', `/v1/imports/${job.id}`, undefined, support)).statusCode, 404, 'another user does not see it');
  const salesList = (await req('GET', '/v1/imports', undefined, sales)).json().data;
  t.same(salesList.map((j: { id: string }) => j.id), [job.id], 'sales lists its own jobs');
  const adminList = (await req('GET', '/v1/imports?limit=2', undefined, admin)).json();
  t.equal(adminList.data[0].id, job.id, 'newest first');
  t.ok(adminList.nextCursor);
  const next = (await req('GET', `/v1/imports?limit=2&cursor=${adminList.nextCursor}`, undefined, admin)).json();
  t.notOk(next.data.some((j: { id: string }) => adminList.data.some((k: { id: string }) => k.id === j.id)), 'keyset pages do not overlap');

  t.equal((await upload('deals', 'id', 'name\n', support)).statusCode, 403, 'support may not import deals');
  t.equal((await upload('orders', 'id', 'total\n', marketing)).statusCode, 403, 'marketing may not import orders');
  t.equal((await upload('contacts', 'email', 'email\n', viewer)).statusCode, 403, 'viewer may not import');
  t.equal((await req('GET', '/v1/imports', undefined, viewer)).statusCode, 403);
  t.equal((await req('GET', `/v1/imports/${job.id}`, undefined, viewer)).statusCode, 403);
  t.equal((await upload('contacts', 'email', 'email\n', null)).statusCode, 401);
  t.equal((await req('GET', '/v1/imports', undefined, null)).statusCode, 401);
  t.equal((await upload('leads', 'email', 'email\nlead@import.test\n', marketing)).statusCode, 202, 'marketing may import leads');
});

t.test('Idempotency-Key: a retried upload is answered once, one job', async (t) => {
  const body = 'email\nidem@import.test\n';
  const a = await upload('contacts', 'email', body, admin, 'text/csv', { 'idempotency-key': 'imp-1' });
  const b = await upload('contacts', 'email', body, admin, 'text/csv', { 'idempotency-key': 'imp-1' });
  t.equal(a.statusCode, 202);
  t.equal(b.statusCode, 202);
  t.equal(b.headers['idempotent-replayed'], 'true');
  t.equal(b.json().id, a.json().id);
});

t.test('a job resumes after a crash: every row applied exactly once', async (t) => {
  const n = 12;
  const lines = Array.from({ length: n }, (_, i) => `resume${i}@import.test,R${i}`);
  await drain(); // older jobs out of the way: the next claim is this one
  const res = await upload('contacts', 'email', `email,firstName\n${lines.join('\n')}\n`, admin, 'text/csv', { 'x-request-id': 'import-resume-1' });
  const id = res.json().id;
  // chunks of 5 rows: the registered worker's 500 would need a file too slow for in-process PGlite
  t.equal(await imports.runDue(db, { maxChunks: 1, keepLease: true, chunkRows: 5 }), 5, 'one chunk, then the worker "dies"');
  const [mid] = await db.select().from(importTable).where(eq(importTable.id, id));
  t.match(mid, { status: 'running', processed: 5, created: 5 });
  t.equal((await db.select().from(importRows).where(eq(importRows.importId, id))).length, n - 5, 'the applied chunk\'s rows are gone');
  t.ok(mid!.leaseUntil! > new Date(), 'its lease still holds');
  t.equal(await imports.runDue(db), 0, 'nobody takes a leased job');
  await db.update(importTable).set({ leaseUntil: new Date(Date.now() - 1000) }).where(eq(importTable.id, id));
  await drain();
  const job = (await req('GET', `/v1/imports/${id}`)).json();
  t.match(job, { status: 'completed', processed: n, created: n, updated: 0, failed: 0 });
  const creates = await db.select().from(auditLogs).where(and(eq(auditLogs.requestId, 'import-resume-1'), eq(auditLogs.action, 'create')));
  t.equal(creates.length, n, 'one create per row, none twice');
  t.equal(new Set(creates.map((c) => c.entityId)).size, n);
  t.equal((await db.select().from(importRows).where(eq(importRows.importId, id))).length, 0);
});

t.test('GraphQL: createImport inline, importJob, importJobs; the same errors', async (t) => {
  const create = `mutation($c: String!, $e: ImportEntity! = contacts, $p: String! = "email") {
    createImport(entity: $e, idProperty: $p, format: csv, content: $c) { id status totalRows errors { row message } } }`;
  const made = await h.gql(admin, create, { c: '\uFEFFemail,firstName\r\ngql@import.test,سارة\r\nbad,X\r\n' });
  t.match(made.body.data?.createImport, { status: 'queued', totalRows: 2, errors: [] });
  const id = made.body.data!.createImport.id;
  await drain();
  const one = await h.gql(admin, `query($id: ID!) { importJob(id: $id) { id entity format status processed created failed errors { row message } } }`, { id });
  t.match(one.body.data?.importJob, { id, entity: 'contacts', format: 'csv', status: 'completed', processed: 2, created: 1, failed: 1, errors: [{ row: 2, message: /email/ }] });
  t.match(await byEmail('gql@import.test'), [{ firstName: 'سارة' }]);
  const list = await h.gql(admin, '{ importJobs(first: 1) { edges { node { id errors { row } } cursor } pageInfo { hasNextPage endCursor } } }');
  t.match(list.body.data?.importJobs, { edges: [{ node: { id, errors: [{ row: 2 }] } }], pageInfo: { hasNextPage: true } });
  const nd = await h.gql(admin, `mutation { createImport(entity: leads, idProperty: "email", format: ndjson, content: "{\\"email\\":\\"l@import.test\\"}") { totalRows } }`);
  t.match(nd.body.data?.createImport, { totalRows: 1 });

  const code = (r: Awaited<ReturnType<typeof h.gql>>) => r.body.errors?.[0]?.extensions.code;
  t.equal(code(await h.gql(admin, create, { c: 'email,shoeSize\n' })), 'validation_failed');
  t.equal(code(await h.gql(support, create, { c: 'name\n', e: 'deals', p: 'id' })), 'forbidden');
  t.equal(code(await h.gql(viewer, create, { c: 'email\n' })), 'forbidden');
  t.equal(code(await h.gql(viewer, '{ importJobs { edges { cursor } } }')), 'forbidden');
  t.equal(code(await h.gql(support, `query($id: ID!) { importJob(id: $id) { id } }`, { id })), 'not_found');
  t.equal(code(await h.gql(undefined, create, { c: 'email\n' })), 'unauthenticated');
});
