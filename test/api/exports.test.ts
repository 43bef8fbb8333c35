import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import t from 'tap';
import { startTestApp, type TestUser } from '../helpers/app.js';
import { createExportService, type ExportCollection } from '../../src/modules/integration/export.service.js';
import { Contact } from '../../src/modules/customer/index.js';
import { createModules } from '../../src/app.js';
import type { Executor } from '../../src/platform/db/client.js';

// Streamed exports (GET /v1/<collection>/export?format=csv|ndjson): the list's filters, sort, q,
// fields and scope; CSV columns, lists, custom fields and the formula guard; errors before any byte.

const h = await startTestApp();
t.teardown(() => h.close());
const admin = h.user('admin');
const teamA = randomUUID();
const salesA = h.user('sales', { teamIds: [teamA] });
const salesB = h.user('sales', { teamIds: [randomUUID()] });

const send = async (method: 'GET' | 'POST', url: string, who: TestUser | null, payload?: unknown) => {
  const res = await h.request({ method, url, headers: who ? who.auth : {}, ...(payload === undefined ? {} : { payload: payload as object }) });
  if (method === 'POST' && res.statusCode >= 300) throw new Error(`${url}: ${res.body}`);
  return res;
};
const get = (url: string, who: TestUser | null = admin) => send('GET', url, who);
const csvOf = (body: string): string[][] => parse(body, { bom: true });
const ndjsonOf = (body: string): any[] => body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const today = new Date().toISOString().slice(0, 10);

for (const d of [{ key: 'tier', type: 'select', options: ['gold', 'silver'] }, { key: 'topics', type: 'multiselect', options: ['a;b', 'c'] }]) {
  await send('POST', '/v1/custom-fields', admin, { entity: 'contact', label: d.key, ...d });
}
const tag = `x${randomUUID().slice(0, 6)}`;
const ada = (await send('POST', '/v1/contacts', admin, {
  firstName: 'Ada', lastName: 'Lovelace', email: `ada-${tag}@example.com`, phone: '+442071234567', tags: [tag, 'vip'],
  jobTitle: 'Analyst, "first", and\nprogrammer', address: { city: 'London', country: 'GB' }, externalIds: { shopify: '8812' },
  custom: { tier: 'gold', topics: ['a;b', 'c'] },
})).json();
const evil = (await send('POST', '/v1/contacts', admin, {
  firstName: '=HYPERLINK("http://evil.example","x")', lastName: 'سارة', email: `evil-${tag}@example.com`, tags: [tag], source: '-2+3',
})).json();

t.test('CSV: headers, flattened objects, custom fields, lists, quoting, the formula guard', async (t) => {
  const res = await get(`/v1/contacts/export?format=csv&filter[tags][contains]=${tag}&sort=firstName`);
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
  t.equal(res.headers['content-disposition'], `attachment; filename="contacts-${today}.csv"`);
  t.equal(res.headers['cache-control'], 'no-store');
  t.ok(res.body.startsWith('\uFEFFid,'), 'a UTF-8 BOM, then the header');
  t.match(res.body, /\r\n/, 'CRLF line ends');
  const [header, ...rows] = csvOf(res.body) as [string[], ...string[][]];
  t.same(header.slice(0, 5), ['id', 'createdAt', 'updatedAt', 'version', 'deletedAt']);
  const at = (row: string[], col: string) => row[header.indexOf(col)];
  for (const col of ['address.line1', 'address.city', 'address.country', 'custom.tier', 'custom.topics', 'tags', 'externalIds', 'ownerId']) {
    t.ok(header.includes(col), `column ${col}`);
  }
  t.notOk(header.includes('address'), 'objects are flattened');
  t.notOk(header.includes('custom'), 'custom too');
  t.notOk(header.includes('company') || header.includes('owner'), 'no includes');
  t.same(rows.map((r) => at(r, 'id')), [evil.id, ada.id], 'the sort applies ("=" before "A")');
  const [e, a] = rows as [string[], string[]];
  t.equal(at(a, 'firstName'), 'Ada');
  t.equal(at(a, 'jobTitle'), 'Analyst, "first", and\nprogrammer', 'commas, quotes and newlines survive');
  t.equal(at(a, 'address.city'), 'London');
  t.equal(at(a, 'address.line1'), '', 'null is an empty cell');
  t.equal(at(a, 'tags'), `${tag};vip`, 'string lists are ;-joined');
  t.equal(at(a, 'custom.tier'), 'gold');
  t.equal(at(a, 'custom.topics'), '["a;b","c"]', 'a list whose items hold ; is a JSON array');
  t.same(JSON.parse(at(a, 'externalIds') as string), { shopify: '8812' });
  t.equal(at(a, 'phone'), '+442071234567', 'a phone is not taken for a formula');
  t.equal(at(a, 'emailOptIn'), 'false');
  t.equal(at(a, 'version'), '1');
  t.equal(at(e, 'firstName'), `'=HYPERLINK("http://evil.example","x")`, 'a formula gets a leading quote');
  t.equal(at(e, 'source'), "'-2+3");
  t.equal(at(e, 'lastName'), 'سارة');
  t.equal(at(e, 'externalIds'), '', 'an empty object is an empty cell');
});

t.test('fields chooses the columns; NDJSON is the records as the list gives them', async (t) => {
  const res = await get(`/v1/contacts/export?format=csv&fields=email,address,custom&filter[tags][contains]=${tag}&sort=firstName`);
  const [header] = csvOf(res.body);
  t.same(header, ['id', 'email', 'address.line1', 'address.line2', 'address.city', 'address.region', 'address.postalCode', 'address.country', 'custom.tier', 'custom.topics']);

  const nd = await get(`/v1/contacts/export?format=ndjson&filter[tags][contains]=${tag}&sort=firstName`);
  t.equal(nd.statusCode, 200);
  t.equal(nd.headers['content-type'], 'application/x-ndjson');
  t.equal(nd.headers['content-disposition'], `attachment; filename="contacts-${today}.ndjson"`);
  const list = (await get(`/v1/contacts?filter[tags][contains]=${tag}&sort=firstName`)).json().data;
  t.same(ndjsonOf(nd.body), list, 'the same records, unaltered (no formula guard in JSON)');
  t.ok(nd.body.endsWith('\n'));
  const sparse = await get(`/v1/contacts/export?format=ndjson&fields=email&filter[tags][contains]=${tag}&sort=firstName`);
  t.same(ndjsonOf(sparse.body), [{ id: evil.id, email: evil.email }, { id: ada.id, email: ada.email }]);
  const searched = await get('/v1/contacts/export?format=ndjson&q=lovelace');
  t.same(ndjsonOf(searched.body).map((c) => c.id), [ada.id], 'q searches as in the list');
  const defaulted = await get(`/v1/contacts/export?filter[tags][contains]=${tag}`);
  t.equal(defaulted.headers['content-type'], 'text/csv; charset=utf-8', 'csv is the default format');
});

t.test('pages through the whole collection (several pages of 200), in the list order', async (t) => {
  const bulk = `b${randomUUID().slice(0, 6)}`;
  // distinct last names: 450 people called only 'Bulk000' … 'Bulk449' are all alike, and each write
  // stored its 50 most similar contacts as duplicate candidates, most of this test's time
  const records = Array.from({ length: 450 }, (_, i) => ({ firstName: `Bulk${String(i).padStart(3, '0')}`, lastName: randomUUID(), source: bulk }));
  const batch = await send('POST', '/v1/contacts/batch', admin, { operation: 'create', records });
  t.equal(batch.json().results.filter((r: any) => r.status === 'created').length, 450);
  const res = await get(`/v1/contacts/export?format=csv&fields=firstName&filter[source][eq]=${bulk}&sort=-firstName`);
  const [header, ...rows] = csvOf(res.body) as [string[], ...string[][]];
  t.same(header, ['id', 'firstName']);
  t.equal(rows.length, 450, 'every record once');
  t.equal(new Set(rows.map((r) => r[0])).size, 450);
  t.same(rows.map((r) => r[1]), records.map((r) => r.firstName).reverse(), 'sorted as asked, across pages');
  const nd = await get(`/v1/contacts/export?format=ndjson&filter[source][eq]=${bulk}&filter[firstName][startsWith]=Bulk1`);
  t.equal(ndjsonOf(nd.body).length, 100, 'filters AND together');
  const empty = await get('/v1/contacts/export?format=csv&fields=email&filter[source][eq]=nothing-here');
  t.equal(empty.body, '\uFEFFid,email\r\n', 'no records: the header alone');
  t.equal((await get('/v1/contacts/export?format=ndjson&filter[source][eq]=nothing-here')).body, '');
});

t.test('the stream reads a page only when the previous one has been sent', async (t) => {
  const calls: Array<string | undefined> = [];
  const pages = [['a', 'b'], ['c'], ['d']];
  const fake: ExportCollection = {
    name: 'things', dto: Contact, fieldNames: ['firstName'], query: { sortable: [], filterable: [] },
    list: async (_ctx, q) => {
      calls.push(q.cursor);
      t.equal(q.limit, 200, 'pages of 200');
      const n = q.cursor ? Number(q.cursor) : 0;
      return { items: (pages[n] ?? []).map((id) => ({ id, firstName: id.toUpperCase() })), cursors: () => [], nextCursor: n + 1 < pages.length ? String(n + 1) : null };
    },
  };
  const exports = createExportService({ customFields: { listFor: async () => [] }, now: () => new Date('2030-01-02T03:04:05Z') });
  const ctx = { actor: { type: 'user', id: admin.id, role: 'admin', teamIds: [] }, requestId: 'r' } as never;
  const d = await exports.open(ctx, fake, { format: 'csv' });
  t.equal(d.filename, 'things-2030-01-02.csv');
  t.same(calls, [undefined], 'open reads the first page (to fail before answering)');
  t.equal((await d.body.next()).value, '\uFEFFid,firstName\r\na,A\r\nb,B\r\n');
  t.same(calls, [undefined], 'nothing more read yet');
  t.equal((await d.body.next()).value, 'c,C\r\n');
  t.same(calls, [undefined, '1']);
  t.equal((await d.body.next()).value, 'd,D\r\n');
  t.ok((await d.body.next()).done);
  t.same(calls, [undefined, '1', '2']);

  // a failure after the first page can only end the download early (a chunked response without its
  // last chunk, which clients report as incomplete), never pass for a complete file
  const failing = { ...fake, list: async (_ctx: unknown, q: { cursor?: string | undefined }) => {
    if (q.cursor) throw new Error('database gone');
    return { items: [{ id: 'a', firstName: 'A' }], cursors: () => [], nextCursor: '1' };
  } } as ExportCollection;
  const broken = await exports.open(ctx, failing, { format: 'ndjson' });
  t.equal((await broken.body.next()).value, '{"id":"a","firstName":"A"}\n');
  await t.rejects(broken.body.next(), /database gone/);
});

t.test('a bad query is a 400 problem, before any byte of a file', async (t) => {
  for (const [q, path] of [
    ['filter[nope][eq]=1', 'filter'],
    ['filter[email][between]=1', 'filter'],
    ['sort=nope', 'sort'],
    ['fields=email,nope', 'fields'],
    ['format=xml', 'format'],
    ['limit=10', 'limit'],
    ['cursor=abc', 'cursor'],
  ] as const) {
    const res = await get(`/v1/contacts/export?${q}`);
    t.equal(res.statusCode, 400, q);
    t.match(res.headers['content-type'], /application\/problem\+json/, `${q}: a problem, not a file`);
    t.equal(res.headers['content-disposition'], undefined);
    t.match(res.json(), { code: 'validation_failed' }, q);
    t.ok(JSON.stringify(res.json().errors).includes(path), `${q} names ${path}`);
  }
  t.equal((await get('/v1/orders/export?q=x')).statusCode, 400, 'q only where the list searches');
  t.equal((await get('/v1/contacts/export?includeDeleted=true', salesA)).statusCode, 403, 'deleted records: admin and manager');
});

t.test('scope: sales export their own and their team\'s deals and leads only', async (t) => {
  const p = (await send('POST', '/v1/pipelines', admin, { name: 'Export', stages: [{ name: 'Open', probability: 10 }] })).json();
  const deal = (who: TestUser, name: string) => send('POST', '/v1/deals', who, { name, pipelineId: p.id, stageId: p.stages[0].id });
  const mine = (await deal(salesA, `${tag} mine`)).json();
  await deal(salesB, `${tag} theirs`);
  const unowned = (await deal(admin, `${tag} unowned`)).json();
  const ids = async (url: string, who: TestUser) => ndjsonOf((await get(url, who)).body).map((x) => x.id);
  t.same(await ids(`/v1/deals/export?format=ndjson&filter[name][startsWith]=${tag}`, salesA), [mine.id]);
  t.equal((await ids(`/v1/deals/export?format=ndjson&filter[name][startsWith]=${tag}`, admin)).length, 3);
  t.ok((await ids('/v1/deals/export?format=ndjson', salesA)).every((id) => id !== unowned.id));

  const lead = (await send('POST', '/v1/leads', salesA, { firstName: 'Lead', lastName: tag })).json();
  await send('POST', '/v1/leads', salesB, { firstName: 'Other', lastName: tag });
  t.same(await ids(`/v1/leads/export?format=ndjson&filter[lastName][eq]=${tag}`, salesA), [lead.id]);
  const csv = csvOf((await get(`/v1/leads/export?filter[lastName][eq]=${tag}`, salesA)).body);
  t.equal(csv.length, 2, 'CSV too: the header and the one lead');
});

t.test('roles: whoever may read the collection; 403 otherwise; 401 without a token', async (t) => {
  const contact = (await send('POST', '/v1/contacts', admin, { firstName: 'Buyer' })).json();
  await send('POST', '/v1/companies', admin, { name: `Export ${tag}` });
  await send('POST', '/v1/activities', admin, { type: 'note', subject: 'Exported', contactId: contact.id });
  await send('POST', '/v1/orders', admin, {
    externalId: `ORD-${tag}`, contactId: contact.id, status: 'paid', total: '3.000', currency: 'USD', placedAt: '2030-05-01T10:00:00Z',
    lines: [{ sku: 'A', name: 'Dates', quantity: 2, unitPrice: '1.500' }],
  });
  await send('POST', '/v1/feedback', admin, { type: 'nps', score: 9, contactId: contact.id });
  await send('POST', '/v1/tickets', admin, { subject: `Broken lamp ${tag}`, requesterId: contact.id, priority: 'high' });
  await send('POST', '/v1/segments', admin, { name: `Export ${tag}`, rules: { filter: { tags: { eq: 'vip' } } } });
  await send('POST', '/v1/campaigns', admin, { name: `Export ${tag}`, channel: 'ads', spend: '10.00', currency: 'USD' });
  await send('POST', '/v1/workflows', admin, { name: `Export ${tag}`, enabled: false, trigger: { event: 'contact.created' }, actions: [{ type: 'add_tag', params: { tag: 'x' } }] });
  const all = ['contacts', 'companies', 'activities', 'leads', 'deals', 'orders', 'feedback', 'tickets', 'segments', 'campaigns', 'workflows'];
  for (const c of all) {
    for (const format of ['csv', 'ndjson']) {
      const res = await get(`/v1/${c}/export?format=${format}`);
      t.equal(res.statusCode, 200, `${c} ${format}`);
      t.ok(res.body.length > 0, `${c} ${format} has content`);
    }
    t.equal((await get(`/v1/${c}/export`, null)).statusCode, 401, `${c} without a token`);
  }
  const order = csvOf((await get(`/v1/orders/export?filter[externalId][eq]=ORD-${tag}`)).body);
  const lines = order[1]?.[order[0]?.indexOf('lines') ?? -1] as string;
  t.match(JSON.parse(lines), [{ sku: 'A', name: 'Dates', quantity: 2, unitPrice: '1.50' }], 'lists of objects are JSON');
  const tickets = ndjsonOf((await get(`/v1/tickets/export?format=ndjson&q=${encodeURIComponent(`lamp ${tag}`)}`)).body);
  t.match(tickets, [{ subject: `Broken lamp ${tag}`, requesterId: contact.id, priority: 'high', status: 'new' }], 'tickets, searched with q');

  const support = h.user('support');
  const marketing = h.user('marketing');
  const viewer = h.user('viewer');
  t.equal((await get('/v1/deals/export', support)).statusCode, 403, 'support: no deals');
  t.equal((await get('/v1/leads/export', support)).statusCode, 403, 'support: no leads');
  t.equal((await get('/v1/contacts/export', support)).statusCode, 200, 'support reads contacts');
  t.equal((await get('/v1/leads/export', marketing)).statusCode, 200);
  t.equal((await get('/v1/deals/export', marketing)).statusCode, 200);
  t.equal((await get('/v1/tickets/export', marketing)).statusCode, 403, 'marketing: no tickets');
  t.equal((await get('/v1/tickets/export', support)).statusCode, 200, 'support reads tickets');
  t.equal((await get('/v1/campaigns/export', support)).statusCode, 403, 'support: no campaigns');
  t.equal((await get('/v1/workflows/export', support)).statusCode, 200, 'workflows are configuration: every role reads');
  const campaigns = ndjsonOf((await get(`/v1/campaigns/export?format=ndjson&filter[name][eq]=${encodeURIComponent(`Export ${tag}`)}`, marketing)).body);
  t.match(campaigns, [{ name: `Export ${tag}`, channel: 'ads', spend: '10.00', currency: 'USD', status: 'draft' }]);
  for (const c of all) t.equal((await get(`/v1/${c}/export`, viewer)).statusCode, 200, `viewer ${c}`);
  t.equal((await get('/v1/orders/export', h.user('manager'))).statusCode, 200);
});

t.test('a CSV export of the writable fields imports back unchanged', async (t) => {
  // the imports worker as the server registers it, driven by hand (workers are off in tests)
  const db = h.db.database.db as Executor;
  const { all } = createModules({ config: h.config, db, signAccessToken: (c) => h.app.jwt.sign(c) });
  const worker = (all as unknown as Array<{ workers?: Array<{ name: string; run: (x: Executor) => Promise<number> }> }>)
    .flatMap((m) => m.workers ?? []).find((w) => w.name === 'imports');
  t.ok(worker, 'the imports worker');
  const fields = 'firstName,lastName,email,phone,jobTitle,tags,address,externalIds,emailOptIn,custom';
  const csv = (await get(`/v1/contacts/export?fields=${fields}&filter[id][eq]=${ada.id}`)).body;
  const withoutId = csvOf(csv).map((row) => row.slice(1));
  const upload = await h.request({
    method: 'POST', url: '/v1/imports?entity=contacts&idProperty=email', headers: { ...admin.auth, 'content-type': 'text/csv' },
    payload: `\uFEFF${stringify(withoutId)}`,
  });
  t.equal(upload.statusCode, 202, upload.body);
  while ((await worker!.run(db)) > 0);
  const job = (await get(`/v1/imports/${upload.json().id}`)).json();
  t.match(job, { status: 'completed', updated: 1, failed: 0, created: 0 }, JSON.stringify(job.errors));
  const after = (await get(`/v1/contacts/${ada.id}`)).json();
  t.equal(after.version, ada.version, 'nothing changed: lists, objects, custom fields and quoting read back as written');
  t.same(after, ada);
});
